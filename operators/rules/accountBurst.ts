/** account_burst: more than N taps of one account within W (silent retries are the same attempt). */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { countAttempts } from '../windows.ts';

export function accountBurst(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'account_burst'>,
): RuleHit | null {
  const n = countAttempts(views.account.e, ctx.tap.occurred_at, cfg.window_ms, false);
  if (n <= cfg.more_than) return null;
  return {
    rule: 'account_burst',
    action: cfg.action,
    reason: `${n} taps of this account within ${formatWindow(cfg.window_ms)} (more than ${cfg.more_than})`,
  };
}
