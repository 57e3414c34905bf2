/**
 * The contracts file: versioned terms (carrier fee per carrier, PG fee, platform share per platform with
 * a `default`), each in force from a date in Asia/Seoul, and the minimum payout per party type. The
 * latest version whose effective_from is not after the tap's local date applies to the tap, and to every
 * later adjustment of it. Rates are decimal strings, parsed exactly.
 */
import { readFile } from 'node:fs/promises';
import { LocalDate } from '@js-joda/core';
import { z } from 'zod';
import { TaplineError } from '../pipeline/errors.ts';
import { carriers, type Carrier } from '../schemas/types.ts';
import { contractWeights, type SplitWeights } from './allocate.ts';
import { compareToOne, parseDecimal, type DecimalRate } from './decimal.ts';
import { startOfDayMs } from './period.ts';

export const partyTypes = ['carrier', 'creator', 'pg', 'platform'] as const;
export type PartyType = (typeof partyTypes)[number];

/** Minimum payouts when the file names none: creators ₩10,000, everyone else nothing. */
export const defaultMinPayout: Readonly<Record<PartyType, bigint>> = {
  carrier: 0n,
  creator: 10_000n,
  pg: 0n,
  platform: 0n,
};

export interface ContractTerms {
  /** Position in effective-date order, 0 for the oldest: the terms version settlement groups by. */
  version: number;
  /** `YYYY-MM-DD`, a date in Asia/Seoul. */
  effectiveFrom: string;
  /** 00:00 of effectiveFrom in Asia/Seoul, epoch ms UTC. */
  effectiveFromMs: number;
  carrierFee: Readonly<Record<Carrier, DecimalRate>>;
  pgFee: DecimalRate;
  platformShare: ReadonlyMap<string, DecimalRate>;
  defaultPlatformShare: DecimalRate;
}

export interface Contracts {
  /** Oldest first. */
  terms: readonly ContractTerms[];
  minPayout: Readonly<Record<PartyType, bigint>>;
  /** Split weights per version, carrier and platform, computed once. */
  weightCache: Map<string, SplitWeights>;
}

const rate = z
  .string({ error: 'must be a decimal string such as "0.05" (numbers are refused: rates are exact)' })
  .refine((s) => parseDecimal(s) !== undefined, 'must be a decimal string such as "0.05"')
  .refine((s) => compareToOne(parseDecimal(s)!) <= 0, 'must be between 0 and 1');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD (in Asia/Seoul)')
  .refine((s) => {
    try {
      LocalDate.parse(s);
      return true;
    } catch {
      return false;
    }
  }, 'is not a real calendar date');

const minimum = z
  .number()
  .int('must be an integer of minor units')
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER);

const carrierFees = z.object(
  Object.fromEntries(carriers.map((c) => [c, rate])) as Record<Carrier, typeof rate>,
);

const contractsSchema = z
  .object({
    min_payout: z
      .object({
        carrier: minimum.optional(),
        creator: minimum.optional(),
        pg: minimum.optional(),
        platform: minimum.optional(),
      })
      .strict()
      .optional(),
    terms: z
      .array(
        z
          .object({
            effective_from: isoDate,
            carrier_fee: carrierFees.strict(),
            pg_fee: rate,
            platform_share: z.record(z.string().min(1), rate).refine((r) => 'default' in r, {
              message: 'needs a "default" entry for platforms not named',
            }),
          })
          .strict(),
      )
      .min(1, 'needs at least one version of terms'),
  })
  .strict();

/** Validates a parsed contracts document; `source` names the file in messages. */
export function parseContracts(document: unknown, source = 'contracts'): Contracts {
  const parsed = contractsSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new TaplineError(
      'CONTRACTS_INVALID',
      `${source} is not a valid contracts file:\n  ${problems.join('\n  ')}`,
    );
  }
  const sorted = [...parsed.data.terms].sort((a, b) => (a.effective_from < b.effective_from ? -1 : 1));
  const problems: string[] = [];
  const terms = sorted.map((t, version): ContractTerms => {
    if (version > 0 && sorted[version - 1]!.effective_from === t.effective_from) {
      problems.push(`terms: two versions take effect on ${t.effective_from}; keep one`);
    }
    const carrierFee = Object.fromEntries(
      carriers.map((c) => [c, parseDecimal(t.carrier_fee[c])!]),
    ) as Record<Carrier, DecimalRate>;
    const pgFee = parseDecimal(t.pg_fee)!;
    for (const c of carriers) {
      const sum = parseDecimal(addDecimalTexts(carrierFee[c], pgFee))!;
      if (compareToOne(sum) > 0) {
        problems.push(`terms (effective_from ${t.effective_from}): carrier_fee.${c} + pg_fee exceed 1`);
      }
    }
    const platformShare = new Map(Object.entries(t.platform_share).map(([k, v]) => [k, parseDecimal(v)!]));
    return {
      version,
      effectiveFrom: t.effective_from,
      effectiveFromMs: startOfDayMs(LocalDate.parse(t.effective_from)),
      carrierFee,
      pgFee,
      platformShare,
      defaultPlatformShare: platformShare.get('default')!,
    };
  });
  if (problems.length > 0) {
    throw new TaplineError(
      'CONTRACTS_INVALID',
      `${source} is not a valid contracts file:\n  ${problems.join('\n  ')}`,
    );
  }
  const m = parsed.data.min_payout ?? {};
  const minPayout: Record<PartyType, bigint> = { ...defaultMinPayout };
  for (const p of partyTypes) {
    const v = m[p];
    if (v !== undefined) minPayout[p] = BigInt(v);
  }
  return { terms, minPayout, weightCache: new Map() };
}

/** Reads and validates a contracts file (JSON). */
export async function loadContracts(path: string): Promise<Contracts> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TaplineError('USAGE', `cannot read the contracts file ${path}: check --contracts.`, {
      cause: e,
    });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new TaplineError('CONTRACTS_INVALID', `${path} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseContracts(document, path);
}

/** The terms in force for a tap at `epochMs`: the latest version not after its date in Asia/Seoul. */
export function termsInForce(contracts: Contracts, epochMs: number): ContractTerms | undefined {
  const terms = contracts.terms;
  for (let i = terms.length - 1; i >= 0; i--) {
    if (terms[i]!.effectiveFromMs <= epochMs) return terms[i];
  }
  return undefined;
}

/** The split weights of one terms version for a carrier and a platform. */
export function splitWeightsFor(
  contracts: Contracts,
  terms: ContractTerms,
  carrier: Carrier,
  platformId: string,
): SplitWeights {
  const key = `${terms.version}\u0000${carrier}\u0000${platformId}`;
  let w = contracts.weightCache.get(key);
  if (!w) {
    const share = terms.platformShare.get(platformId) ?? terms.defaultPlatformShare;
    w = contractWeights(terms.carrierFee[carrier], terms.pgFee, share);
    contracts.weightCache.set(key, w);
  }
  return w;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function addDecimalTexts(a: DecimalRate, b: DecimalRate): string {
  const scale = Math.max(a.scale, b.scale);
  const sum = a.numerator * 10n ** BigInt(scale - a.scale) + b.numerator * 10n ** BigInt(scale - b.scale);
  const digits = sum.toString().padStart(scale + 1, '0');
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
