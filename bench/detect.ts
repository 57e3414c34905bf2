/**
 * Taps/s through the detection engine, with the in-memory store and with the Redis store
 * (REDIS_URL, default redis://127.0.0.1:6379), and what the Redis store costs per tap, all measured
 * in the same run:
 *  - round trips and Redis commands per tap (INFO commandstats delta: exact on a private Redis, other
 *    clients' commands included on the shared one);
 *  - Redis time per tap: commandstats usec (wall time inside commands, inflated when the box is
 *    loaded) and Redis's own CPU time (INFO cpu delta);
 *  - bytes of Redis memory per entity kind (MEMORY USAGE of the run's keys, before cleanup);
 *  - the client-side floor: pipelined INCR, one per tap, same batch size, same client.
 * Figures are printed, and as `BENCH {...}` lines for `npm run bench`.
 *
 *   npx node bench/detect.ts [taps=200000] [batch=1000]      ONLY_MEMORY=1 / ONLY_REDIS=1 to skip one
 *   PHONES=10 TAP_GAP_MS=6000 …                              heavy phones (long windows, month maps)
 *   WORKLOAD=pipeline …                                      the pipeline benchmarks' taps (bench/taps.ts)
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisCounters } from './redisCounters.ts';
import { memoryOfPrefix } from './redisKeys.ts';
import { takeTaps } from './taps.ts';
import { createDetector, type DetectorInput } from '../operators/detector.ts';
import { openGeo } from '../operators/geo.ts';
import { createMemoryStore } from '../operators/memoryStore.ts';
import { createRedisStore } from '../operators/redisStore.ts';
import { defaultRuleSet } from '../operators/rulesFile.ts';
import type { StateStore } from '../operators/stateStore.ts';
import { enrichTap } from '../schemas/msisdn.ts';
import type { EnrichedTap } from '../schemas/types.ts';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 1000);
/** Heavy entities: PHONES=10 TAP_GAP_MS=6000 gives ten phones with long 24 h windows and month maps. */
const phones = Number(process.env['PHONES'] ?? 0);
const tapGapMs = Number(process.env['TAP_GAP_MS'] ?? 2);
const ips = ['168.126.63.1', '164.124.101.2', '211.234.10.1', '8.8.8.8', '121.134.1.1'];

/**
 * WORKLOAD=pipeline: the taps the pipeline benchmarks send the worker (bench/taps.ts: 10,000 accounts
 * drawn with a skew, so a few heavy accounts and phones carry long windows), enriched as the worker
 * does (phone number → keyed hash).
 */
function* pipelineTaps(n: number): Generator<EnrichedTap> {
  const pii = { key: 'bench-key-0123456789', version: 1 };
  for (const tap of takeTaps({ accounts: 10_000, idPrefix: 'bw' }, n)) {
    const enriched = enrichTap(tap, pii);
    if ('error' in enriched) throw new Error(`bench tap ${tap.tap_id}: ${enriched.error}`);
    yield enriched;
  }
}

// A deterministic stream: 50,000 accounts, a tap every 2 ms of event time (~43,000 taps/day),
// a little disorder, a few declines and retries.
function* taps(n: number): Generator<EnrichedTap> {
  if (process.env['WORKLOAD'] === 'pipeline') {
    yield* pipelineTaps(n);
    return;
  }
  let seed = 42;
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rnd() * 50_000);
    yield {
      tap_id: `b-${i}`,
      occurred_at: t0 + i * tapGapMs - Math.floor(rnd() * 1000),
      account_id: `acc-${a}`,
      msisdn_hash: `phone-${phones > 0 ? a % phones : a}`,
      msisdn_key_version: 1,
      carrier: 'SKT',
      device_id: `dev-${a % 45_000}`,
      ip: ips[a % ips.length]!,
      platform_id: 'toonville',
      creator_id: `c-${a % 300}`,
      item_id: null,
      channel: 'APP',
      amount: 300 + Math.floor(rnd() * 10) * 100,
      currency: 'KRW',
      status: rnd() < 0.03 ? 'DECLINED' : 'APPROVED',
      retry_of: null,
    };
  }
}

function figure(metric: string, unit: string, value: number, better?: 'higher' | 'lower'): void {
  console.log(`BENCH ${JSON.stringify({ metric, unit, value, ...(better ? { better } : {}) })}`);
}

async function measure(name: string, store: StateStore): Promise<number> {
  const detector = createDetector({ store, rules: defaultRuleSet(), geo: await openGeo() });
  let batch: DetectorInput[] = [];
  let decided = 0;
  const started = process.hrtime.bigint();
  for (const tap of taps(total)) {
    batch.push({ kind: 'tap', tap });
    if (batch.length === batchSize) {
      decided += (await detector.processBatch(batch)).length;
      batch = [];
    }
  }
  if (batch.length > 0) decided += (await detector.processBatch(batch)).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const trips = store.roundTrips();
  const rate = decided / seconds;
  console.log(
    `${name.padEnd(8)} ${decided} taps in ${seconds.toFixed(2)} s: ${Math.round(rate).toLocaleString('en-US')} taps/s` +
      (trips > 0 ? `, ${trips} round trips (${(trips / decided).toFixed(4)} per tap)` : ''),
  );
  figure(`detect ${name} store`, 'taps/s', rate, 'higher');
  if (trips > 0) figure(`detect ${name} round trips per tap`, 'trips/tap', trips / decided, 'lower');
  return decided;
}

/** Pipelined INCR, one per tap in batches of the same size: nothing per tap is cheaper for Node. */
async function incrFloor(redis: Redis, prefix: string): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < total; i += batchSize) {
    const pipe = redis.pipeline();
    for (let j = i; j < Math.min(i + batchSize, total); j++) pipe.incr(`${prefix}ctr:${j & 1023}`);
    await pipe.exec();
  }
  const rate = total / ((performance.now() - started) / 1000);
  console.log(
    `incr     ${total} pipelined INCR: ${Math.round(rate).toLocaleString('en-US')}/s (client floor)`,
  );
  figure('detect pipelined INCR floor', 'cmd/s', rate, 'higher');
}

/** MEMORY USAGE of the run's keys by kind: account, phone (with its month-tap keys), device, tap index. */
async function memoryPerEntity(redis: Redis, prefix: string): Promise<void> {
  const kinds: Array<[string, string[]]> = [
    ['account', ['{a:']],
    ['phone', ['{m:']],
    ['device', ['{d:']],
    ['tap index entry', ['{t:']],
  ];
  for (const [kind, patterns] of kinds) {
    let bytes = 0;
    let entities = 0;
    for (const pattern of patterns) {
      const own = await memoryOfPrefix(redis, `${prefix}${pattern}`);
      bytes += own.bytes;
    }
    // Entities, not keys: a phone's :t and :z keys count towards the phone.
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}${patterns[0]}*`, 'COUNT', 10_000);
      cursor = next;
      entities += keys.filter((k) => k.endsWith('}')).length;
    } while (cursor !== '0');
    if (entities === 0) continue;
    console.log(`memory   ${kind}: ${entities} keys, ${Math.round(bytes / entities)} B each`);
    figure(`detect redis memory per ${kind}`, 'B', bytes / entities, 'lower');
  }
}

console.log(`node ${process.version}, batch ${batchSize}`);
if (!process.env['ONLY_REDIS']) await measure('memory', createMemoryStore());
if (process.env['ONLY_MEMORY']) process.exit(0);
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const keyPrefix = `bench:${randomUUID().slice(0, 8)}:`;
try {
  const before = await redisCounters(redis);
  const decided = await measure('redis', createRedisStore({ redis, keyPrefix }));
  const after = await redisCounters(redis);
  const perTap = (x: number) => x / decided;
  console.log(
    `redis    per tap: ${perTap(after.calls - before.calls).toFixed(2)} commands, ` +
      `${perTap(after.usec - before.usec).toFixed(1)} µs inside commands, ` +
      `${perTap((after.cpuSeconds - before.cpuSeconds) * 1e6).toFixed(1)} µs of Redis CPU`,
  );
  figure('detect redis commands per tap', 'cmd/tap', perTap(after.calls - before.calls), 'lower');
  figure('detect redis usec per tap (commandstats)', 'µs/tap', perTap(after.usec - before.usec), 'lower');
  figure('detect redis CPU per tap', 'µs/tap', perTap((after.cpuSeconds - before.cpuSeconds) * 1e6), 'lower');
  await memoryPerEntity(redis, keyPrefix);
  await incrFloor(redis, keyPrefix);
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
