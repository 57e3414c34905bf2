/** msisdn_many_accounts: N or more distinct accounts bill one phone within W (a stolen number spread). */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { countDistinct } from '../windows.ts';

export function msisdnManyAccounts(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'msisdn_many_accounts'>,
): RuleHit | null {
  const n = countDistinct(views.msisdn.e, ctx.tap.occurred_at, cfg.window_ms, 2);
  if (n < cfg.at_least) return null;
  return {
    rule: 'msisdn_many_accounts',
    action: cfg.action,
    reason: `${n} accounts billed this phone number within ${formatWindow(cfg.window_ms)} (${cfg.at_least} or more)`,
  };
}
