/**
 * monthly_cap: APPROVED amount of one phone in the tap's calendar month (Asia/Seoul), less refunds and
 * chargebacks of that month's taps, exceeds the currency's ceiling (₩1,000,000 by law for KRW).
 */
import { monthSumAt } from '../entityState.ts';
import type { RuleConfig } from '../rulesFile.ts';
import { formatAmount, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';

export function monthlyCap(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'monthly_cap'>,
): RuleHit | null {
  const { currency } = ctx.tap;
  const limit = cfg.more_than[currency];
  if (limit === undefined) return null;
  const sum = monthSumAt(views.msisdn, ctx.monthKey, ctx.tap.occurred_at);
  if (sum <= limit) return null;
  return {
    rule: 'monthly_cap',
    action: cfg.action,
    reason: `${formatAmount(sum, currency)} net approved on this phone number in ${ctx.monthKey.slice(0, 7)} (${cfg.timezone}) (more than ${formatAmount(limit, currency)})`,
  };
}
