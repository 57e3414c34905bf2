import type { EachBatchPayload } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createMembershipCheck,
  membershipError,
  type MembershipCheck,
} from '../../pipeline/groupMembership.ts';

const HEARTBEAT_MS = 2000;

/**
 * kafkajs's consumer group as the check sees it: `heartbeat()` sends a request only when a heartbeat
 * interval has passed since the last answer was read, and the answer (from `answer`) reaches the check
 * with the request's send time, as the worker wires it (pipeline/worker.ts).
 */
function group(check: MembershipCheck, answer: () => Promise<void> = async () => {}) {
  const g = {
    lastRead: 0,
    sent: 0,
    answer,
    async heartbeat() {
      if (Date.now() < g.lastRead + HEARTBEAT_MS) return;
      const sentAt = Date.now();
      g.sent++;
      await g.answer();
      check.heartbeatAnswered(sentAt);
      g.lastRead = Date.now();
    },
    /** A batch as kafkajs hands it over; only its heartbeat is used. */
    batch(): EachBatchPayload {
      const payload = { heartbeat: () => g.heartbeat() } as unknown as EachBatchPayload;
      check.fetched(payload);
      return payload;
    },
  };
  return g;
}

/** kafkajs's error when the group has dropped the member. */
const gone = Object.assign(new Error('The coordinator is not aware of this member'), {
  type: 'UNKNOWN_MEMBER_ID',
});

const stale = (p: Promise<void>, reason: RegExp) =>
  expect(p).rejects.toSatisfy(
    (e: unknown) => membershipError(e) === 'STALE_GENERATION' && reason.test(String(e)),
  );

describe('the membership check before a commit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse('2026-11-23T12:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('lets a batch of this generation through when a heartbeat sent just now was answered', async () => {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const g = group(check);
    const b = g.batch();
    vi.advanceTimersByTime(2500);
    await expect(check.confirm([b])).resolves.toBeUndefined();
    expect(g.sent).toBe(1);
    // Within the interval kafkajs sends nothing; the answer just read still vouches.
    vi.advanceTimersByTime(1500);
    await expect(check.confirm([g.batch()])).resolves.toBeUndefined();
    expect(g.sent).toBe(1);
  });

  it('stops a batch fetched before the consumer rejoined or crashed', async () => {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const g = group(check);
    const b = g.batch();
    check.joined();
    await stale(check.confirm([b]), /rejoined/);
    const c = g.batch();
    check.crashed();
    await stale(check.confirm([c]), /rejoined/);
  });

  it('waits for the next heartbeat, and stops the batch when none is answered (kafkajs is rejoining)', async () => {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const b = group(check).batch();
    // kafkajs without a member id returns from heartbeat() without asking the group.
    (b as unknown as { heartbeat: () => Promise<void> }).heartbeat = async () => {};
    vi.advanceTimersByTime(3500);
    const confirmed = check.confirm([b]);
    const settled = stale(confirmed, /no heartbeat sent in the last 3000 ms was answered/);
    await vi.advanceTimersByTimeAsync(3900);
    // Still waiting: the next heartbeat could yet be answered.
    let done = false;
    void confirmed.catch(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await settled;
  });

  /**
   * An answer read `lateMs` after its request was sent (`afterJoinMs` after the join) does not vouch:
   * the check waits for the next heartbeat, which finds the member gone.
   */
  async function expectLateAnswerRefused(lateMs: number, afterJoinMs: number) {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const g = group(check);
    const b = g.batch();
    vi.advanceTimersByTime(afterJoinMs);
    const sentAt = Date.now();
    vi.setSystemTime(sentAt + lateMs);
    check.heartbeatAnswered(sentAt);
    g.lastRead = Date.now();
    g.answer = () => Promise.reject(gone);
    const confirmed = check.confirm([b]);
    const settled = expect(confirmed).rejects.toBe(gone);
    await vi.advanceTimersByTimeAsync(2100);
    await settled;
    expect(g.sent).toBe(1); // the one sent a heartbeat interval after the late answer was read
  }

  it('does not take an answer read after a freeze to a request sent before it: it asks again', async () => {
    // A heartbeat goes out, the process freezes for 10 s (the broker answers meanwhile, the member
    // still in the group), and the answer is read after the freeze: the group dropped the member since.
    await expectLateAnswerRefused(10_000, 0);
  });

  it('does not take a slow answer to a recent request (a stall of the broker): it asks again', async () => {
    // Sent 2.5 s ago, within the 3 s a request counts as recent, but answered only now: the broker may
    // have stalled past the session timeout with it queued, answered it, and dropped the member.
    await expectLateAnswerRefused(2_500, 5_000);
  });

  it('commits after a freeze once a heartbeat sent after it is answered', async () => {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const g = group(check);
    const b = g.batch();
    const sentAt = Date.now();
    vi.setSystemTime(sentAt + 4_000); // shorter than the session: the member is still in the group
    check.heartbeatAnswered(sentAt);
    g.lastRead = Date.now();
    const confirmed = check.confirm([b]);
    await vi.advanceTimersByTimeAsync(2100);
    await expect(confirmed).resolves.toBeUndefined();
    expect(g.sent).toBe(1);
  });

  it("passes kafkajs's own membership errors on, and tells them from others", async () => {
    const check = createMembershipCheck({ heartbeatMs: HEARTBEAT_MS });
    check.joined();
    const b = group(check, () => Promise.reject(gone)).batch();
    vi.advanceTimersByTime(2500);
    await expect(check.confirm([b])).rejects.toBe(gone);
    expect(membershipError(gone)).toBe('UNKNOWN_MEMBER_ID');
    expect(membershipError(new Error('socket hang up'))).toBeNull();
  });
});
