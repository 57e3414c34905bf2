/**
 * The worker's check, right before each commit, that the group still counts it in the generation its
 * batches were fetched in. kafkajs's TxnOffsetCommit carries no generation (no KIP-447 fencing), so
 * the broker would take the offsets of a member dropped past its session timeout (frozen, cut off)
 * while the partition's new owner processes the same batches: a zombie commit, every output twice.
 *
 * What vouches for a batch: a heartbeat answered in the generation it was fetched in, whose request
 * was SENT recently and answered promptly. The broker answered it while the member was in the group,
 * and the group keeps a member at least a session timeout after the heartbeat it processed, which came
 * after the send (unless the broker itself stalled meanwhile: hence promptly). The time the answer was
 * READ alone proves nothing: kafkajs shares one in-flight heartbeat among its callers, so
 * an answer read now can be to a request sent before a freeze of this process or a stall of the
 * broker, and the member dropped since (test/faults/groupMembership.int.test.ts (c) and (d): 1,000
 * decisions committed twice on the strength of such answers). So the worker notes each heartbeat's
 * send time (kafkajs's request event) and hands it over with the answer.
 *
 * When the last answer is not fresh, the check waits for the next heartbeat (kafkajs sends one a
 * heartbeat interval after reading the last answer), up to a limit; any error of it stops the commit,
 * and so does the limit (what cannot be confirmed is not committed: the batches are processed again,
 * from the committed offsets). An answer in a later generation (the consumer rejoined meanwhile,
 * through another partition's batch) does not vouch, nor does a call that returns without asking the
 * group (kafkajs has dropped its member id and is rejoining).
 */
import kafkajs, { type EachBatchPayload } from 'kafkajs';

/** Errors by which kafkajs says this member is no longer (or not yet again) in the group's generation. */
const MEMBERSHIP_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  // The worker's own (below): the batch was fetched before the consumer (re)joined, or no recent
  // heartbeat vouches for the membership.
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
  /**
   * A heartbeat sent at `sentAt` (epoch ms) was answered: the group counted this member at some time
   * between then and now. It vouches only when that span is short (the broker and this process both
   * ran: no stall in between in which the member could have been dropped).
   */
  heartbeatAnswered(sentAt: number): void;
  /** The consumer joined the group (a new generation, confirmed). */
  joined(): void;
  /** The consumer crashed: what it fetched before is of an old generation. */
  crashed(): void;
  /** Heartbeats, then throws (type STALE_GENERATION, or kafkajs's own) unless the batches are vouched for. */
  confirm(payloads: EachBatchPayload[]): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createMembershipCheck(options: { heartbeatMs: number }): MembershipCheck {
  let generation = 0;
  /** When the request of the last answered heartbeat was sent (or the consumer last joined). */
  let vouchedAt = 0;
  const fetchedIn = new WeakMap<EachBatchPayload, number>();
  // An answer to a request sent within a heartbeat interval and a second: the one kafkajs sent last
  // is never older than that unless its round trip took over a second. The group keeps the member a
  // session timeout (three heartbeat intervals or more) after processing it, so the commit that
  // follows the check has at least a heartbeat interval to land.
  const freshMs = options.heartbeatMs + 1_000;
  // A round trip longer than half a heartbeat interval means a stall of the broker, of the network or
  // of this process while the request was out; the group may have dropped the member during it.
  const roundTripMs = Math.floor(options.heartbeatMs / 2);
  // Long enough for kafkajs to send the next heartbeat (a heartbeat interval after reading the last
  // answer) and read its answer.
  const waitMs = options.heartbeatMs + 2_000;

  const stale = (reason: string) =>
    // kafkajs is CommonJS and spreads its error classes into its exports: Node's ESM loader cannot
    // see them as named exports, hence the default import.
    Object.assign(new kafkajs.KafkaJSError(reason, { retriable: true }), { type: 'STALE_GENERATION' });

  return {
    get generation() {
      return generation;
    },
    fetched(payload) {
      fetchedIn.set(payload, generation);
    },
    heartbeatAnswered(sentAt) {
      if (Date.now() - sentAt <= roundTripMs) vouchedAt = Math.max(vouchedAt, sentAt);
    },
    joined() {
      generation++;
      vouchedAt = Date.now();
    },
    crashed() {
      generation++;
    },
    async confirm(payloads) {
      const giveUpAt = Date.now() + waitMs;
      for (;;) {
        await payloads[0]!.heartbeat();
        if (payloads.some((p) => fetchedIn.get(p) !== generation))
          throw stale('the consumer rejoined its group after these batches were fetched');
        if (Date.now() - vouchedAt <= freshMs) return;
        if (Date.now() >= giveUpAt)
          throw stale(
            `no heartbeat sent in the last ${freshMs} ms was answered within ${waitMs} ms: the consumer is rejoining its group, or this process or the broker stalled`,
          );
        await sleep(100);
      }
    },
  };
}
