/**
 * The state behind the detectors. Two implementations with identical semantics: in memory
 * (operators/memoryStore.ts: backtest, unit tests) and Redis (operators/redisStore.ts: workers).
 *
 * The detector drives a batch through these calls, each one round trip on Redis:
 *   lookupTaps  (only when the batch has adjustments whose tap is not in the batch)
 *   execute     every entity insert and adjustment of the batch, in order (in parts, or part by part
 *               through `stream`), and the claims of the taps an adjustment of the batch names
 *   finish      every other tap claimed together with its decision (one write: a tap index entry is
 *               never left without its decision), first decisions recorded
 *   finish      again, only when a claim found the tap already there: its inserts undone
 * Every operation touches the keys of one entity (one hash tag) and is idempotent by itself.
 */
import type { Decision } from '../schemas/types.ts';
import type { EntityEvent, EntityType, EntityView, PhoneAdjustment, TapIndexEntry } from './entityState.ts';

export interface EntityRef {
  type: EntityType;
  id: string;
}

export type StoreOp =
  /** Creates the tap's index entry unless the tap_id exists; returns the existing one otherwise. */
  | { op: 'claimTap'; tapId: string; entry: TapIndexEntry; ttlMs: number }
  /** Inserts the tap's event into one entity (idempotent by tap_id) and returns the entity after. */
  | {
      op: 'insertEvent';
      entity: EntityRef;
      event: EntityEvent;
      retentionMs: number;
      ttlMs: number;
      month?: { key: string; amount: number };
      holdWindowMs?: number;
      adjustmentKeepMs?: number;
    }
  /** Replaces a tap's index entry if it is still at `expectedVersion` and has not seen the adjustment. */
  | {
      op: 'adjustTap';
      tapId: string;
      adjustmentId: string;
      expectedVersion: number;
      entry: TapIndexEntry;
      ttlMs: number;
    }
  /** Applies an adjustment's effect on its phone (idempotent by adjustment id). */
  | { op: 'adjustPhone'; msisdnHash: string; adjustment: PhoneAdjustment; ttlMs: number };

export type StoreResult =
  | { op: 'claimTap'; status: 'new' }
  | { op: 'claimTap'; status: 'seen'; entry: TapIndexEntry; decision: Decision | null }
  | { op: 'insertEvent'; inserted: boolean; prevMax: number; state: EntityView }
  | { op: 'adjustTap'; status: 'ok' | 'unknown' | 'duplicate' | 'conflict' }
  | { op: 'adjustPhone'; applied: boolean };

export type ClaimResult = Extract<StoreResult, { op: 'claimTap' }>;
/** What `finish` answers for one operation: a claimDecided's claim, null for the others. */
export type FinishResult = ClaimResult | null;

export type FinishOp =
  /** Creates the tap's index entry with its first decision unless the tap_id exists; else as claimTap. */
  | { op: 'claimDecided'; tapId: string; entry: TapIndexEntry; decision: Decision; ttlMs: number }
  /** Records the first decision of a tap claimed by claimTap (a later one leaves it as it is). */
  | { op: 'recordDecision'; tapId: string; decision: Decision; ttlMs: number }
  | { op: 'removeEvent'; entity: EntityRef; tapId: string; month?: { key: string; amount: number } }
  | { op: 'undoAdjustPhone'; msisdnHash: string; adjustment: PhoneAdjustment };

export interface TapRecord {
  entry: TapIndexEntry;
  decision: Decision | null;
}

export interface StateStore {
  /** Tap index entries (and first decisions) by tap_id; null where unknown. */
  lookupTaps(tapIds: string[]): Promise<Array<TapRecord | null>>;
  /**
   * Applies the parts' operations in order, atomically each, and answers part by part: one result per
   * operation. Every part is sent before the first answer is awaited (one round trip on Redis), so a
   * caller can work on the first answers while the store applies the rest. An insertEvent's `state`
   * reads as of its operation until the store's next call (lookupTaps, execute, finish) and is not to
   * be kept beyond it: the memory store lends its own state instead of copying it.
   */
  execute(parts: ReadonlyArray<readonly StoreOp[]>): Array<Promise<StoreResult[]>>;
  /**
   * Where the store can take a batch in installments: `part` is `execute` one part at a time, and
   * `finish` is `finish` one slice at a time, every slice sent after every part. Each is written at
   * once, nothing is awaited between them (still one round trip each), and they are applied and
   * answered in the order sent. The detector sends each part as soon as it has cut it, so the store
   * applies the first parts while the later ones are prepared, and the claims of the taps decided so
   * far whenever it would wait for a part. Not for the memory store, whose answers are lent states.
   */
  stream?(): {
    part(ops: readonly StoreOp[]): Promise<StoreResult[]>;
    finish(ops: FinishOp[]): Promise<FinishResult[]>;
  };
  /** Operations per part worth giving `execute`: Infinity where answers come at once (in memory). */
  readonly opsPerPart: number;
  /** One result per operation, in order. */
  finish(ops: FinishOp[]): Promise<FinishResult[]>;
  /** Round trips made so far (for benchmarks). */
  roundTrips(): number;
  close(): Promise<void>;
}
