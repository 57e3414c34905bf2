// Why the join/leave fault test places its stream with entityPartitions: the detector, on the Redis
// store as the worker runs it, reads the partitions in the most extreme interleavings, one whole
// partition after another in either order. Placed by entity components, every interleaving gives the
// decisions of the stream read in order, which is what makes the no-fault reference exact; placed by
// account (how a PG keys taps), reading its partitions one after another changes decisions (45 of
// 6,000 on 2026-11-23), so no single reference would be well defined. (The in-memory store of `tapline backtest` cannot show this: it expires state by
// event time, 3 days behind the newest tap, and these interleavings go back 8 days.)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../operators/redisStore.ts';
import { loadConfig } from '../../pipeline/config.ts';
import { normalizeMsisdn } from '../../schemas/msisdn.ts';
import type { Tap } from '../../schemas/types.ts';
import { deleteByPrefix } from '../../bench/redisKeys.ts';
import { referenceDecisions } from '../support/referenceDecisions.ts';
import { entityPartitions } from './entityPartitions.ts';
import { figures } from './figures.ts';
import { simulatedTaps } from './harness.ts';

const config = loadConfig({ TAPLINE_ENV: 'test' }).config;
const pii = { key: config.secrets.piiKey!, version: config.secrets.piiKeyVersion };
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefix = `entityparts-${randomBytes(4).toString('hex')}-`;
let runs = 0;
const results = figures('faults');
afterAll(async () => {
  results.print();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

/** Decisions when the partitions are read whole, one after another, in `order`. */
async function decideByPartition(
  placed: readonly { tap: Tap; partition: number }[],
  order: readonly number[],
): Promise<Map<string, string>> {
  const taps = order.flatMap((p) => placed.filter((x) => x.partition === p).map((x) => x.tap));
  return referenceDecisions(taps, pii, createRedisStore({ redis, keyPrefix: `${prefix}${runs++}:` }));
}

/** Kafka's default partitioner is a hash of the key; any stable hash of the account shows the point. */
function byAccount(taps: readonly Tap[], partitions: number): { tap: Tap; partition: number }[] {
  const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return taps.map((tap) => ({ tap, partition: hash(tap.account_id) % partitions }));
}

const differing = (a: Map<string, string>, b: Map<string, string>) =>
  [...a].filter(([id, outcome]) => b.get(id) !== outcome).length;

describe('a stream placed by entity components', () => {
  it('puts a phone on one partition whichever form it is written in', () => {
    const taps = simulatedTaps(8000, 31);
    const placed = entityPartitions(taps, 4, 'taps');
    const partitionsOf = new Map<string, Set<number>>();
    for (const { tap, partition } of placed) {
      const phone = normalizeMsisdn(tap.msisdn)!;
      partitionsOf.set(phone, (partitionsOf.get(phone) ?? new Set()).add(partition));
    }
    const forms = new Map<string, Set<string>>();
    for (const t of taps)
      forms.set(
        normalizeMsisdn(t.msisdn)!,
        (forms.get(normalizeMsisdn(t.msisdn)!) ?? new Set()).add(t.msisdn),
      );
    // The simulator writes phones in national and E.164 forms: the case this guards is there.
    expect([...forms.values()].filter((f) => f.size > 1).length).toBeGreaterThan(100);
    expect([...partitionsOf].filter(([, ps]) => ps.size > 1)).toEqual([]);
  });

  // 29 is the join/leave test's stream, 31 the rebalance test's. Placed by raw phone text (national
  // and E.164 forms of one phone apart), 31 changed 3 decisions read this way.
  it.each([29, 31])(
    'gives the in-order decisions however its partitions interleave; placed by account it does not (seed %i)',
    async (seed) => {
      const taps = simulatedTaps(6000, seed);
      const inOrder = await referenceDecisions(taps, pii);
      const placed = entityPartitions(taps, 4, 'taps');
      expect(new Set(placed.map((p) => p.partition)).size).toBe(4);
      // Each partition's taps keep stream order, and their positions count from 0 on each partition.
      for (let p = 0; p < 4; p++) {
        const mine = placed.filter((x) => x.partition === p);
        expect(mine.map((x) => x.source)).toEqual(mine.map((_, i) => `taps/${p}/${i}`));
      }
      for (const order of [
        [0, 1, 2, 3],
        [3, 2, 1, 0],
      ])
        expect(differing(await decideByPartition(placed, order), inOrder), `order ${order.join(',')}`).toBe(
          0,
        );

      const changed = differing(await decideByPartition(byAccount(taps, 4), [0, 1, 2, 3]), inOrder);
      expect(changed).toBeGreaterThan(0);
      results.add(`partitions read whole, one after another (seed ${seed})`, {
        taps: taps.length,
        changedPlacedByComponent: 0,
        changedPlacedByAccount: changed,
      });
    },
    120_000,
  );
});
