// The worker losing its group membership while a batch is in flight (pipeline/worker.ts and
// pipeline/groupMembership.ts), with real `tapline run` children and a PRIVATE redis-server
// (test/support/privateRedis.ts) that the test stops or pauses. 1 partition, so the order of taps is
// fixed and every decision must equal the no-fault reference.
// - (a) rebalance: Redis is down, the worker retries its batch, a second member joins the group; the
//   worker must abandon the batch uncommitted (REBALANCE_IN_PROGRESS), rejoin, and decide it once
//   Redis is back;
// - (b) session timeout while deciding: Redis is paused with the worker's batch waiting on it, the
//   worker is frozen (SIGSTOP) past its session timeout, a second worker takes the partition and
//   commits the batch once Redis answers; the first, resumed, must not commit it again;
// - (c) session timeout while committing: as (b), but the worker is frozen inside its commit (held
//   there by a PRIVATE broker, test/support/privateKafka.ts, paused for a moment). kafkajs's
//   TxnOffsetCommit carries no generation, so without the worker's check before the commit the
//   resumed worker committed the batch a second time (1,000 duplicate decisions);
// - (d) the broker stalls past the session timeout while committing: the broker drops the member as it
//   resumes, and the worker, frozen for a moment, reads late a heartbeat answer to a request sent
//   during the stall. A check that counted the time an answer was read committed the batch a second
//   time (1,000 duplicates, several runs on 2026-11-23, (c) failing for the same reason with a 60 s
//   stall); the check counts the time the request was sent.
// Each run streams refunds too, and ends with the whole end state equal to the no-fault run's
// (test/faults/endState.ts: every tap decided once with the reference decision, every refund applied
// once, Redis key by key, ClickHouse rows, settlement) and the workers stopping cleanly; the worker's
// log and tapline_batches_abandoned_total prove the path ran. WORKER_LOG_LEVEL=debug logs each
// heartbeat's send time, each batch fetched and each commit's offsets; a failure writes the workers'
// whole logs to a file and prints its path.
// TAPLINE_SESSION_TIMEOUT_MS is 6 s (the broker's minimum) to keep the tests short.
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Tap } from '../../schemas/types.ts';
import { uniqueEnv } from '../support/pipelineEnv.ts';
import { createPrivateKafka } from '../support/privateKafka.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';
import {
  expectNoFaultEndState,
  noFaultReference,
  type FaultStream,
  type NoFaultReference,
} from './endState.ts';
import { figures } from './figures.ts';
import { codec, createTopics, kafka, safeRefunds, sendAll, simulatedTaps } from './harness.ts';
import { startWorkerChild, waitFor, type WorkerChild } from './workerChild.ts';

const results = figures('faults');
/** Scratch space of the no-fault reference's Redis state (under a prefix of its own). */
const shared = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});
afterAll(() => {
  shared.disconnect();
  results.print();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  redis: PrivateRedis;
  client: Kafka;
  stream: FaultStream;
  reference: Promise<NoFaultReference>;
  taps: Tap[];
  send(list: readonly Tap[]): Promise<void>;
  start(id: string, waitReady?: boolean): Promise<WorkerChild>;
}

/**
 * A private Redis, topics of one partition on `broker` (the shared one by default), 3,000 taps and
 * refunds of some of them, and the no-fault reference of that stream (computed while the test runs).
 */
async function setup(
  name: string,
  seed: number,
  broker = '127.0.0.1:9092',
  client: Kafka = kafka,
): Promise<Run> {
  const redis = await startPrivateRedis('always');
  cleanups.push(() => redis.dispose());
  const env = uniqueEnv(name, {
    REDIS_URL: redis.url,
    KAFKA_BROKERS: broker,
    TAPLINE_SESSION_TIMEOUT_MS: '6000',
    TAPLINE_ADJUSTMENT_WAIT_MS: '120000',
  });
  await createTopics(env, 1, client);
  const taps = simulatedTaps(3000, seed);
  const stream = { env, taps, refunds: safeRefunds(taps, seed) };
  const reference = noFaultReference(stream, shared);
  reference.catch(() => {}); // awaited by the end-state check
  const send = (list: readonly Tap[]) =>
    sendAll(
      env['TOPIC_TAPS']!,
      list.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      client,
    );
  const start = async (id: string, waitReady = true) => {
    const w = await startWorkerChild({ ...env, TAPLINE_WORKER_ID: id }, { waitReady });
    cleanups.push(() => w.kill());
    return w;
  };
  return { redis, client, stream, reference, taps, send, start };
}

/**
 * The refunds go out once every tap has (a refund after its tap; none can be part of the batch the
 * fault holds). Then the whole end state against the no-fault run (test/faults/endState.ts: Kafka,
 * Redis key by key, ClickHouse, settlement), and the workers, all still running, stop with 0.
 */
async function expectNoFaultEnd(run: Run, workers: WorkerChild[]) {
  await sendAll(
    run.stream.env['TOPIC_ADJUSTMENTS']!,
    run.stream.refunds.map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
    run.client,
  );
  // The whole logs, for a person reading a failure (duplicates say nothing of which worker sent them),
  // or on every run with FAULT_KEEP_LOGS=1.
  const keepLogs = () => {
    const path = join(tmpdir(), `${run.stream.env['TOPIC_TAPS']}.workers.log`);
    writeFileSync(path, workers.map((w, i) => `--- worker ${i + 1}\n${w.log()}`).join('\n'));
    console.error(`workers' logs: ${path}`);
  };
  const end = await expectNoFaultEndState(run.stream, run.reference, {
    redis: run.redis.client,
    client: run.client,
    log: () => workers.map((w) => w.tail()).join('\n'),
  }).catch((e: unknown) => {
    keepLogs();
    throw e;
  });
  if (process.env['FAULT_KEEP_LOGS'] === '1') keepLogs();
  for (const w of workers) expect(w.running(), w.tail()).toBe(true);
  for (const w of workers) expect(await w.stop(), w.tail()).toBe(0);
  return end;
}

function abandonedLines(w: WorkerChild) {
  return w.lines().filter((l) => /it is abandoned uncommitted/.test(l.msg));
}

/**
 * The first worker with the stream's first 1,000 taps decided and committed, then holding the next
 * 1,000 as its one batch in flight, waiting on Redis, which `holdRedis` makes answer nothing.
 */
async function firstWorkerHoldingABatch(
  run: Run,
  holdRedis: () => Promise<unknown> | void,
): Promise<{ first: WorkerChild; pausedAt: number }> {
  const { taps, send, start } = run;
  const first = await start('w1');
  await send(taps.slice(0, 1000));
  // Decided and committed (nothing in flight), so the batch held below is the next one.
  await waitFor(
    'first 1,000 decided and committed',
    async () => (await first.decided()) >= 1000 && (await first.metric('tapline_inflight_records')) === 0,
    60_000,
    first,
  );
  await holdRedis();
  const pausedAt = Date.now();
  await send(taps.slice(1000, 2000));
  await waitFor(
    'the first worker holds a batch',
    async () => ((await first.metric('tapline_inflight_records')) ?? 0) > 0,
    10_000,
    first,
  );
  return { first, pausedAt };
}

/**
 * The first worker, holding a batch while Redis answers nothing, goes on to commit it into a private
 * broker frozen meanwhile: for a moment (`brokerStallMs` 0), or for `brokerStallMs`, the time Redis
 * answers nothing. Half a second after it decided, the worker is frozen itself (SIGSTOP) and the broker
 * resumed. A second worker takes the partition over and decides the batch the first one holds;
 * `afterTakeoverMs` later the first is resumed. It must abandon its commit (the zombie commit the
 * end-state check would catch: 1,000 decisions twice). The shared broker is never paused.
 */
async function frozenMidCommit(
  name: string,
  seed: number,
  { brokerStallMs, afterTakeoverMs }: { brokerStallMs: number; afterTakeoverMs: number },
) {
  const broker = await createPrivateKafka({ name });
  cleanups.push(() => broker.destroy());
  await broker.start();
  const client = new Kafka({
    clientId: `faults-${name}`,
    brokers: [broker.broker],
    logLevel: logLevel.NOTHING,
  });
  const run = await setup(name, seed, broker.broker, client);
  const { redis, taps, send, start } = run;
  // Redis holds the next batch, the broker freezes, Redis answers: the worker decides the batch and goes
  // on to commit it into the frozen broker. For a moment: Redis frozen (SIGSTOP), the broker frozen,
  // Redis resumed. For a stall: Redis answers nothing for `brokerStallMs` (CLIENT PAUSE, which ends by
  // itself: an UNPAUSE would wait behind it), the broker frozen meanwhile.
  const stall = brokerStallMs > 0;
  const { first } = await firstWorkerHoldingABatch(run, () =>
    stall ? redis.client.call('CLIENT', 'PAUSE', String(brokerStallMs), 'ALL') : redis.pause(),
  );
  broker.pause();
  if (!stall) redis.resume();
  await waitFor(
    'the first worker decides its batch (and commits into the frozen broker)',
    async () => (await first.decided()) >= 2000,
    brokerStallMs + 10_000,
    first,
  );
  await sleep(500);
  first.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  broker.resume();
  const second = await start('w2', false);
  await waitFor(
    'the second worker decides the batch',
    async () => (await second.decided()) >= 1000,
    60_000,
    second,
  );
  await sleep(afterTakeoverMs);
  first.child.kill('SIGCONT');
  const frozenMs = Date.now() - frozenAt;
  // The resumed worker either abandons the batch or commits it again (the zombie commit the
  // exactly-once check below catches): wait for the first, up to 15 s, and look at the topic anyway.
  const resumedAt = Date.now();
  while (
    ((await first.metric('tapline_batches_abandoned_total')) ?? 0) === 0 &&
    Date.now() - resumedAt < 15_000
  )
    await sleep(200);
  await send(taps.slice(2000));

  const end = await expectNoFaultEnd(run, [first, second]);
  const abandoned = abandonedLines(first);
  expect(abandoned.length).toBeGreaterThan(0);
  // UNKNOWN_MEMBER_ID when the check's own heartbeat learns it; STALE_GENERATION when no heartbeat
  // sent recently was answered, or kafkajs learnt it first (through another partition's batch) and is
  // rejoining or has rejoined.
  expect(['UNKNOWN_MEMBER_ID', 'STALE_GENERATION']).toContain(abandoned[0]!['code']);
  expect(abandoned[0]!['phase']).toBe('committing');
  return {
    taps: taps.length,
    refunds: run.stream.refunds.length,
    faults: 3,
    frozenMs,
    abandoned: abandoned.length,
    abandonedCode: abandoned[0]!['code'],
    abandonedPhase: abandoned[0]!['phase'],
    ...end,
  };
}

describe('group membership lost while a batch is in flight', () => {
  it('(a) a rebalance while the batch is retried (Redis down): abandoned uncommitted, decided once', async () => {
    const run = await setup('rebalance', 43);
    const { redis, stream, taps, send, start } = run;
    const { env } = stream;
    const first = await start('w1');
    await send(taps.slice(0, 1000));
    await waitFor('first 1,000 decided', async () => (await first.decided()) >= 1000, 60_000, first);

    await redis.kill();
    await send(taps.slice(1000, 2000));
    await waitFor(
      'the first worker retries its batch',
      async () => ((await first.metric('tapline_batch_retries_total')) ?? 0) > 0,
      30_000,
      first,
    );
    // A second member joins the group (a plain consumer: a second worker could not start while its
    // Redis is down); it commits nothing, and leaves once the first worker has given up its batch.
    const member = kafka.consumer({
      groupId: env['TAPLINE_WORKER_GROUP']!,
      sessionTimeout: 6000,
      heartbeatInterval: 2000,
    });
    cleanups.push(() => member.disconnect());
    await member.connect();
    await member.subscribe({ topics: [env['TOPIC_TAPS']!], fromBeginning: true });
    await member.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
    await waitFor(
      'the first worker abandons its batch',
      async () => ((await first.metric('tapline_batches_abandoned_total')) ?? 0) > 0,
      30_000,
      first,
    );
    // Nothing of the batch was decided while Redis was down, so nothing of it could be committed.
    expect(await first.decided()).toBe(1000);
    await member.disconnect();
    await redis.restart();
    await send(taps.slice(2000));

    const end = await expectNoFaultEnd(run, [first]);
    const abandoned = abandonedLines(first);
    expect(abandoned.length).toBeGreaterThan(0);
    expect(abandoned[0]!['code']).toBe('REBALANCE_IN_PROGRESS');
    expect(abandoned[0]!['phase']).toBe('deciding');
    results.add('a second member joins the group while the worker retries a batch (Redis down)', {
      taps: taps.length,
      refunds: run.stream.refunds.length,
      faults: 2,
      abandoned: abandoned.length,
      ...end,
    });
  }, 180_000);

  it('(b) the worker frozen past its session timeout with Redis answers pending: no zombie commit', async () => {
    const run = await setup('sessiontimeout', 47);
    const { taps, send, start } = run;
    // Redis answers nothing for 20 s: the first worker's next batch waits on it, then the worker freezes.
    const { first, pausedAt } = await firstWorkerHoldingABatch(run, () =>
      run.redis.client.call('CLIENT', 'PAUSE', '20000', 'ALL'),
    );
    first.child.kill('SIGSTOP');
    const second = await start('w2', false);
    // The group drops the frozen member after 6 s; the second worker takes the partition and, once
    // Redis answers, commits the batch the first one holds.
    await waitFor(
      'the second worker decides the batch',
      async () => (await second.decided()) >= 1000,
      60_000,
      second,
    );
    const frozenMs = Date.now() - pausedAt;
    first.child.kill('SIGCONT');
    await sleep(3000);
    await send(taps.slice(2000));

    const end = await expectNoFaultEnd(run, [first, second]);
    const abandoned = abandonedLines(first);
    expect(abandoned.length).toBeGreaterThan(0);
    // STALE_GENERATION when no heartbeat sent since the freeze was answered in time (pipeline/groupMembership.ts).
    expect([
      'UNKNOWN_MEMBER_ID',
      'ILLEGAL_GENERATION',
      'REBALANCE_IN_PROGRESS',
      'STALE_GENERATION',
    ]).toContain(abandoned[0]!['code']);
    results.add('worker frozen (SIGSTOP) past its session timeout with Redis answers pending', {
      taps: taps.length,
      refunds: run.stream.refunds.length,
      faults: 2,
      frozenMs,
      abandoned: abandoned.length,
      abandonedCode: abandoned[0]!['code'],
      abandonedPhase: abandoned[0]!['phase'],
      ...end,
    });
  }, 180_000);

  it('(c) the worker frozen mid-commit past its session timeout: the commit is abandoned, not a zombie', async () => {
    const figures = await frozenMidCommit('zombiecommit', 53, { brokerStallMs: 0, afterTakeoverMs: 1000 });
    results.add(
      'worker frozen (SIGSTOP) mid-commit past its session timeout; a second worker takes over',
      figures,
    );
  }, 180_000);

  it('(d) the broker stalled past the session timeout mid-commit, answers read late: no zombie commit', async () => {
    // The broker, frozen 60 s, drops the member as it resumes; the worker, frozen as it resumes until
    // the second worker has taken over (a second or two), then reads the answer to a heartbeat sent
    // during the stall. While the check went by the time an answer was read, it committed on its
    // strength: 1,000 decisions twice in 3 of 5 runs on 2026-11-23 (this was then how (c) ran).
    const figures = await frozenMidCommit('brokerstall', 59, { brokerStallMs: 60_000, afterTakeoverMs: 0 });
    results.add(
      'broker frozen 60 s mid-commit; the worker reads its answers after a second worker took over',
      figures,
    );
  }, 180_000);
});
