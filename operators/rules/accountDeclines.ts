/** account_declines: the account has N or more DECLINED/FAILED taps within W; fires on every tap meanwhile. */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { countAttempts } from '../windows.ts';

export function accountDeclines(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'account_declines'>,
): RuleHit | null {
  const n = countAttempts(views.account.e, ctx.tap.occurred_at, cfg.window_ms, true);
  if (n < cfg.at_least) return null;
  return {
    rule: 'account_declines',
    action: cfg.action,
    reason: `${n} declined or failed taps of this account within ${formatWindow(cfg.window_ms)} (${cfg.at_least} or more)`,
  };
}
