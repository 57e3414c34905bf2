/**
 * Taps/s through the detection engine, with the in-memory store and with the Redis store
 * (REDIS_URL, default redis://127.0.0.1:6379), and Redis round trips per tap. Prints figures only.
 *
 *   npx node bench/detect.ts [taps=200000] [batch=1000]
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDetector, type DetectorInput } from '../operators/detector.ts';
import { openGeo } from '../operators/geo.ts';
import { createMemoryStore } from '../operators/memoryStore.ts';
import { createRedisStore } from '../operators/redisStore.ts';
import { defaultRuleSet } from '../operators/rulesFile.ts';
import type { StateStore } from '../operators/stateStore.ts';
import type { EnrichedTap } from '../schemas/types.ts';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 1000);
const ips = ['168.126.63.1', '164.124.101.2', '211.234.10.1', '8.8.8.8', '121.134.1.1'];

// A deterministic stream: 50,000 accounts, a tap every 2 ms of event time (~43,000 taps/day),
// a little disorder, a few declines and retries.
function* taps(n: number): Generator<EnrichedTap> {
  let seed = 42;
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rnd() * 50_000);
    yield {
      tap_id: `b-${i}`,
      occurred_at: t0 + i * 2 - Math.floor(rnd() * 1000),
      account_id: `acc-${a}`,
      msisdn_hash: `phone-${a}`,
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

async function measure(name: string, store: StateStore): Promise<void> {
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
  console.log(
    `${name.padEnd(8)} ${decided} taps in ${seconds.toFixed(2)} s: ${Math.round(decided / seconds).toLocaleString('en-US')} taps/s` +
      (trips > 0 ? `, ${trips} round trips (${(trips / decided).toFixed(4)} per tap)` : ''),
  );
}

console.log(`node ${process.version}, batch ${batchSize}`);
await measure('memory', createMemoryStore());
if (process.env['ONLY_MEMORY']) process.exit(0);
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const keyPrefix = `bench:${randomUUID().slice(0, 8)}:`;
try {
  await measure('redis', createRedisStore({ redis, keyPrefix }));
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
