// The scenario suite against the real Redis (scripts/services.sh), a unique key prefix per test.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { parseEntity, parseMonths } from '../../operators/redis/layout.ts';
import { createRedisStore } from '../../operators/redisStore.ts';
import type { StateStore, StoreOp } from '../../operators/stateStore.ts';
import { conformanceSuite } from './conformance.ts';
import { adjustment, DAY, decisionOf, harness, HOUR, T0, tap } from './harness.ts';

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefixes: string[] = [];
const makeStore = () => {
  const keyPrefix = `test:${randomUUID().slice(0, 8)}:`;
  prefixes.push(keyPrefix);
  return createRedisStore({ redis, keyPrefix });
};

afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

conformanceSuite('redis store', makeStore);

describe('redis store specifics', () => {
  it('every key has a TTL, keys carry one hash tag each, and a batch is one round trip plus one', async () => {
    const store = makeStore();
    const h = harness(store);
    const before = store.roundTrips();
    const out = await h.send(
      ...Array.from({ length: 50 }, (_, i) => tap({ t: T0 + i, account_id: `acc-${i % 7}` })),
    );
    expect(out).toHaveLength(50);
    expect(store.roundTrips() - before).toBe(2);
    const prefix = prefixes[prefixes.length - 1]!;
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(50);
    for (const k of keys) {
      expect(await redis.pttl(k)).toBeGreaterThan(0);
      expect(k.slice(prefix.length)).toMatch(/^\{[amdt]:[^}]+\}$|^\{m:[^}]+\}:[tz]$/);
    }
  });

  it('a second store on the same keys sees the first decision (state is in Redis, not the process)', async () => {
    const store = makeStore();
    const first = decisionOf(await harness(store).send(tap({ t: T0, tap_id: 'shared-1' })));
    const again = decisionOf(await harness(store).send(tap({ t: T0, tap_id: 'shared-1' })));
    expect(again).toEqual({ ...first, duplicate: true });
  });

  it("a phone's month sums over five months, with a late tap and a refund, match the memory store; dropped months leave the counted taps", async () => {
    const store = makeStore();
    const prefix = prefixes[prefixes.length - 1]!;
    const memory = createMemoryStore();
    // Seoul months: T0 is 2026-11-09; taps 35 days apart fall in five months, two in the newest.
    const taps = [0, 35, 70, 105, 140].map((d, i) =>
      tap({ t: T0 + d * DAY, msisdn_hash: 'p-5', amount: 1000 * (i + 1) }),
    );
    const late = tap({ t: T0 + 140 * DAY - HOUR, msisdn_hash: 'p-5', amount: 7 });
    const records = [
      ...taps.slice(0, 4),
      adjustment({ t: T0 + 106 * DAY, tap_id: taps[3]!.tap_id, kind: 'REFUND', amount: 400 }),
      taps[4]!,
      late,
    ];
    const storedPhone = async () => parseEntity('m', (await redis.get(`${prefix}{m:p-5}`))!);
    for (const r of records) {
      expect(await harness(store).send(r)).toEqual(await harness(memory).send(r));
      expect((await storedPhone()).mo).toEqual(memory.entity({ type: 'm', id: 'p-5' })!.mo);
    }
    const stored = await storedPhone();
    expect(Object.keys(stored.mo!).sort()).toEqual(['2027-01|KRW', '2027-02|KRW', '2027-03|KRW']);
    // 4,000 less the 400 refund; 5,000 and the late tap's 7 in the newest month
    expect(stored.mo!['2027-02|KRW']).toBe(3600);
    expect(stored.mo!['2027-03|KRW']).toBe(5007);
    const counted = await redis.hkeys(`${prefix}{m:p-5}:t`);
    expect(counted.sort()).toEqual([taps[2]!.tap_id, taps[3]!.tap_id, taps[4]!.tap_id, late.tap_id].sort());
  });

  it('month sums an earlier version wrote as a cjson object are read, and carried on as text', async () => {
    const store = makeStore();
    const prefix = prefixes[prefixes.length - 1]!;
    const key = `${prefix}{m:p-legacy}`;
    // header: m, cut, month sums (cjson), holds, adjustment ids; no events
    await redis.set(key, `${T0 - HOUR}\x1f${T0 - 30 * HOUR}\x1f{"2026-11|KRW":995000}\x1f\x1f`, 'PX', 60_000);
    expect(parseMonths('{"2026-11|KRW":995000}')).toEqual({ '2026-11|KRW': 995_000 });
    const d = decisionOf(await harness(store).send(tap({ t: T0, msisdn_hash: 'p-legacy', amount: 5001 })));
    expect(d.rules).toContain('monthly_cap');
    const raw = (await redis.get(key))!;
    expect(raw).not.toContain('{');
    expect(parseEntity('m', raw).mo).toEqual({ '2026-11|KRW': 1_000_001 });
  });

  it('a shorter retention hides the events it ends, also behind a live one, when the tap does not move the newest time', async () => {
    const insert = (id: string, t: number, retentionMs: number): StoreOp => ({
      op: 'insertEvent',
      entity: { type: 'd', id: 'dev-ret' },
      event: [id, t, 'acc-1'],
      retentionMs,
      ttlMs: DAY,
    });
    // e2 arrives late and sits behind e1 in the stored string; the third insert, older than the
    // newest time, comes with a 2 h retention that ends e2 but not e1.
    const ops = [
      insert('e1', T0 + 5 * HOUR, 10 * HOUR),
      insert('e2', T0, 10 * HOUR),
      insert('e3', T0 + 4 * HOUR, 2 * HOUR),
    ];
    const ids = async (s: StateStore) => {
      const out: string[][] = [];
      for (const op of ops) {
        const [res] = await s.execute([[op]])[0]!;
        if (res?.op !== 'insertEvent') throw new Error('expected an insert result');
        out.push(res.state.e.map((e) => e[0]));
      }
      return out;
    };
    const viaRedis = await ids(makeStore());
    expect(viaRedis).toEqual(await ids(createMemoryStore()));
    expect(viaRedis[2]).toEqual(['e1', 'e3']);
  });

  it("a phone's month-tap keys outlive the phone key, and those an expired phone left are cleared before its next tap counts", async () => {
    const store = makeStore();
    const prefix = prefixes[prefixes.length - 1]!;
    const phone = `${prefix}{m:p-ttl}`;
    const first = tap({ t: T0 + HOUR, msisdn_hash: 'p-ttl', amount: 5000 });
    await harness(store).send(first, tap({ t: T0 + 2 * HOUR, msisdn_hash: 'p-ttl', amount: 700 }));
    const phoneTtl = await redis.pttl(phone);
    expect(phoneTtl).toBeGreaterThan(0);
    for (const aux of [`${phone}:t`, `${phone}:z`])
      expect(await redis.pttl(aux)).toBeGreaterThanOrEqual(phoneTtl);
    // The phone key expires first (its month-tap keys may live up to a day longer): then a tap of the
    // same month dated before the expired phone's taps must not see them as counted after it.
    await redis.del(phone);
    // (another account and device: only the phone's state is gone)
    const next = tap({
      t: T0,
      msisdn_hash: 'p-ttl',
      amount: 1000,
      account_id: 'acc-ttl',
      device_id: 'dev-ttl',
    });
    expect(await harness(store).send(next)).toEqual(await harness(createMemoryStore()).send(next));
    expect(await redis.hkeys(`${phone}:t`)).toEqual([next.tap_id]);
    expect(await redis.zrange(`${phone}:z`, 0, -1)).toEqual([next.tap_id]);
  });
});
