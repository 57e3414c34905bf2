/**
 * Reference points for the state stage, measured against the same Redis in the same run as the real
 * store's benchmark (bench/detect.ts), so the three figures compare like with like:
 *  - the client-side floor: pipelined INCR from one ioredis client, one pipeline per batch. Nothing per
 *    tap can be cheaper than one command Node must encode and parse;
 *  - a naive design: one Lua script per tap (EVALSHA, pipelined per batch) keeping every window as a
 *    sorted set of events and summing the 24 h amount by scanning it. It is what DESIGN.md's default
 *    rules cost when built the obvious way; the real store must beat it (issue 10: ≥ 100,000 taps/s).
 *    Its Redis memory per active entity is measured too (MEMORY USAGE of its keys, and INFO delta).
 * Keys live under a prefix unique to the run and are deleted afterwards.
 */
import { Redis } from 'ioredis';
import type { Tap } from '../schemas/types.ts';
import { defineBenchmark, intOption, type BenchContext, type Figure } from './harness.ts';
import { deleteByPrefix, memoryOfPrefix } from './redisKeys.ts';
import { takeTaps } from './taps.ts';

const MINUTE = 60_000;
/** DESIGN.md: events up to 10 minutes late count exactly, so trimming keeps that much extra history. */
const LATENESS = 10 * MINUTE;

/**
 * KEYS: 1 tap seen, 2 account taps (60 s), 3 account declines (10 min), 4 msisdn approved amounts (24 h),
 * 5 msisdn accounts, 6 device accounts, 7 account devices (24 h, latest time per member),
 * 8 account last location, 9 msisdn monthly amounts.
 * ARGV: tap_id, occurred_at, amount, status, account, device, ip, month, is_retry, lateness.
 */
export const naiveTapScript = `
local tap, t, amount, status = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local acct, dev, ip, month, retry, late = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9] == '1', tonumber(ARGV[10])
local day = 86400000
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', 2 * day) then return {-1} end
local function window(key, member, w)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', t - w - late)
  if member then redis.call('ZADD', key, t, member) end
  redis.call('PEXPIRE', key, w + late)
  return redis.call('ZCOUNT', key, '(' .. (t - w), t)
end
local function distinct(key, member, w)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', t - w - late)
  redis.call('ZADD', key, 'GT', t, member)
  redis.call('PEXPIRE', key, w + late)
  return redis.call('ZCOUNT', key, '(' .. (t - w), '+inf')
end
local burst = window(KEYS[2], (not retry) and tap or nil, 60000)
local declines = window(KEYS[3], ((not retry) and status ~= 'APPROVED') and tap or nil, 600000)
local approved = status == 'APPROVED'
window(KEYS[4], approved and (tap .. ':' .. amount) or nil, day)
local sum = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. (t - day), t)) do
  sum = sum + tonumber(string.match(m, ':(%d+)$'))
end
local phoneAccounts = distinct(KEYS[5], acct, day)
local deviceAccounts = distinct(KEYS[6], acct, day)
local accountDevices = distinct(KEYS[7], dev, day)
local prev = redis.call('HMGET', KEYS[8], 'ip', 't')
if prev[2] == false or tonumber(prev[2]) <= t then redis.call('HSET', KEYS[8], 'ip', ip, 't', t) end
redis.call('PEXPIRE', KEYS[8], 6 * 3600000)
local monthly = 0
if approved then monthly = redis.call('HINCRBY', KEYS[9], month, amount)
else monthly = tonumber(redis.call('HGET', KEYS[9], month) or '0') end
redis.call('PEXPIRE', KEYS[9], 62 * day)
return {burst, declines, sum, phoneAccounts, deviceAccounts, accountDevices, monthly}
`;

/** Keys of one tap in the naive design: each entity's keys share a hash tag. */
export function naiveKeys(prefix: string, tap: Tap): string[] {
  const a = `${prefix}{a:${tap.account_id}}`;
  const m = `${prefix}{m:${tap.msisdn}}`;
  const d = `${prefix}{d:${tap.device_id}}`;
  return [
    `${prefix}{t:${tap.tap_id}}`,
    `${a}:burst`,
    `${a}:declines`,
    `${m}:amounts`,
    `${m}:accounts`,
    `${d}:accounts`,
    `${a}:devices`,
    `${a}:last`,
    `${m}:monthly`,
  ];
}

/** Calendar month in Asia/Seoul (UTC+9, no daylight saving), as the monthly cap counts it. */
export function seoulMonth(epochMs: number): string {
  return new Date(epochMs + 9 * 3_600_000).toISOString().slice(0, 7);
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
}

interface Prepared {
  redis: Redis;
  taps: Tap[];
  batch: number;
  entities: number;
  sha: string;
  prefixes: string[];
}

async function incrFloor(p: Prepared, prefix: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < p.taps.length; i += p.batch) {
    const pipeline = p.redis.pipeline();
    const end = Math.min(i + p.batch, p.taps.length);
    for (let j = i; j < end; j++) pipeline.incr(`${prefix}ctr:${j & 1023}`);
    await pipeline.exec();
  }
  return (p.taps.length / (performance.now() - started)) * 1_000;
}

async function naiveScript(p: Prepared, prefix: string): Promise<number> {
  const started = performance.now();
  const late = String(LATENESS);
  for (let i = 0; i < p.taps.length; i += p.batch) {
    const pipeline = p.redis.pipeline();
    for (const tap of p.taps.slice(i, i + p.batch)) {
      pipeline.evalsha(
        p.sha,
        9,
        ...naiveKeys(prefix, tap),
        tap.tap_id,
        tap.occurred_at,
        tap.amount,
        tap.status,
        tap.account_id,
        tap.device_id,
        tap.ip,
        seoulMonth(tap.occurred_at),
        tap.retry_of === null ? '0' : '1',
        late,
      );
    }
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }
  return (p.taps.length / (performance.now() - started)) * 1_000;
}

export const benchmark = defineBenchmark<Prepared>({
  name: 'redis-reference',
  title: 'State stage reference points: pipelined INCR floor and a naive one-script-per-tap design',
  async setup(ctx: BenchContext) {
    const count = intOption(ctx, 'redis-taps', 100_000);
    const accounts = intOption(ctx, 'accounts', 10_000);
    const batch = intOption(ctx, 'batch', 500);
    const taps = takeTaps({ accounts, idPrefix: `r-${ctx.runId}` }, count);
    const entities =
      new Set(taps.map((t) => t.account_id)).size +
      new Set(taps.map((t) => t.msisdn)).size +
      new Set(taps.map((t) => t.device_id)).size;
    const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: false });
    const sha = (await redis.script('LOAD', naiveTapScript)) as string;
    ctx.log(`redis-reference: ${count} taps, ${entities} entities, batches of ${batch}`);
    return { redis, taps, batch, entities, sha, prefixes: [] };
  },
  async run(ctx, p) {
    const prefix = `bench:${ctx.runId}:${p.prefixes.length}:`;
    p.prefixes.push(prefix);
    const incr = await incrFloor(p, prefix);
    ctx.log(`redis-reference: INCR ${Math.round(incr)}/s`);
    const before = await usedMemory(p.redis);
    const naive = await naiveScript(p, prefix);
    const after = await usedMemory(p.redis);
    const own = await memoryOfPrefix(p.redis, `${prefix}{`);
    ctx.log(`redis-reference: naive ${Math.round(naive)} taps/s, ${own.keys} keys, ${own.bytes} B`);
    await deleteByPrefix(p.redis, prefix);
    const figures: Figure[] = [
      { metric: 'pipelined INCR (client floor)', unit: 'cmd/s', value: incr, better: 'higher' },
      { metric: 'naive script per tap', unit: 'taps/s', value: naive, better: 'higher' },
      {
        metric: 'naive memory per entity (MEMORY USAGE)',
        unit: 'B/entity',
        value: own.bytes / p.entities,
        better: 'lower',
      },
      {
        // Other clients share this Redis: the INFO delta is noisier than the per-key sum above.
        metric: 'naive memory per entity (INFO delta)',
        unit: 'B/entity',
        value: (after - before) / p.entities,
        better: 'lower',
      },
      { metric: 'naive keys per entity', unit: 'keys', value: own.keys / p.entities },
    ];
    return figures;
  },
  async teardown(_ctx, p) {
    for (const prefix of p.prefixes) await deleteByPrefix(p.redis, prefix);
    p.redis.disconnect();
  },
});
