/**
 * What one insert costs as its entity's window grows: Redis CPU, the client's CPU (parsing the state
 * the script returns) and AOF bytes per insert into one account that already holds N live events.
 *
 * The Redis store keeps an entity's window as one string, and an insert reads it, appends one event,
 * writes it back and returns it whole (operators/redisScripts.ts): each of those is O(window). That is
 * cheap for a few events, and the question is how it grows for a hot entity: a heavy user, or the
 * bursts the rules exist to catch. Events are 1 ms apart in event time and the retention is N ms, so
 * the window holds N events throughout: each measured insert adds one and the trim drops the oldest.
 * Inserts go in parts of 50 (one round trip each), as the worker sends a fetch's.
 *
 *   npx node bench/windowCost.ts [sizes=10,100,1000,5000] [inserts=300] [cache=on|off]
 *                                                  REDIS_URL (default redis://127.0.0.1:6379)
 *
 * The figures include other clients' work on a shared Redis; run it on a quiet one.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisCounters } from './redisCounters.ts';
import { deleteByPrefix } from './redisKeys.ts';
import type { AccountEvent } from '../operators/entityState.ts';
import { createRedisStore } from '../operators/redisStore.ts';
import type { StoreOp } from '../operators/stateStore.ts';

const sizes = (process.argv[2] ?? '10,100,1000,5000').split(',').map(Number);
const inserts = Number(process.argv[3] ?? 300);
/** off: every answer parsed whole, as before operators/redis/windowCache.ts. */
const cache = process.argv[4] ?? 'on';
if (
  sizes.some((n) => !Number.isInteger(n) || n < 0) ||
  !Number.isInteger(inserts) ||
  inserts <= 0 ||
  (cache !== 'on' && cache !== 'off')
)
  throw new RangeError(
    'usage: npx node bench/windowCost.ts [sizes=10,100,1000,5000] [inserts=300] [cache=on|off]',
  );

const DAY = 86_400_000;
const start = Date.UTC(2026, 10, 3);

const PART = 50;

function insert(account: string, i: number, window: number): StoreOp {
  const event: AccountEvent = [`wc-${i}`, start + i, 0, `dev-${i % 3}`, 'KR', 37.5665, 126.978];
  return {
    op: 'insertEvent',
    entity: { type: 'a', id: account },
    event,
    retentionMs: window,
    ttlMs: DAY,
  };
}

async function aofBytes(redis: Redis): Promise<number> {
  return Number(/^aof_current_size:(\d+)/m.exec(await redis.info('persistence'))?.[1] ?? NaN);
}

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const run = `bench:wc-${randomUUID().slice(0, 8)}:`;
console.log(
  `node ${process.version}, ${inserts} measured inserts per size, in parts of ${PART}, window cache ${cache}`,
);
console.log('live events | Redis CPU µs/insert | client CPU µs/insert | AOF bytes/insert | state bytes');
try {
  for (const size of sizes) {
    const store = createRedisStore({
      redis,
      keyPrefix: `${run}${size}:`,
      ...(cache === 'off' ? { windowCache: { minChars: Infinity } } : {}),
    });
    const account = 'hot';
    // Fill the window in parts of 500: what is measured is the inserts after it.
    for (let i = 0; i < size; i += 500) {
      const ops: StoreOp[] = [];
      for (let j = i; j < Math.min(size, i + 500); j++) ops.push(insert(account, j, size));
      await Promise.all(store.execute([ops]));
    }
    const before = await redisCounters(redis);
    const aofBefore = await aofBytes(redis);
    const cpuBefore = process.cpuUsage();
    for (let i = size; i < size + inserts; i += PART) {
      const ops: StoreOp[] = [];
      for (let j = i; j < Math.min(size + inserts, i + PART); j++) ops.push(insert(account, j, size));
      const [results] = store.execute([ops]);
      for (const result of await results!)
        if (result.op !== 'insertEvent' || !result.inserted || result.state.e.length !== size)
          throw new Error(`expected ${size} live events, got ${JSON.stringify(result).slice(0, 200)}`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const after = await redisCounters(redis);
    const aof = (await aofBytes(redis)) - aofBefore;
    const stateBytes = await redis.strlen(`${run}${size}:{a:${account}}`);
    const redisUs = ((after.cpuSeconds - before.cpuSeconds) * 1e6) / inserts;
    const clientUs = (cpu.user + cpu.system) / inserts;
    console.log(
      `${String(size).padStart(11)} | ${redisUs.toFixed(1).padStart(19)} | ${clientUs.toFixed(1).padStart(20)} | ${(aof / inserts).toFixed(0).padStart(16)} | ${stateBytes}`,
    );
    for (const [metric, value] of [
      [`redis CPU per insert, ${size} live events`, redisUs],
      [`client CPU per insert, ${size} live events`, clientUs],
    ] as const)
      console.log(`BENCH ${JSON.stringify({ metric, unit: 'µs', value, better: 'lower' })}`);
    await store.close();
  }
} finally {
  await deleteByPrefix(redis, run);
  await redis.quit();
}
