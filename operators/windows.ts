/**
 * Sliding event-time windows over an entity's events: (t − W, t], the current tap included, to the
 * millisecond. Events later than t (delivered earlier, out of order) are not in t's window.
 */
import {
  DECLINED_FLAG,
  RETRY_FLAG,
  type EntityEvent,
  type AccountEvent,
  type MsisdnEvent,
} from './entityState.ts';

export function inWindow(eventTime: number, t: number, windowMs: number): boolean {
  return eventTime > t - windowMs && eventTime <= t;
}

/** Account taps in the window that are not silent retries; only declined/failed ones if asked. */
export function countAttempts(
  events: readonly EntityEvent[],
  t: number,
  windowMs: number,
  declinedOnly: boolean,
): number {
  let n = 0;
  for (const ev of events as readonly AccountEvent[]) {
    if (!inWindow(ev[1], t, windowMs) || (ev[2] & RETRY_FLAG) !== 0) continue;
    if (declinedOnly && (ev[2] & DECLINED_FLAG) === 0) continue;
    n++;
  }
  return n;
}

/** APPROVED amount of the phone's taps in one currency within the window. */
export function sumApproved(
  events: readonly EntityEvent[],
  t: number,
  windowMs: number,
  currency: string,
): number {
  let sum = 0;
  for (const ev of events as readonly MsisdnEvent[])
    if (ev[4] === currency && inWindow(ev[1], t, windowMs)) sum += ev[3];
  return sum;
}

/** Distinct values of one tuple field among the events in the window. */
export function countDistinct(
  events: readonly EntityEvent[],
  t: number,
  windowMs: number,
  field: number,
): number {
  // Windows hold a handful of events: each value looked for among the window's earlier events beats
  // a Set per call, and allocates nothing (three rules call this for every tap).
  if (events.length > 32) return countDistinctSet(events, t, windowMs, field);
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (!inWindow(ev[1], t, windowMs)) continue;
    const v = ev[field];
    let first = true;
    for (let j = 0; j < i && first; j++) {
      const other = events[j]!;
      first = other[field] !== v || !inWindow(other[1], t, windowMs);
    }
    if (first) n++;
  }
  return n;
}

function countDistinctSet(
  events: readonly EntityEvent[],
  t: number,
  windowMs: number,
  field: number,
): number {
  const seen = new Set<unknown>();
  for (const ev of events) if (inWindow(ev[1], t, windowMs)) seen.add(ev[field]);
  return seen.size;
}

/**
 * The account's previous tap: the latest occurred_at not after t among the other taps already seen
 * (on a tie, the one seen last). Events are kept in the order they were applied.
 */
export function previousTap(events: readonly EntityEvent[], tapId: string, t: number): AccountEvent | null {
  let best: AccountEvent | null = null;
  for (const ev of events as readonly AccountEvent[]) {
    if (ev[0] === tapId || ev[1] > t) continue;
    if (best === null || ev[1] >= best[1]) best = ev;
  }
  return best;
}
