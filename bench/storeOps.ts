/**
 * Redis CPU per store operation, by kind: where the state stage's Redis time per tap goes.
 *
 * The detector runs the pipeline benchmarks' taps (bench/taps.ts, enriched as the worker does) through
 * the memory store, and its store operations are recorded. Then each kind alone is replayed, in the
 * batches and parts the detector made, through the Redis store under a key prefix of its own, and
 * Redis's CPU (INFO cpu delta) is divided by the operations sent. One kind's state depends on that
 * kind only (an account's inserts build the account), so the values read and written are the real
 * ones. A tap's claim is one write with its decision (the finish round trip).
 *
 *   npx node bench/storeOps.ts [taps=60000]          REDIS_URL (default redis://127.0.0.1:6379)
 *
 * On the shared Redis other clients' work counts too: a private `redis-server --port N` gives exact
 * figures (its AOF setting changes them: everysec adds ~8 µs per tap).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisCounters } from './redisCounters.ts';
import { deleteByPrefix } from './redisKeys.ts';
import { takeTaps } from './taps.ts';
import { createDetector, type DetectorInput } from '../operators/detector.ts';
import { openGeo } from '../operators/geo.ts';
import { createMemoryStore } from '../operators/memoryStore.ts';
import { createRedisStore } from '../operators/redisStore.ts';
import { defaultRuleSet } from '../operators/rulesFile.ts';
import type { FinishOp, StateStore, StoreOp } from '../operators/stateStore.ts';
import { enrichTap } from '../schemas/msisdn.ts';

const total = Number(process.argv[2] ?? 60_000);
const BATCH = 1_000;

interface RecordedBatch {
  parts: StoreOp[][];
  finish: FinishOp[];
}

/** The store operations the detector sends for the workload, batch by batch. */
async function recordOperations(): Promise<RecordedBatch[]> {
  const memory = createMemoryStore();
  const batches: RecordedBatch[] = [];
  const recorder: StateStore = {
    ...memory,
    // Redis's part size, so each kind is replayed in the parts the worker would send.
    opsPerPart: 64,
    execute(parts) {
      batches.push({ parts: parts.map((p) => [...p]), finish: [] });
      return memory.execute(parts);
    },
    finish(ops) {
      batches.at(-1)!.finish.push(...ops);
      return memory.finish(ops);
    },
  };
  const detector = createDetector({ store: recorder, rules: defaultRuleSet(), geo: await openGeo() });
  const pii = { key: 'bench-key-0123456789', version: 1 };
  let batch: DetectorInput[] = [];
  for (const tap of takeTaps({ accounts: 10_000, idPrefix: 'so' }, total)) {
    const enriched = enrichTap(tap, pii);
    if ('error' in enriched) throw new Error(`bench tap ${tap.tap_id}: ${enriched.error}`);
    batch.push({ kind: 'tap', tap: enriched });
    if (batch.length === BATCH) {
      await detector.processBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await detector.processBatch(batch);
  return batches;
}

/** Each kind: the batch operations it keeps, and its finish operations (none for the inserts). */
const kinds: Array<{ name: string; keep: (op: StoreOp) => boolean; finish: (op: FinishOp) => boolean }> = [
  {
    name: 'account insert',
    keep: (op) => op.op === 'insertEvent' && op.entity.type === 'a',
    finish: () => false,
  },
  {
    name: 'phone insert',
    keep: (op) => op.op === 'insertEvent' && op.entity.type === 'm',
    finish: () => false,
  },
  {
    name: 'device insert',
    keep: (op) => op.op === 'insertEvent' && op.entity.type === 'd',
    finish: () => false,
  },
  {
    name: 'tap claim with its decision',
    keep: (op) => op.op === 'claimTap',
    finish: (op) => op.op === 'claimDecided' || op.op === 'recordDecision',
  },
];

const batches = await recordOperations();
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const run = `bench:${randomUUID().slice(0, 8)}:`;
console.log(`node ${process.version}, ${total} taps, batches of ${BATCH}, parts of 64 operations`);
try {
  for (const kind of kinds) {
    const keyPrefix = `${run}${kinds.indexOf(kind)}:`;
    const store = createRedisStore({ redis, keyPrefix });
    let sent = 0;
    const before = (await redisCounters(redis)).cpuSeconds;
    for (const b of batches) {
      const parts = b.parts.map((p) => p.filter(kind.keep)).filter((p) => p.length > 0);
      const finish = b.finish.filter(kind.finish);
      // a tap counts once, claimed with its decision or (named by an adjustment) before it
      sent +=
        parts.reduce((n, p) => n + p.length, 0) + finish.filter((op) => op.op === 'claimDecided').length;
      if (parts.length > 0) await Promise.all(store.execute(parts));
      if (finish.length > 0) await store.finish(finish);
    }
    const perOp = (((await redisCounters(redis)).cpuSeconds - before) * 1e6) / sent;
    console.log(`${kind.name.padEnd(24)} ${sent} operations, ${perOp.toFixed(1)} µs of Redis CPU each`);
    console.log(
      `BENCH ${JSON.stringify({ metric: `redis CPU per ${kind.name}`, unit: 'µs', value: perOp, better: 'lower' })}`,
    );
    await store.close();
    await deleteByPrefix(redis, keyPrefix);
  }
} finally {
  await deleteByPrefix(redis, run);
  await redis.quit();
}
