// The naive reference design must compute what the default rules need, or its taps/s would be a
// figure for less work than the real store does. Checked on the real Redis with hand-made taps.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { naiveKeys, naiveTapScript, seoulMonth } from '../../bench/redisReference.ts';
import { deleteByPrefix } from '../../bench/redisKeys.ts';
import type { Tap } from '../../schemas/types.ts';

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const prefix = `test-bench-${randomUUID()}:`;
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const t0 = Date.UTC(2026, 10, 3, 1, 0, 0);
function tap(n: number, over: Partial<Tap>): Tap {
  return {
    tap_id: `t${n}`,
    occurred_at: t0,
    account_id: 'acct-1',
    msisdn: '+821012345678',
    carrier: 'SKT',
    device_id: 'dev-1',
    ip: '211.234.10.20',
    platform_id: 'webtoonia',
    creator_id: null,
    item_id: null,
    channel: 'APP',
    amount: 1_000,
    currency: 'KRW',
    status: 'APPROVED',
    retry_of: null,
    ...over,
  };
}

async function apply(t: Tap): Promise<number[]> {
  const args = [
    t.tap_id,
    t.occurred_at,
    t.amount,
    t.status,
    t.account_id,
    t.device_id,
    t.ip,
    seoulMonth(t.occurred_at),
    t.retry_of ? '1' : '0',
    600_000,
  ];
  return (await redis.eval(naiveTapScript, 9, ...naiveKeys(prefix, t), ...args)) as number[];
}

describe('naive one-script-per-tap reference', () => {
  it('counts sliding windows, sums approved amounts, counts distinct entities and ignores replays', async () => {
    // [burst, declines, 24h approved sum, accounts per phone, accounts per device, devices per account, monthly]
    expect(await apply(tap(1, {}))).toEqual([1, 0, 1_000, 1, 1, 1, 1_000]);
    expect(await apply(tap(2, { occurred_at: t0 + 10_000, status: 'DECLINED', amount: 500 }))).toEqual([
      2, 1, 1_000, 1, 1, 1, 1_000,
    ]);
    // A replay of tap 2 changes nothing and says so.
    expect(await apply(tap(2, { occurred_at: t0 + 10_000, status: 'DECLINED', amount: 500 }))).toEqual([-1]);
    // A silent retry does not count again in the burst window, but its approved amount does.
    expect(await apply(tap(3, { occurred_at: t0 + 20_000, retry_of: 't2', amount: 2_000 }))).toEqual([
      2, 1, 3_000, 1, 1, 1, 3_000,
    ]);
    // 60 s later tap 1 has left the burst window (t - 60 s, t]; a second account and device appear.
    expect(
      await apply(tap(4, { occurred_at: t0 + 60_000, account_id: 'acct-2', device_id: 'dev-2' })),
    ).toEqual([1, 0, 4_000, 2, 1, 1, 4_000]);
    expect(await apply(tap(5, { occurred_at: t0 + 70_000, device_id: 'dev-2' }))).toEqual([
      1, 1, 5_000, 2, 2, 2, 5_000,
    ]);
    // 24 h after tap 1 (window (t0, t0 + 24 h]) its amount has left the daily sum but stays in the month;
    // both devices of acct-1 were seen after t0, so they still count.
    expect(await apply(tap(6, { occurred_at: t0 + 86_400_000 }))).toEqual([1, 0, 5_000, 2, 1, 2, 6_000]);
  });
});
