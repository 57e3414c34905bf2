/**
 * What Redis has done so far, from INFO: command calls and their microseconds (commandstats, less the
 * benchmarks' own housekeeping), and the server's CPU seconds (user + system, its forks not counted).
 * A benchmark takes the difference of two readings around its work.
 */
import type { Redis } from 'ioredis';

export interface RedisCounters {
  calls: number;
  usec: number;
  cpuSeconds: number;
}

export async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const info = (await redis.info('commandstats')) + (await redis.info('cpu'));
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (/^(info|scan|unlink|memory|config)/.test(m[1]!)) continue; // the benchmark's own housekeeping
    calls += Number(m[2]);
    usec += Number(m[3]);
  }
  const cpu = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { calls, usec, cpuSeconds: cpu('used_cpu_user') + cpu('used_cpu_sys') };
}

/**
 * How many times Redis has forked (INFO stats `total_forks`): each AOF rewrite forks a child that
 * writes the whole dataset, taking a core and copy-on-write page faults from the server while it runs.
 */
export async function redisForks(redis: Redis): Promise<number> {
  return Number(/^total_forks:(\d+)/m.exec(await redis.info('stats'))?.[1] ?? NaN);
}
