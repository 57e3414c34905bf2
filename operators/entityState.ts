/**
 * The state kept per entity (account, phone, device) and per tap, and its transitions as pure
 * functions. The in-memory store runs these functions; the Redis store runs Lua scripts that mirror
 * them line by line (operators/redisScripts.ts). The conformance suite runs the same scenarios
 * through both.
 *
 * An entity keeps its recent events as compact tuples, newest event time seen (`m`), and for a phone
 * its monthly sums and unpaid holds. Events are keyed by tap_id, so inserting a tap twice changes
 * nothing; events older than the entity's retention behind `m` are dropped on every write.
 */

/** Bits of AccountEvent[2]. */
export const DECLINED_FLAG = 1;
export const RETRY_FLAG = 2;

/** [tap_id, occurred_at, flags, device_id, country, lat, lon] */
export type AccountEvent = [string, number, number, string, string | null, number | null, number | null];
/** [tap_id, occurred_at, account_id, APPROVED amount (0 otherwise), currency] */
export type MsisdnEvent = [string, number, string, number, string];
/** [tap_id, occurred_at, account_id] */
export type DeviceEvent = [string, number, string];
export type EntityEvent = AccountEvent | MsisdnEvent | DeviceEvent;

/** A phone's unpaid hold on one tap: [latest UNPAID time, unpaid total, collected total]. */
export type Hold = [number, number, number];

export interface EntityState {
  /** Newest event time seen; -1 before the first. */
  m: number;
  e: EntityEvent[];
  /** Phone only: net APPROVED amount per `${YYYY-MM}|${currency}` (less refunds and chargebacks). */
  mo?: Record<string, number>;
  /** Phone only: unpaid holds by tap_id. */
  h?: Record<string, Hold>;
  /** Phone only: adjustments applied (id → event time), for idempotency. */
  ad?: Record<string, number>;
  /**
   * Phone only: taps counted in `mo` (tap_id → [month key, event time, amount]), kept as long as
   * their month: a replayed tap whose event was already trimmed from `e` is not counted twice, and
   * the month's sum as of a tap's own time can be told from the sum with later taps in it.
   */
  mt?: Record<string, MonthTap>;
}

export type MonthTap = [monthKey: string, occurredAt: number, amount: number];

/**
 * An entity as the memory store keeps it and the transitions below change it: the same as
 * EntityState but the month taps in a Map. As an object keyed by tap_id (dictionary mode, a key per
 * counted tap of three months) they cost a fifth of a backtest's CPU; rules read EntityState views.
 */
export interface StoredEntityState extends Omit<EntityState, 'mt'> {
  mt?: Map<string, MonthTap>;
}

/**
 * An entity as the rules read it right after an insert: a plain state (the Redis store's, parsed) or
 * the memory store's own, lent until its next call. Rules read `mt` only through monthSumAt.
 */
export type EntityView = EntityState | StoredEntityState;

export type EntityType = 'a' | 'm' | 'd';

export interface InsertEventArgs {
  event: EntityEvent;
  retentionMs: number;
  /** Phone: add the APPROVED amount to this month's sum. */
  month?: { key: string; amount: number };
  /** Phone: holds older than this behind `m` are dropped. */
  holdWindowMs?: number;
  /** Phone: adjustment ids older than this behind `m` are forgotten. */
  adjustmentKeepMs?: number;
}

export interface InsertResult {
  inserted: boolean;
  /** `m` before this insert; -1 when the entity was new. */
  prevMax: number;
  state: StoredEntityState;
}

/** How many distinct months a phone keeps sums for (the current one and two before). */
export const MONTHS_KEPT = 3;

function emptyState(): StoredEntityState {
  return { m: -1, e: [] };
}

/** A copy callers can keep while the store moves on (event tuples are never mutated in place). */
export function cloneState(s: StoredEntityState): StoredEntityState {
  const c: StoredEntityState = { m: s.m, e: s.e.slice() };
  if (s.mo) c.mo = { ...s.mo };
  if (s.mt) c.mt = new Map(s.mt);
  if (s.h) c.h = Object.fromEntries(Object.entries(s.h).map(([k, v]) => [k, [v[0], v[1], v[2]] as Hold]));
  if (s.ad) c.ad = { ...s.ad };
  return c;
}

/**
 * Drops what fell out of retention. `e` is changed in place: a new array per insert was an eighth of
 * what a backtest allocated, and the memory store lends its states only until its next call
 * (operators/stateStore.ts), copying one a later operation of the same call would change.
 */
function trim(s: StoredEntityState, args: Omit<InsertEventArgs, 'month'>, inserted: boolean): void {
  const cut = s.m - args.retentionMs;
  const events = s.e;
  let kept = 0;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (ev[1] <= cut) continue;
    if (kept !== i) events[kept] = ev;
    kept++;
  }
  if (kept < events.length) events.length = kept;
  if (inserted && args.event[1] > cut) events.push(args.event);
  if (s.h && args.holdWindowMs !== undefined) {
    const holdCut = s.m - args.holdWindowMs;
    for (const tap in s.h) {
      const hold = s.h[tap]!;
      if (hold[0] <= holdCut || hold[1] <= hold[2]) delete s.h[tap];
    }
  }
  if (s.ad && args.adjustmentKeepMs !== undefined) {
    const adjCut = s.m - args.adjustmentKeepMs;
    for (const id in s.ad) if (s.ad[id]! <= adjCut) delete s.ad[id];
  }
  // No more keys than months kept (taps in one currency): no month can be past them, nothing sliced.
  if (s.mo && moreKeysThan(s.mo, MONTHS_KEPT)) {
    const months: string[] = [];
    for (const k in s.mo) {
      const month = k.slice(0, 7);
      if (!months.includes(month)) months.push(month);
    }
    // Every month in `mt` has its key in `mo` (both are written together and only dropped here), so
    // with no more than MONTHS_KEPT months nothing is older than the oldest kept: skip the scans.
    if (months.length > MONTHS_KEPT) {
      const oldest = months.sort().reverse()[MONTHS_KEPT - 1]!;
      for (const k of Object.keys(s.mo)) if (k.slice(0, 7) < oldest) delete s.mo[k];
      if (s.mt) for (const [id, k] of s.mt) if (k[0].slice(0, 7) < oldest) s.mt.delete(id);
    }
  }
}

/** Whether `o` has more than `n` keys, counted without an array of them. */
function moreKeysThan(o: object, n: number): boolean {
  let keys = 0;
  for (const _ in o) if (++keys > n) return true;
  return false;
}

/**
 * The phone's net amount in a month as of event time `t`: the month's sum less the taps of that month
 * dated after `t`. A replayed batch, whose later taps are already counted, then measures what the
 * first pass measured.
 */
export function monthSumAt(s: EntityView, monthKey: string, t: number): number {
  let sum = s.mo?.[monthKey] ?? 0;
  // No month tap is dated after `m`: a tap at or after it (most are) skips the phone's months of taps.
  if (s.mt && t < s.m) {
    const taps = s.mt instanceof Map ? s.mt.values() : Object.values(s.mt);
    for (const k of taps) if (k[0] === monthKey && k[1] > t) sum -= k[2];
  }
  return sum;
}

/** Inserts one tap's event (idempotent by tap_id), then trims. Mutates and returns `state`. */
export function insertEvent(state: StoredEntityState | undefined, args: InsertEventArgs): InsertResult {
  const s = state ?? emptyState();
  const prevMax = s.m;
  const id = args.event[0];
  // A tap later than m was never inserted: inserting one moves m to its time, and nothing lowers m.
  let seen = false;
  const later = args.event[1] > s.m;
  for (let i = 0; i < s.e.length && !seen && !later; i++) seen = s.e[i]![0] === id;
  const inserted = later || (!seen && (s.mt === undefined || !s.mt.has(id)));
  if (inserted) {
    if (args.event[1] > s.m) s.m = args.event[1];
    if (args.month && args.month.amount !== 0) {
      s.mo ??= {};
      s.mo[args.month.key] = (s.mo[args.month.key] ?? 0) + args.month.amount;
      s.mt ??= new Map();
      s.mt.set(id, [args.month.key, args.event[1], args.month.amount]);
    }
  }
  trim(s, args, inserted);
  return { inserted, prevMax, state: s };
}

/** Removes a tap's event inserted by mistake (a duplicate or conflicting tap_id). */
export function removeEvent(
  state: StoredEntityState | undefined,
  tapId: string,
  month?: { key: string; amount: number },
): void {
  if (!state) return;
  const before = state.e.length;
  state.e = state.e.filter((ev) => ev[0] !== tapId);
  const counted = state.mt?.delete(tapId) === true;
  const sum = state.mo?.[month?.key ?? ''];
  if ((state.e.length !== before || counted) && month && state.mo && sum !== undefined)
    state.mo[month.key] = sum - month.amount;
}

export type PhoneAdjustmentKind = 'REFUND' | 'CHARGEBACK' | 'UNPAID' | 'COLLECTED';

export interface PhoneAdjustment {
  adjustmentId: string;
  kind: PhoneAdjustmentKind;
  tapId: string;
  amount: number;
  /** `${YYYY-MM}|${currency}` of the adjusted tap. */
  monthKey: string;
  occurredAt: number;
}

/** Applies an adjustment's effect on the phone (idempotent by adjustment id); true when applied. */
export function adjustPhone(
  state: StoredEntityState | undefined,
  adj: PhoneAdjustment,
): { applied: boolean; state: StoredEntityState } {
  const s = state ?? emptyState();
  s.ad ??= {};
  if (s.ad[adj.adjustmentId] !== undefined) return { applied: false, state: s };
  s.ad[adj.adjustmentId] = adj.occurredAt;
  applyPhoneEffect(s, adj, 1);
  return { applied: true, state: s };
}

/** Reverses an adjustment applied by mistake (its tap index update did not go through). */
export function undoPhoneAdjustment(state: StoredEntityState | undefined, adj: PhoneAdjustment): void {
  if (!state?.ad || state.ad[adj.adjustmentId] === undefined) return;
  delete state.ad[adj.adjustmentId];
  applyPhoneEffect(state, adj, -1);
}

function applyPhoneEffect(s: StoredEntityState, adj: PhoneAdjustment, sign: 1 | -1): void {
  switch (adj.kind) {
    case 'REFUND':
    case 'CHARGEBACK':
      s.mo ??= {};
      s.mo[adj.monthKey] = (s.mo[adj.monthKey] ?? 0) - sign * adj.amount;
      return;
    case 'UNPAID': {
      s.h ??= {};
      const hold = s.h[adj.tapId] ?? [adj.occurredAt, 0, 0];
      if (sign === 1 && adj.occurredAt > hold[0]) hold[0] = adj.occurredAt;
      hold[1] += sign * adj.amount;
      s.h[adj.tapId] = hold;
      return;
    }
    case 'COLLECTED': {
      const hold = s.h?.[adj.tapId];
      if (hold) hold[2] += sign * adj.amount;
      return;
    }
  }
}

/** One tap's record in the tap index: enough for adjustments to find and check their tap. */
export interface TapIndexEntry {
  /** Bumped on every change; adjustments apply only against the version they were checked on. */
  v: number;
  /** Content hash of the tap (duplicates vs conflicts). */
  h: string;
  /** Source position of the first delivery (topic/partition/offset), for replays; null offline. */
  src: string | null;
  account_id: string;
  msisdn_hash: string;
  platform_id: string;
  creator_id: string | null;
  carrier: string;
  currency: string;
  occurred_at: number;
  /** `${YYYY-MM}|${currency}` in the cap's zone. */
  month: string;
  amount: number;
  status: string;
  /** REFUND + CHARGEBACK so far. */
  reversed: number;
  /** Open hold: UNPAID − COLLECTED − WRITE_OFF. */
  held: number;
  /**
   * Adjustment ids applied, each with the source position (topic/partition/offset) of the record that
   * applied it, or 1 when it had none: the same record delivered again after a crash is a replay whose
   * output must be re-sent, another record with the same id a duplicate.
   */
  adj: Record<string, 1 | string>;
}
