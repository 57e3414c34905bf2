/**
 * The decision: every enabled rule runs over the tap's views; the strongest action of the rules that
 * fired wins (BLOCK > REVIEW > ALLOW). The allowlist (account, phone, device) turns REVIEW into ALLOW
 * and never lifts a BLOCK; the rules that fired stay listed so analysts see what was waived.
 */
import type { Decision, DecisionOutcome } from '../schemas/types.ts';
import { accountBurst } from './rules/accountBurst.ts';
import { accountDeclines } from './rules/accountDeclines.ts';
import { accountManyDevices } from './rules/accountManyDevices.ts';
import { blocklist } from './rules/blocklist.ts';
import { deviceManyAccounts } from './rules/deviceManyAccounts.ts';
import { ipJump } from './rules/ipJump.ts';
import { monthlyCap } from './rules/monthlyCap.ts';
import { msisdnDailyAmount } from './rules/msisdnDailyAmount.ts';
import { msisdnManyAccounts } from './rules/msisdnManyAccounts.ts';
import type { Rules } from './rulesFile.ts';
import type { EntityViews, RuleHit, TapContext } from './ruleTypes.ts';

/** Runs the enabled rules in DESIGN.md's table order. */
export function evaluateRules(ctx: TapContext, views: EntityViews, rules: Rules): RuleHit[] {
  const r = rules.rules;
  const hits: Array<RuleHit | null> = [
    r.account_burst.enabled ? accountBurst(ctx, views, r.account_burst) : null,
    r.account_declines.enabled ? accountDeclines(ctx, views, r.account_declines) : null,
    r.msisdn_daily_amount.enabled ? msisdnDailyAmount(ctx, views, r.msisdn_daily_amount) : null,
    r.msisdn_many_accounts.enabled ? msisdnManyAccounts(ctx, views, r.msisdn_many_accounts) : null,
    r.device_many_accounts.enabled ? deviceManyAccounts(ctx, views, r.device_many_accounts) : null,
    r.account_many_devices.enabled ? accountManyDevices(ctx, views, r.account_many_devices) : null,
    r.ip_jump.enabled ? ipJump(ctx, views, r.ip_jump) : null,
    r.monthly_cap.enabled ? monthlyCap(ctx, views, r.monthly_cap) : null,
    r.blocklist.enabled ? blocklist(ctx, views, r.blocklist, rules) : null,
  ];
  return hits.filter((h): h is RuleHit => h !== null);
}

export function isAllowlisted(ctx: TapContext, rules: Rules): boolean {
  const a = rules.allowlist;
  return (
    a.accounts.has(ctx.tap.account_id) ||
    a.msisdnHashes.has(ctx.tap.msisdn_hash) ||
    a.devices.has(ctx.tap.device_id)
  );
}

/** Strongest action wins; the allowlist lowers REVIEW to ALLOW only. */
export function combine(hits: readonly RuleHit[], allowlisted: boolean): DecisionOutcome {
  let outcome: DecisionOutcome = 'ALLOW';
  for (const h of hits) {
    if (h.action === 'BLOCK') return 'BLOCK';
    outcome = 'REVIEW';
  }
  return outcome === 'REVIEW' && allowlisted ? 'ALLOW' : outcome;
}

export interface DecideArgs {
  ctx: TapContext;
  views: EntityViews;
  rules: Rules;
  geoDb: string;
  decidedAt: number;
  late: boolean;
}

export function decide({ ctx, views, rules, geoDb, decidedAt, late }: DecideArgs): Decision {
  const hits = evaluateRules(ctx, views, rules);
  const allowlisted = isAllowlisted(ctx, rules);
  const outcome = combine(hits, allowlisted);
  const reasons = hits.map((h) => h.reason);
  if (allowlisted && outcome === 'ALLOW' && hits.length > 0)
    reasons.push('allowlisted: REVIEW lowered to ALLOW');
  const d: Decision = {
    tap_id: ctx.tap.tap_id,
    decision: outcome,
    rules: hits.map((h) => h.rule),
    reasons,
    rules_version: rules.version,
    geo_db: geoDb,
    decided_at: decidedAt,
  };
  if (late) d.late = true;
  return d;
}
