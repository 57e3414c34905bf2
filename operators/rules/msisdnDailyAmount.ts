/** msisdn_daily_amount: APPROVED amount of one phone within W exceeds the currency's threshold. */
import type { RuleConfig } from '../rulesFile.ts';
import { formatAmount, formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { sumApproved } from '../windows.ts';

export function msisdnDailyAmount(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'msisdn_daily_amount'>,
): RuleHit | null {
  const { currency, occurred_at } = ctx.tap;
  const limit = cfg.more_than[currency];
  if (limit === undefined) return null; // no threshold for this currency: the rule does not apply
  const sum = sumApproved(views.msisdn.e, occurred_at, cfg.window_ms, currency);
  if (sum <= limit) return null;
  return {
    rule: 'msisdn_daily_amount',
    action: cfg.action,
    reason: `${formatAmount(sum, currency)} approved on this phone number within ${formatWindow(cfg.window_ms)} (more than ${formatAmount(limit, currency)})`,
  };
}
