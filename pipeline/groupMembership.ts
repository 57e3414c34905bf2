/**
 * The worker's check, right before each commit, that the group still counts it in the generation its
 * batches were fetched in. kafkajs's TxnOffsetCommit carries no generation (no KIP-447 fencing), so
 * the broker would take the offsets of a member dropped past its session timeout (frozen, cut off)
 * while the partition's new owner processes the same batches: a zombie commit, every output twice.
 *
 * What vouches for a batch: a heartbeat answered in the generation it was fetched in, recently, with
 * no freeze of the process since it was fetched. A heartbeat goes out unless one succeeded within the
 * heartbeat interval (so always after a freeze), and any error of it stops the commit (what cannot be
 * confirmed is not committed: the batches are processed again, from the committed offsets). One
 * answered in a later generation (the consumer rejoined meanwhile, through another partition's batch)
 * does not vouch, nor does one that returns without asking the group (kafkajs has dropped its member
 * id and is rejoining), nor one read after a freeze (pipeline/freezeWatch.ts: kafkajs shares an
 * in-flight heartbeat, so its answer may date from before the freeze).
 */
import kafkajs, { type EachBatchPayload } from 'kafkajs';
import { startFreezeWatch } from './freezeWatch.ts';

/** Errors by which kafkajs says this member is no longer (or not yet again) in the group's generation. */
const MEMBERSHIP_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  // The worker's own (below): the batch was fetched before the consumer (re)joined, while it is
  // rejoining, or before the process was frozen.
  'STALE_GENERATION',
]);

/** The kafkajs error type of `e` when it says this member left the group's generation, else null. */
export function membershipError(e: unknown): string | null {
  const type = (e as { type?: unknown } | null)?.type;
  return typeof type === 'string' && MEMBERSHIP_ERRORS.has(type) ? type : null;
}

export interface MembershipCheck {
  /** The consumer's joins and crashes so far. */
  readonly generation: number;
  /** kafkajs handed a batch over. */
  fetched(payload: EachBatchPayload): void;
  /** A heartbeat was answered. */
  heartbeatAnswered(): void;
  /** The consumer joined the group (a new generation, confirmed). */
  joined(): void;
  /** The consumer crashed: what it fetched before is of an old generation. */
  crashed(): void;
  /** Heartbeats, then throws (type STALE_GENERATION, or kafkajs's own) unless the batches are vouched for. */
  confirm(payloads: EachBatchPayload[]): Promise<void>;
  stop(): void;
}

export function createMembershipCheck(options: {
  sessionTimeoutMs: number;
  heartbeatMs: number;
}): MembershipCheck {
  let generation = 0;
  /** When the group last confirmed this member: a heartbeat answered, or a join. */
  let confirmedAt = 0;
  const fetchedIn = new WeakMap<EachBatchPayload, number>();
  const fetchedAt = new WeakMap<EachBatchPayload, number>();
  // Half the session timeout: a freeze that long can outlive the session (the last heartbeat answered
  // may be up to a heartbeat interval old); a batch blocking the event loop that long is abandoned too.
  const freezes = startFreezeWatch({ freezeMs: Math.floor(options.sessionTimeoutMs / 2) });

  return {
    get generation() {
      return generation;
    },
    fetched(payload) {
      fetchedIn.set(payload, generation);
      fetchedAt.set(payload, Date.now());
    },
    heartbeatAnswered() {
      confirmedAt = Date.now();
    },
    joined() {
      generation++;
      confirmedAt = Date.now();
    },
    crashed() {
      generation++;
    },
    async confirm(payloads) {
      await payloads[0]!.heartbeat();
      const rejoined = payloads.some((p) => fetchedIn.get(p) !== generation);
      const oldestFetch = Math.min(...payloads.map((p) => fetchedAt.get(p) ?? 0));
      // After a freeze, the first answer read may be to a request sent before it; kafkajs sends the next
      // heartbeat a heartbeat interval after reading an answer, so only an answer read that long after
      // the freeze ended is surely to a request sent after it. Until then nothing is committed, whenever
      // the batches were fetched (kafkajs may fetch again, in the generation it was dropped from).
      const freezeEnd = freezes.lastFreezeEnd();
      const reason = rejoined
        ? 'the consumer rejoined its group after these batches were fetched'
        : Date.now() - confirmedAt > options.heartbeatMs + 1_000
          ? 'the consumer is rejoining its group (no heartbeat answered)'
          : freezes.frozeSince(oldestFetch) ||
              (freezeEnd > 0 && confirmedAt < freezeEnd + options.heartbeatMs)
            ? 'the process was frozen; no heartbeat answered since vouches for the group membership yet'
            : null;
      if (reason !== null) {
        // kafkajs is CommonJS and spreads its error classes into its exports: Node's ESM loader cannot
        // see them as named exports, hence the default import.
        const e = new kafkajs.KafkaJSError(reason, { retriable: true });
        throw Object.assign(e, { type: 'STALE_GENERATION' });
      }
    },
    stop: () => freezes.stop(),
  };
}
