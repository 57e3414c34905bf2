import type { EachBatchPayload } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMembershipCheck, membershipError } from '../../pipeline/groupMembership.ts';

/** A batch as kafkajs hands it over; only its heartbeat is used, answering as `answer` says. */
function batch(answer: () => Promise<void> = async () => {}): EachBatchPayload {
  return { heartbeat: answer } as unknown as EachBatchPayload;
}

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
  const options = { sessionTimeoutMs: 6000, heartbeatMs: 2000 };

  it('lets a batch of this generation through when a heartbeat was just answered', async () => {
    const check = createMembershipCheck(options);
    check.joined();
    const b = batch(async () => check.heartbeatAnswered());
    check.fetched(b);
    vi.advanceTimersByTime(500);
    await expect(check.confirm([b])).resolves.toBeUndefined();
    check.stop();
  });

  it('stops a batch fetched before the consumer rejoined or crashed', async () => {
    const check = createMembershipCheck(options);
    check.joined();
    const b = batch(async () => check.heartbeatAnswered());
    check.fetched(b);
    check.joined();
    await stale(check.confirm([b]), /rejoined/);
    const c = batch(async () => check.heartbeatAnswered());
    check.fetched(c);
    check.crashed();
    await stale(check.confirm([c]), /rejoined/);
    check.stop();
  });

  it('stops a batch when no heartbeat was answered within the interval (kafkajs is rejoining)', async () => {
    const check = createMembershipCheck(options);
    check.joined();
    const b = batch(); // returns without asking the group
    check.fetched(b);
    vi.advanceTimersByTime(3500);
    await stale(check.confirm([b]), /no heartbeat answered/);
    check.stop();
  });

  it('after a freeze, stops every batch until a heartbeat answered a heartbeat interval later', async () => {
    const check = createMembershipCheck(options);
    check.joined();
    const b = batch(async () => check.heartbeatAnswered());
    check.fetched(b);
    vi.setSystemTime(Date.now() + 10_000); // SIGSTOP for 10 s: no timer runs
    // The answer read first may be to a request sent before the freeze (kafkajs shares it).
    await stale(check.confirm([b]), /frozen/);
    // kafkajs fetches again in the generation it may have been dropped from: stopped too (in one CI
    // run such a batch, fetched after the freeze, was committed a second time).
    vi.advanceTimersByTime(200);
    const c = batch(async () => check.heartbeatAnswered());
    check.fetched(c);
    await stale(check.confirm([c]), /frozen/);
    // A heartbeat answered a heartbeat interval after the freeze was sent after it: membership holds.
    vi.advanceTimersByTime(2000);
    const d = batch(async () => check.heartbeatAnswered());
    check.fetched(d);
    await expect(check.confirm([d])).resolves.toBeUndefined();
    check.stop();
  });

  it("passes kafkajs's own membership errors on, and tells them from others", async () => {
    const check = createMembershipCheck(options);
    check.joined();
    const gone = Object.assign(new Error('The coordinator is not aware of this member'), {
      type: 'UNKNOWN_MEMBER_ID',
    });
    const b = batch(async () => Promise.reject(gone));
    check.fetched(b);
    await expect(check.confirm([b])).rejects.toBe(gone);
    expect(membershipError(gone)).toBe('UNKNOWN_MEMBER_ID');
    expect(membershipError(new Error('socket hang up'))).toBeNull();
    check.stop();
  });
});
