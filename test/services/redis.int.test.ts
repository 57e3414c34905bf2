// Redis round trip and a Lua script through ioredis against the local redis-server.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

const prefix = `test:services:${randomUUID()}:`;
const redis = new Redis('redis://127.0.0.1:6379', { keyPrefix: prefix, maxRetriesPerRequest: 1 });

// Counts a key and sets its expiry on first use, atomically: the shape of Tapline's window counters.
const countWithExpiry = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {n, redis.call('PTTL', KEYS[1])}
`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  await redis.quit();
});

describe('Redis', () => {
  it('stores and reads back a value under the key prefix', async () => {
    await redis.set('greeting', '안녕하세요', 'PX', 60_000);
    expect(await redis.get('greeting')).toBe('안녕하세요');
    expect(await redis.keys(`${prefix}*`)).toContain(`${prefix}greeting`);
  });

  it('runs a Lua script atomically and keeps the first expiry', async () => {
    const first = (await redis.eval(countWithExpiry, 1, 'taps', '3', '60000')) as [number, number];
    const second = (await redis.eval(countWithExpiry, 1, 'taps', '4', '1000')) as [number, number];
    expect(first[0]).toBe(3);
    expect(second[0]).toBe(7);
    // The second call must not reset the expiry to 1 s.
    expect(second[1]).toBeGreaterThan(50_000);
    expect(second[1]).toBeLessThanOrEqual(60_000);
  });
});
