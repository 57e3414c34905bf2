/**
 * A tap's content hash, on its own so that the backtest's input thread (pipeline/commands/backtestInput.ts)
 * can compute it beside parsing without loading the detector.
 */
import { hash } from 'node:crypto';
import type { EnrichedTap } from '../schemas/types.ts';

/** Stable content hash of a tap: same tap_id + same hash is a duplicate, another hash a conflict. */
export function tapContentHash(t: EnrichedTap): string {
  const fields = [
    t.tap_id,
    t.occurred_at,
    t.account_id,
    t.msisdn_hash,
    t.carrier,
    t.device_id,
    t.ip,
    t.platform_id,
    t.creator_id,
    t.item_id,
    t.channel,
    t.amount,
    t.currency,
    t.status,
    t.retry_of,
  ];
  // One-shot hash: same digest as createHash().update().digest(), without the Hash object per tap.
  return hash('sha256', JSON.stringify(fields), 'base64url').slice(0, 22);
}
