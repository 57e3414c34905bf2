/**
 * In-memory StateStore: the same transitions as the Redis scripts (operators/entityState.ts), for
 * `tapline backtest` and unit tests. Memory stays bounded by TTLs measured in event time: a key
 * expires once the newest event time the store has seen passes its last write plus its TTL (a
 * backtest replays months in seconds, so wall-clock TTLs would never fire).
 */
import {
  adjustPhone,
  cloneState,
  insertEvent,
  removeEvent,
  undoPhoneAdjustment,
  type EntityState,
  type StoredEntityState,
  type EntityType,
  type Hold,
  type MonthTap,
  type TapIndexEntry,
} from './entityState.ts';
import type { Decision } from '../schemas/types.ts';
import type {
  ClaimResult,
  EntityRef,
  FinishOp,
  FinishResult,
  StateStore,
  StoreOp,
  StoreResult,
  TapRecord,
} from './stateStore.ts';
import { createCompactTapIndex } from './compactTapIndex.ts';

interface Slot<T> {
  value: T;
  expiresAt: number;
}

type InsertEventResult = Extract<StoreResult, { op: 'insertEvent' }>;

/** An entity's slot, and the result of the current execute call holding its state (see `reclaim`). */
interface EntitySlot extends Slot<StoredEntityState> {
  lentTo: InsertEventResult | null;
  /** The inserted tap's time, for that result's snapshot. */
  lentAt: number;
}

export interface MemoryStoreStats {
  entities: number;
  taps: number;
  /** Bytes of typed arrays holding the tap index. */
  tapIndexBytes: number;
}

export interface MemoryStore extends StateStore {
  stats(): MemoryStoreStats;
  /** Copies of the state, for tests. */
  entity(ref: EntityRef): StoredEntityState | undefined;
  tap(tapId: string): TapRecord | undefined;
}

/** How many writes between sweeps of expired keys (amortized eviction). */
const SWEEP_EVERY = 50_000;
/** How far behind the newest tap's event time expired state is really dropped. */
const EVICTION_GRACE = 3 * 86_400_000;

/**
 * What the rules read of an entity right after an insert, for a result whose state a later operation
 * of the same call changes: events, month sums and holds copied, and of the month taps only those
 * dated after the inserted tap, the only ones monthSumAt subtracts at its time (the Redis store
 * returns the same). Applied adjustment ids are not read by any rule and are left out.
 */
function snapshot(s: StoredEntityState, t: number): EntityState {
  const c: EntityState = { m: s.m, e: s.e.slice() };
  if (s.mo) c.mo = { ...s.mo };
  if (s.h) {
    const h: Record<string, Hold> = {};
    for (const k in s.h) {
      const v = s.h[k]!;
      h[k] = [v[0], v[1], v[2]];
    }
    c.h = h;
  }
  // Month taps are never dated after `m`: a tap at or after it has none later than itself.
  if (s.mt && t < s.m) {
    let later: Record<string, MonthTap> | undefined;
    for (const [id, k] of s.mt) if (k[1] > t) (later ??= {})[id] = k;
    if (later) c.mt = later;
  }
  return c;
}

export function createMemoryStore(): MemoryStore {
  // One map per entity type, keyed by the bare id: no key string built per operation.
  const entities: Record<EntityType, Map<string, EntitySlot>> = {
    a: new Map(),
    m: new Map(),
    d: new Map(),
  };
  // Every tap of the last tapIndexDays, in typed arrays off the JS heap (operators/compactTapIndex.ts).
  const taps = createCompactTapIndex();
  const record = (tapId: string, slot: number): TapRecord => ({
    entry: taps.entry(slot),
    decision: taps.decision(slot, tapId),
  });
  let now = -Infinity;
  let writes = 0;
  /** Slots whose state a result of the current execute call holds. */
  const lent: EntitySlot[] = [];

  const advance = (t: number) => {
    if (t > now) now = t;
    if (++writes % SWEEP_EVERY === 0) sweep();
  };
  // Expiry follows event time, trailing the newest tap by EVICTION_GRACE: Redis TTLs run on the
  // wall clock and never fire while a stream is replayed, so state a disordered stream can still
  // reach must stay, or the two stores would decide the same records differently.
  const expiredAt = (expiresAt: number) => expiresAt + EVICTION_GRACE <= now;
  const expired = (slot: { expiresAt: number }) => expiredAt(slot.expiresAt);
  const sweep = () => {
    for (const map of Object.values(entities)) for (const [k, slot] of map) if (expired(slot)) map.delete(k);
    taps.evict(expiredAt);
  };
  const live = <S extends { expiresAt: number }>(map: Map<string, S>, k: string): S | undefined => {
    const slot = map.get(k);
    if (slot && expired(slot)) {
      map.delete(k);
      return undefined;
    }
    return slot;
  };
  /** The tap's slot in the index, or -1 (an expired one is dropped on the way, as `live` does). */
  const liveTap = (tapId: string): number => {
    const slot = taps.find(tapId);
    if (slot >= 0 && expiredAt(taps.expiresAt(slot))) {
      taps.remove(slot);
      return -1;
    }
    return slot;
  };
  const touchEntity = (
    map: Map<string, EntitySlot>,
    id: string,
    slot: EntitySlot | undefined,
    state: StoredEntityState,
    ttlMs: number,
    t: number,
  ): EntitySlot => {
    const expiresAt = Math.max(t, state.m) + ttlMs;
    if (slot) {
      slot.value = state;
      slot.expiresAt = expiresAt;
      return slot;
    }
    const created: EntitySlot = { value: state, expiresAt, lentTo: null, lentAt: 0 };
    map.set(id, created);
    return created;
  };
  /**
   * Before an operation changes an entity: a result of the same call holding its state live gets a
   * snapshot instead, so every result reads as of its own operation. The detector sends a batch in
   * one call; only an entity with more than one tap in the batch (a few in a thousand) is copied,
   * where every insert was.
   */
  const reclaim = (slot: EntitySlot | undefined) => {
    if (!slot?.lentTo) return;
    slot.lentTo.state = snapshot(slot.value, slot.lentAt);
    slot.lentTo = null;
  };

  /** The tap's index entry created (with its first decision, if given) unless the tap_id is there. */
  const claim = (tapId: string, entry: TapIndexEntry, ttlMs: number, decision?: Decision): ClaimResult => {
    advance(entry.occurred_at);
    const found = liveTap(tapId);
    if (found >= 0) return { op: 'claimTap', status: 'seen', ...record(tapId, found) };
    const slot = taps.insert(tapId, entry, entry.occurred_at + ttlMs);
    if (decision) taps.setDecision(slot, decision);
    return { op: 'claimTap', status: 'new' };
  };

  function apply(op: StoreOp): StoreResult {
    switch (op.op) {
      case 'claimTap':
        return claim(op.tapId, op.entry, op.ttlMs);
      case 'insertEvent': {
        const t = op.event[1];
        advance(t);
        const map = entities[op.entity.type];
        const slot = live(map, op.entity.id);
        reclaim(slot);
        const r = insertEvent(slot?.value, op);
        const held = touchEntity(map, op.entity.id, slot, r.state, op.ttlMs, t);
        // The state itself, lent until the next call (operators/stateStore.ts): no copy per insert.
        const result: InsertEventResult = {
          op: 'insertEvent',
          inserted: r.inserted,
          prevMax: r.prevMax,
          state: r.state,
        };
        held.lentTo = result;
        held.lentAt = t;
        lent.push(held);
        return result;
      }
      case 'adjustTap': {
        const found = liveTap(op.tapId);
        if (found < 0) return { op: 'adjustTap', status: 'unknown' };
        const current = taps.entry(found);
        if (current.adj[op.adjustmentId]) return { op: 'adjustTap', status: 'duplicate' };
        if (current.v !== op.expectedVersion) return { op: 'adjustTap', status: 'conflict' };
        taps.update(found, op.entry, Math.max(taps.expiresAt(found), now + op.ttlMs));
        return { op: 'adjustTap', status: 'ok' };
      }
      case 'adjustPhone': {
        // Adjustments come weeks after their tap; only taps move the eviction clock.
        if (++writes % SWEEP_EVERY === 0) sweep();
        const slot = live(entities.m, op.msisdnHash);
        reclaim(slot);
        const r = adjustPhone(slot?.value, op.adjustment);
        touchEntity(entities.m, op.msisdnHash, slot, r.state, op.ttlMs, op.adjustment.occurredAt);
        return { op: 'adjustPhone', applied: r.applied };
      }
    }
  }

  return {
    lookupTaps(tapIds) {
      return Promise.resolve(
        tapIds.map((id) => {
          const found = liveTap(id);
          return found >= 0 ? record(id, found) : null;
        }),
      );
    },
    opsPerPart: Infinity,
    execute(parts) {
      // The previous call's results are past their next call: nothing to keep them as they were.
      for (const slot of lent) slot.lentTo = null;
      lent.length = 0;
      return parts.map((ops) => Promise.resolve(ops.map(apply)));
    },
    finish(ops: FinishOp[]) {
      const results: FinishResult[] = [];
      for (const op of ops) {
        let result: FinishResult = null;
        switch (op.op) {
          case 'claimDecided':
            result = claim(op.tapId, op.entry, op.ttlMs, op.decision);
            break;
          case 'recordDecision': {
            const found = liveTap(op.tapId);
            if (found >= 0 && !taps.hasDecision(found)) taps.setDecision(found, op.decision);
            break;
          }
          case 'removeEvent':
            removeEvent(live(entities[op.entity.type], op.entity.id)?.value, op.tapId, op.month);
            break;
          case 'undoAdjustPhone':
            undoPhoneAdjustment(live(entities.m, op.msisdnHash)?.value, op.adjustment);
            break;
        }
        results.push(result);
      }
      return Promise.resolve(results);
    },
    roundTrips: () => 0,
    close: () => Promise.resolve(),
    stats: () => ({
      entities: entities.a.size + entities.m.size + entities.d.size,
      taps: taps.size,
      tapIndexBytes: taps.bytes(),
    }),
    entity: (ref) => {
      const s = live(entities[ref.type], ref.id)?.value;
      return s ? cloneState(s) : undefined;
    },
    tap: (id) => {
      const found = liveTap(id);
      return found >= 0 ? record(id, found) : undefined;
    },
  };
}
