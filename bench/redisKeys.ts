/**
 * Redis housekeeping for benchmarks: every benchmark writes under a key prefix unique to its run, measures
 * the memory of exactly those keys (other engineers' tests share the server, so a global INFO delta is
 * noisy) and deletes them afterwards.
 */
import type { Redis } from 'ioredis';

export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function memoryOfPrefix(redis: Redis, prefix: string): Promise<{ bytes: number; keys: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const k of batch) pipeline.memory('USAGE', k, 'SAMPLES', '0');
    for (const [err, usage] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      bytes += Number(usage ?? 0);
      keys++;
    }
  } while (cursor !== '0');
  return { bytes, keys };
}
