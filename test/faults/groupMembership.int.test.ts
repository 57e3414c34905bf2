// The worker losing its group membership while a batch is in flight (pipeline/worker.ts,
// MEMBERSHIP_ERRORS), with real `tapline run` children and a PRIVATE redis-server
// (test/support/privateRedis.ts) that the test stops or pauses. 1 partition, so the order of taps is
// fixed and every decision must equal the no-fault reference (test/support/referenceDecisions.ts).
// - (a) rebalance: Redis is down, the worker retries its batch, a second member joins the group; the
//   worker must abandon the batch uncommitted (REBALANCE_IN_PROGRESS), rejoin, and decide it once
//   Redis is back;
// - (b) session timeout while deciding: Redis is paused with the worker's batch waiting on it, the
//   worker is frozen (SIGSTOP) past its session timeout, a second worker takes the partition and
//   commits the batch once Redis answers; the first, resumed, must not commit it again;
// - (c) session timeout while committing: as (b), but the worker is frozen inside its commit (held
//   there by a PRIVATE broker, test/support/privateKafka.ts, paused for a moment). kafkajs's
//   TxnOffsetCommit carries no generation, so without the worker's check before the commit the
//   resumed worker committed the batch a second time (1,000 duplicate decisions).
// Each run ends with every tap decided exactly once, with the reference decisions, and the workers
// stopping cleanly; the worker's log and tapline_batches_abandoned_total prove the path ran.
// TAPLINE_SESSION_TIMEOUT_MS is 6 s (the broker's minimum) to keep the tests short.
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, afterAll, describe, expect, it } from 'vitest';
import type { Tap } from '../../schemas/types.ts';
import { configFor, uniqueEnv } from '../support/pipelineEnv.ts';
import { createPrivateKafka } from '../support/privateKafka.ts';
import { startPrivateRedis } from '../support/privateRedis.ts';
import { referenceDecisions, tallyDecisions } from '../support/referenceDecisions.ts';
import { figures } from './figures.ts';
import { codec, createTopics, decodeAll, kafka, readAll, sendAll, simulatedTaps } from './harness.ts';
import { startWorkerChild, waitFor, type WorkerChild } from './workerChild.ts';

const results = figures('faults');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});
afterAll(() => results.print());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A private Redis, topics of one partition on `broker` (the shared one by default), the reference. */
async function setup(name: string, seed: number, broker = '127.0.0.1:9092', client: Kafka = kafka) {
  const redis = await startPrivateRedis('always');
  cleanups.push(() => redis.dispose());
  const env = uniqueEnv(name, {
    REDIS_URL: redis.url,
    KAFKA_BROKERS: broker,
    TAPLINE_SESSION_TIMEOUT_MS: '6000',
  });
  await createTopics(env, 1, client);
  const config = configFor(env);
  const taps = simulatedTaps(3000, seed);
  const expected = referenceDecisions(taps, {
    key: config.secrets.piiKey!,
    version: config.secrets.piiKeyVersion,
  });
  expected.catch(() => {}); // awaited by the test
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
  return { redis, env, taps, expected, send, start };
}

/** Every tap decided exactly once with the reference decision; both workers stop with 0. */
async function expectExactlyOnce(
  env: Record<string, string>,
  taps: readonly Tap[],
  expected: Promise<Map<string, string>>,
  workers: WorkerChild[],
  client: Kafka = kafka,
) {
  const decisions = decodeAll(
    'decision',
    await readAll(env['TOPIC_DECISIONS']!, taps.length, 3000, 120_000, client),
  );
  for (const w of workers) expect(w.running(), w.tail()).toBe(true);
  const logs = workers.map((w) => w.tail()).join('\n');
  const { outcomes, duplicates } = tallyDecisions(decisions);
  expect(duplicates, logs).toBe(0);
  expect(outcomes.size, logs).toBe(taps.length);
  expect(outcomes).toEqual(await expected);
  for (const w of workers) expect(await w.stop(), w.tail()).toBe(0);
  return { lost: taps.length - outcomes.size, duplicates };
}

function abandonedLines(w: WorkerChild) {
  return w.lines().filter((l) => /it is abandoned uncommitted/.test(l.msg));
}

describe('group membership lost while a batch is in flight', () => {
  it('(a) a rebalance while the batch is retried (Redis down): abandoned uncommitted, decided once', async () => {
    const { redis, env, taps, expected, send, start } = await setup('rebalance', 43);
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
    // Nothing of the abandoned batch was committed while Redis was down.
    expect(await first.decided()).toBe(1000);
    await member.disconnect();
    await redis.restart();
    await send(taps.slice(2000));

    const end = await expectExactlyOnce(env, taps, expected, [first]);
    const abandoned = abandonedLines(first);
    expect(abandoned.length).toBeGreaterThan(0);
    expect(abandoned[0]!['code']).toBe('REBALANCE_IN_PROGRESS');
    expect(abandoned[0]!['phase']).toBe('deciding');
    results.add('a second member joins the group while the worker retries a batch (Redis down)', {
      taps: taps.length,
      faults: 2,
      abandoned: abandoned.length,
      ...end,
    });
  }, 180_000);

  it('(b) the worker frozen past its session timeout with Redis answers pending: no zombie commit', async () => {
    const { redis, env, taps, expected, send, start } = await setup('sessiontimeout', 47);
    const first = await start('w1');
    await send(taps.slice(0, 1000));
    // Decided and committed (nothing in flight), so the batch frozen below is the next one.
    await waitFor(
      'first 1,000 decided and committed',
      async () => (await first.decided()) >= 1000 && (await first.metric('tapline_inflight_records')) === 0,
      60_000,
      first,
    );

    // Redis answers nothing for 20 s: the first worker's next batch waits on it, then the worker freezes.
    await redis.client.call('CLIENT', 'PAUSE', '20000', 'ALL');
    const pausedAt = Date.now();
    await send(taps.slice(1000, 2000));
    await waitFor(
      'the first worker holds a batch',
      async () => ((await first.metric('tapline_inflight_records')) ?? 0) > 0,
      10_000,
      first,
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

    const end = await expectExactlyOnce(env, taps, expected, [first, second]);
    const abandoned = abandonedLines(first);
    expect(abandoned.length).toBeGreaterThan(0);
    expect(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']).toContain(
      abandoned[0]!['code'],
    );
    results.add('worker frozen (SIGSTOP) past its session timeout with Redis answers pending', {
      taps: taps.length,
      faults: 2,
      frozenMs,
      abandoned: abandoned.length,
      abandonedCode: abandoned[0]!['code'],
      abandonedPhase: abandoned[0]!['phase'],
      ...end,
    });
  }, 180_000);

  it('(c) the worker frozen mid-commit past its session timeout: the commit is abandoned, not a zombie', async () => {
    // A private broker, frozen for a moment to hold the worker inside its commit (the shared broker is
    // never paused).
    const broker = await createPrivateKafka({ name: 'zombie' });
    cleanups.push(() => broker.destroy());
    await broker.start();
    const client = new Kafka({
      clientId: 'faults-zombie',
      brokers: [broker.broker],
      logLevel: logLevel.NOTHING,
    });
    const { redis, env, taps, expected, send, start } = await setup(
      'zombiecommit',
      53,
      broker.broker,
      client,
    );
    const first = await start('w1');
    await send(taps.slice(0, 1000));
    await waitFor(
      'first 1,000 decided and committed',
      async () => (await first.decided()) >= 1000 && (await first.metric('tapline_inflight_records')) === 0,
      60_000,
      first,
    );
    // Redis holds the next batch; the broker is frozen; Redis answers, so the worker goes on to commit
    // and waits on the frozen broker; then the worker is frozen in turn and the broker resumed.
    await redis.client.call('CLIENT', 'PAUSE', '60000', 'ALL');
    await send(taps.slice(1000, 2000));
    await waitFor(
      'the first worker holds a batch',
      async () => ((await first.metric('tapline_inflight_records')) ?? 0) > 0,
      10_000,
      first,
    );
    broker.pause();
    await redis.client.call('CLIENT', 'UNPAUSE');
    await waitFor(
      'the first worker decides its batch (and commits into the frozen broker)',
      async () => (await first.decided()) >= 2000,
      10_000,
      first,
    );
    await sleep(500);
    first.child.kill('SIGSTOP');
    broker.resume();
    const second = await start('w2', false);
    await waitFor(
      'the second worker decides the batch',
      async () => (await second.decided()) >= 1000,
      60_000,
      second,
    );
    await sleep(1000);
    first.child.kill('SIGCONT');
    // The resumed worker either abandons the batch or commits it again (the zombie commit the
    // exactly-once check below catches): wait for the first, up to 15 s, and look at the topic anyway.
    const resumedAt = Date.now();
    while (
      ((await first.metric('tapline_batches_abandoned_total')) ?? 0) === 0 &&
      Date.now() - resumedAt < 15_000
    )
      await sleep(200);
    await send(taps.slice(2000));

    const end = await expectExactlyOnce(env, taps, expected, [first, second], client);
    const abandoned = abandonedLines(first);
    expect(abandoned.length).toBeGreaterThan(0);
    expect(abandoned[0]!['code']).toBe('UNKNOWN_MEMBER_ID');
    expect(abandoned[0]!['phase']).toBe('committing');
    results.add('worker frozen (SIGSTOP) mid-commit past its session timeout; a second worker takes over', {
      taps: taps.length,
      faults: 3,
      abandoned: abandoned.length,
      abandonedCode: abandoned[0]!['code'],
      abandonedPhase: abandoned[0]!['phase'],
      ...end,
    });
  }, 240_000);
});
