/**
 * Checks an adjustment against its tap's index entry and gives the entry after it (pure).
 * DESIGN.md: only APPROVED taps, not dated before the tap; REFUND, CHARGEBACK and UNPAID against the
 * amount not yet reversed or held; COLLECTED and WRITE_OFF against the open hold; never in part.
 */
import type { Adjustment } from '../schemas/types.ts';
import type { TapIndexEntry } from './entityState.ts';

export type AdjustmentCheck = { ok: true; entry: TapIndexEntry } | { ok: false; reason: string };

export function checkAdjustment(entry: TapIndexEntry, adj: Adjustment, source?: string): AdjustmentCheck {
  const id = `adjustment ${adj.adjustment_id} (${adj.kind} of ${adj.amount})`;
  if (entry.status !== 'APPROVED')
    return {
      ok: false,
      reason: `${id}: tap ${adj.tap_id} was ${entry.status}; only APPROVED taps can be adjusted`,
    };
  if (adj.occurred_at < entry.occurred_at)
    return {
      ok: false,
      reason: `${id}: dated ${new Date(adj.occurred_at).toISOString()}, before its tap (${new Date(entry.occurred_at).toISOString()})`,
    };
  const next: TapIndexEntry = {
    ...entry,
    v: entry.v + 1,
    adj: { ...entry.adj, [adj.adjustment_id]: source ?? 1 },
  };
  switch (adj.kind) {
    case 'REFUND':
    case 'CHARGEBACK':
    case 'UNPAID': {
      const open = entry.amount - entry.reversed - entry.held;
      if (adj.amount > open)
        return {
          ok: false,
          reason: `${id}: more than the ${open} still open on tap ${adj.tap_id} (amount ${entry.amount}, reversed ${entry.reversed}, held ${entry.held})`,
        };
      if (adj.kind === 'UNPAID') next.held += adj.amount;
      else next.reversed += adj.amount;
      return { ok: true, entry: next };
    }
    case 'COLLECTED':
    case 'WRITE_OFF':
      if (adj.amount > entry.held)
        return { ok: false, reason: `${id}: more than the open hold of ${entry.held} on tap ${adj.tap_id}` };
      next.held -= adj.amount;
      return { ok: true, entry: next };
  }
}
