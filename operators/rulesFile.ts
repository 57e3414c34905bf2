/**
 * The rules file (JSON or YAML): thresholds, windows and actions of DESIGN.md's rules, the allowlist
 * and the static blocklist. Validated with zod; every field is optional and defaults to
 * operators/defaultRules.ts. `version` is recorded on every decision: the file's own, or a hash of
 * the resolved content so that two different rule sets never share a version.
 *
 * Phone numbers in allow/block lists may be given raw (`msisdns`, hashed at load with the PII key,
 * never kept) or already hashed (`msisdn_hashes`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TaplineError } from '../pipeline/errors.ts';
import { defaultRules, type Action } from './defaultRules.ts';

const D = defaultRules.rules;
const action = z.enum(['REVIEW', 'BLOCK']);
const windowMs = z.number().int().positive();
const count = z.number().int().nonnegative();
const amounts = z.record(z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code'), z.number().int().nonnegative());
const list = z
  .object({
    accounts: z.array(z.string().min(1)).default([]),
    msisdns: z.array(z.string().min(1)).default([]),
    msisdn_hashes: z.array(z.string().min(1)).default([]),
    devices: z.array(z.string().min(1)).default([]),
  })
  .strict();

const rulesFileSchema = z
  .object({
    version: z.string().min(1).max(64).optional(),
    lateness_ms: z.number().int().nonnegative().default(defaultRules.lateness_ms),
    allowlist: list.prefault({}),
    blocklist: list.prefault({}),
    rules: z
      .object({
        account_burst: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.account_burst.action),
            window_ms: windowMs.default(D.account_burst.window_ms),
            more_than: count.default(D.account_burst.more_than),
          })
          .strict()
          .prefault({}),
        account_declines: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.account_declines.action),
            window_ms: windowMs.default(D.account_declines.window_ms),
            at_least: count.default(D.account_declines.at_least),
          })
          .strict()
          .prefault({}),
        msisdn_daily_amount: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.msisdn_daily_amount.action),
            window_ms: windowMs.default(D.msisdn_daily_amount.window_ms),
            more_than: amounts.default(D.msisdn_daily_amount.more_than),
          })
          .strict()
          .prefault({}),
        msisdn_many_accounts: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.msisdn_many_accounts.action),
            window_ms: windowMs.default(D.msisdn_many_accounts.window_ms),
            at_least: count.default(D.msisdn_many_accounts.at_least),
          })
          .strict()
          .prefault({}),
        device_many_accounts: z
          .object({
            enabled: z.boolean().default(true),
            window_ms: windowMs.default(D.device_many_accounts.window_ms),
            tiers: z
              .array(z.object({ at_least: count, action }).strict())
              .min(1)
              .default(D.device_many_accounts.tiers),
          })
          .strict()
          .prefault({}),
        account_many_devices: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.account_many_devices.action),
            window_ms: windowMs.default(D.account_many_devices.window_ms),
            at_least: count.default(D.account_many_devices.at_least),
          })
          .strict()
          .prefault({}),
        ip_jump: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.ip_jump.action),
            window_ms: windowMs.default(D.ip_jump.window_ms),
            min_distance_km: z.number().nonnegative().default(D.ip_jump.min_distance_km),
            min_speed_kmh: z.number().nonnegative().default(D.ip_jump.min_speed_kmh),
          })
          .strict()
          .prefault({}),
        monthly_cap: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.monthly_cap.action),
            timezone: z.literal('Asia/Seoul').default('Asia/Seoul'),
            more_than: amounts.default(D.monthly_cap.more_than),
          })
          .strict()
          .prefault({}),
        blocklist: z
          .object({
            enabled: z.boolean().default(true),
            action: action.default(D.blocklist.action),
            unpaid_block_ms: windowMs.default(D.blocklist.unpaid_block_ms),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

type ParsedRules = z.infer<typeof rulesFileSchema>;

export interface EntityLists {
  accounts: ReadonlySet<string>;
  msisdnHashes: ReadonlySet<string>;
  devices: ReadonlySet<string>;
}

/** The resolved rule set the detector uses. */
export interface Rules {
  version: string;
  lateness_ms: number;
  allowlist: EntityLists;
  blocklist: EntityLists;
  rules: ParsedRules['rules'];
}

export type RuleConfig<K extends keyof Rules['rules']> = Rules['rules'][K];
export type { Action };

export interface ResolveOptions {
  /** Hashes a raw phone number (schemas/msisdn.ts); needed only when a list names `msisdns`. */
  hashMsisdn?: (raw: string) => string;
}

function resolveList(l: ParsedRules['allowlist'], opts: ResolveOptions, where: string): EntityLists {
  if (l.msisdns.length > 0 && !opts.hashMsisdn)
    throw new TaplineError('RULES_INVALID', `${where}.msisdns needs the PII key to hash the numbers.`);
  const hashes = new Set(l.msisdn_hashes);
  for (const raw of l.msisdns) hashes.add(opts.hashMsisdn!(raw));
  return { accounts: new Set(l.accounts), msisdnHashes: hashes, devices: new Set(l.devices) };
}

/** Validates a parsed document (object) into rules; throws RULES_INVALID naming every problem. */
export function resolveRules(doc: unknown, opts: ResolveOptions = {}, source = 'rules'): Rules {
  const parsed = rulesFileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new TaplineError('RULES_INVALID', `${source} is invalid:\n  ${problems.join('\n  ')}`);
  }
  const p = parsed.data;
  const version =
    p.version ??
    `sha256:${createHash('sha256')
      .update(JSON.stringify({ ...p, version: undefined }))
      .digest('hex')
      .slice(0, 12)}`;
  return {
    version,
    lateness_ms: p.lateness_ms,
    allowlist: resolveList(p.allowlist, opts, 'allowlist'),
    blocklist: resolveList(p.blocklist, opts, 'blocklist'),
    rules: p.rules,
  };
}

/** DESIGN.md's defaults. */
export function defaultRuleSet(): Rules {
  return resolveRules({}, {}, 'default rules');
}

/** Reads and validates a rules file (JSON is YAML too). */
export function loadRulesFile(path: string, opts: ResolveOptions = {}): Rules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TaplineError('RULES_INVALID', `cannot read rules file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new TaplineError('RULES_INVALID', `rules file ${path} is not valid JSON or YAML.`, { cause: e });
  }
  return resolveRules(doc, opts, `rules file ${path}`);
}

export interface RulesWatcher {
  close(): void;
}

/**
 * Reloads the rules file when it changes and hands the new rule set to `onChange`; a file that
 * does not validate is reported to `onError` and the previous rules stay in force.
 */
export function watchRules(
  path: string,
  onChange: (rules: Rules) => void,
  onError: (e: unknown) => void = () => {},
  opts: ResolveOptions = {},
): RulesWatcher {
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    try {
      const rules = loadRulesFile(path, opts);
      if (rules.version === last) return;
      last = rules.version;
      onChange(rules);
    } catch (e) {
      onError(e);
    }
  };
  try {
    last = loadRulesFile(path, opts).version;
  } catch {
    last = undefined;
  }
  // Editors replace files by rename, which a watch on the file itself loses: watch the folder,
  // filter by name, and debounce the bursts of events one save makes.
  const name = basename(path);
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    if (file !== null && file !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 50);
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
