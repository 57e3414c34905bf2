// The detector sends a batch's parts to a store that streams them (Redis) as soon as it cuts them, so
// the store works on the first taps while the later ones are prepared, and the claims of each part's
// taps as soon as they are decided; outcomes stay those of the memory store, which takes every part in
// one call and the claims in one more.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { DetectorInput, Outcome } from '../../operators/detector.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { createRedisStore } from '../../operators/redisStore.ts';
import type { StateStore } from '../../operators/stateStore.ts';
import type { EnrichedTap } from '../../schemas/types.ts';
import { harness, MIN, SEC, T0, tap } from './harness.ts';

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const prefix = `streamed:${randomUUID().slice(0, 8)}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** The store, with every part and finish slice it is sent and every tap prepared written to `log`. */
function logged(store: StateStore, log: string[]): StateStore {
  const stream = store.stream?.bind(store);
  if (!stream) return store;
  return {
    ...store,
    stream() {
      const sent = stream();
      return {
        part(ops) {
          log.push(`part of ${ops.length}`);
          return sent.part(ops);
        },
        finish(ops) {
          log.push(`finish ${ops.map((op) => ('tapId' in op ? op.tapId : op.op)).join(' ')}`);
          return sent.finish(ops);
        },
      };
    },
  };
}

const lazy = (t: EnrichedTap, log: string[]): DetectorInput => ({
  kind: 'lazyTap',
  prepare: () => {
    log.push(`prepare ${t.tap_id}`);
    return { ok: true, tap: t };
  },
});

/** Taps that share accounts, phones and devices across parts, so windows carry from part to part. */
function taps(n: number): EnrichedTap[] {
  return Array.from({ length: n }, (_, i) =>
    tap({
      t: T0 + i * 7 * SEC,
      account_id: `acc-${i % 3}`,
      msisdn_hash: `phone-${i % 2}`,
      device_id: `dev-${i % 4}`,
      status: i % 5 === 4 ? 'DECLINED' : 'APPROVED',
      amount: 120_000 + i,
    }),
  );
}

const shown = (outcomes: Outcome[]) =>
  outcomes.map((o) =>
    o.kind === 'decision'
      ? `${o.decision.tap_id} ${o.decision.decision} ${o.decision.rules.join(',')}`
      : o.kind,
  );

describe('a batch streamed to Redis part by part', () => {
  it('sends each part before the taps after it are prepared, and its claims once decided, with the memory store outcomes', async () => {
    const log: string[] = [];
    // Three operations per tap: two taps a part.
    const store = createRedisStore({ redis, keyPrefix: prefix, opsPerPart: 6 });
    const streamed = harness(logged(store, log));
    const batch = taps(9);
    const before = store.roundTrips();
    const outcomes = await streamed.send(...batch.map((t) => lazy(t, log)));

    // Parts of two taps, each sent when the tap after them is prepared; the last one after the loop.
    const ids = batch.map((t) => t.tap_id);
    expect(log).toEqual([
      `prepare ${ids[0]}`,
      `prepare ${ids[1]}`,
      `prepare ${ids[2]}`,
      'part of 6',
      `prepare ${ids[3]}`,
      `prepare ${ids[4]}`,
      'part of 6',
      `prepare ${ids[5]}`,
      `prepare ${ids[6]}`,
      'part of 6',
      `prepare ${ids[7]}`,
      `prepare ${ids[8]}`,
      'part of 6',
      'part of 3',
      // Then each part's claims (with their decisions) as soon as its taps are decided, while the
      // detector waits for the next part: after every part, as one finish call would be.
      `finish ${ids[0]} ${ids[1]}`,
      `finish ${ids[2]} ${ids[3]}`,
      `finish ${ids[4]} ${ids[5]}`,
      `finish ${ids[6]} ${ids[7]}`,
      `finish ${ids[8]}`,
    ]);
    // The parts, then the claims with their decisions: two round trips, nothing awaited within each.
    expect(store.roundTrips() - before).toBe(2);

    const memory = harness(createMemoryStore());
    const expected = await memory.send(...batch);
    expect(shown(outcomes)).toEqual(shown(expected));
    // The windows carried across parts: the phones' daily amounts and the accounts' bursts fired.
    expect(shown(outcomes).some((s) => s.includes('msisdn_daily_amount'))).toBe(true);
  });

  it('a tap its preparation refuses is rejected in its place, and the taps around it are decided', async () => {
    const store = createRedisStore({ redis, keyPrefix: `${prefix}r:`, opsPerPart: 3 });
    const h = harness(store);
    const [a, b] = [tap({ t: T0 }), tap({ t: T0 + MIN })];
    const outcomes = await h.send(
      { kind: 'lazyTap', prepare: () => ({ ok: true, tap: a }) },
      {
        kind: 'lazyTap',
        prepare: () => ({ ok: false, code: 'VALIDATION_FAILED', reason: 'msisdn: not a number' }),
      },
      { kind: 'lazyTap', prepare: () => ({ ok: true, tap: b }) },
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['decision', 'rejected', 'decision']);
    expect(outcomes[1]).toEqual({
      kind: 'rejected',
      code: 'VALIDATION_FAILED',
      reason: 'msisdn: not a number',
    });
    expect(outcomes.map((o) => (o.kind === 'decision' ? o.decision.tap_id : null))).toEqual([
      a.tap_id,
      null,
      b.tap_id,
    ]);
  });
});
