/**
 * blocklist: the phone has an UNPAID bill not fully COLLECTED within W (event time) of the UNPAID
 * (a WRITE_OFF does not lift it), or the account, phone or device is on the configured blocklist.
 */
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type Lists, type RuleHit, type TapContext } from '../ruleTypes.ts';

export function blocklist(
  ctx: TapContext,
  views: EntityViews,
  cfg: RuleConfig<'blocklist'>,
  lists: Lists,
): RuleHit | null {
  const { tap } = ctx;
  const listed: string[] = [];
  if (lists.blocklist.accounts.has(tap.account_id)) listed.push('account');
  if (lists.blocklist.msisdnHashes.has(tap.msisdn_hash)) listed.push('phone number');
  if (lists.blocklist.devices.has(tap.device_id)) listed.push('device');
  if (listed.length > 0)
    return {
      rule: 'blocklist',
      action: cfg.action,
      reason: `${listed.join(', ')} on the configured blocklist`,
    };
  const t = tap.occurred_at;
  let open = 0;
  let since = -1;
  for (const [unpaidAt, unpaid, collected] of Object.values(views.msisdn.h ?? {})) {
    if (unpaid <= collected || unpaidAt > t || unpaidAt <= t - cfg.unpaid_block_ms) continue;
    open += unpaid - collected;
    since = Math.max(since, unpaidAt);
  }
  if (open === 0) return null;
  const days = Math.floor((t - since) / 86_400_000);
  return {
    rule: 'blocklist',
    action: cfg.action,
    reason: `this phone number has an unpaid bill (${open.toLocaleString('en-US')} minor units still open), reported ${days} day${days === 1 ? '' : 's'} ago (blocked for ${formatWindow(cfg.unpaid_block_ms)} or until collected)`,
  };
}
