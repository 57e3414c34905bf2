// The scenario suite against the real Redis (scripts/services.sh), a unique key prefix per test.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../operators/redisStore.ts';
import { conformanceSuite } from './conformance.ts';
import { decisionOf, harness, T0, tap } from './harness.ts';

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
});
