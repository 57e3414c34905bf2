/** device_many_accounts: distinct accounts on one device within W; the highest tier reached acts. */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { countDistinct } from '../windows.ts';

export function deviceManyAccounts(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'device_many_accounts'>,
): RuleHit | null {
  const n = countDistinct(views.device.e, ctx.tap.occurred_at, cfg.window_ms, 2);
  let tier: (typeof cfg.tiers)[number] | null = null;
  for (const t of cfg.tiers) if (n >= t.at_least && (tier === null || t.at_least > tier.at_least)) tier = t;
  if (tier === null) return null;
  return {
    rule: 'device_many_accounts',
    action: tier.action,
    reason: `${n} accounts on this device within ${formatWindow(cfg.window_ms)} (${tier.at_least} or more: ${tier.action})`,
  };
}
