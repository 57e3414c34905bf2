/** account_many_devices: N or more distinct devices for one account within W. */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { countDistinct } from '../windows.ts';

export function accountManyDevices(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'account_many_devices'>,
): RuleHit | null {
  const n = countDistinct(views.account.e, ctx.tap.occurred_at, cfg.window_ms, 3);
  if (n < cfg.at_least) return null;
  return {
    rule: 'account_many_devices',
    action: cfg.action,
    reason: `${n} devices used by this account within ${formatWindow(cfg.window_ms)} (${cfg.at_least} or more)`,
  };
}
