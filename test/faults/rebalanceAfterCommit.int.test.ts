// Rebalances right after the worker's commits. The broker applies a transaction's consumed offsets
// only once its commit markers are written, a few ms AFTER the commit returns, and an offset fetch
// meanwhile (kafkajs has no KIP-447 `requireStable`) returns the previous offset. A member that
// (re)joins in that window, the committing worker itself included, re-reads the batch just committed
// and publishes its outputs a second time: in one CI run a second worker joining and leaving left 237
// refunds applied twice. On the local broker, 57 of 300 offset fetches sent right after a commit
// returned the previous offset (p99 13 ms until the new one showed).
//
// Here a passive member (it takes partitions, pauses them, never commits) joins and leaves the group
// again and again while taps and refunds flow through one `tapline run`: every join and every leave is
// a rebalance in which the worker refetches the offsets of the partitions it keeps. The end state must
// still be the no-fault one: every tap decided once, every refund applied once (test/faults/endState.ts).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Consumer } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { uniqueEnv } from '../support/pipelineEnv.ts';
import { expectNoFaultEndState, noFaultReference } from './endState.ts';
import { entityPartitions } from './entityPartitions.ts';
import { figures } from './figures.ts';
import { createTopics, kafka, safeRefunds, sendPlacedWithRefunds, simulatedTaps } from './harness.ts';
import { startWorkerChild, type WorkerChild } from './workerChild.ts';

const results = figures('faults');
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});
afterAll(() => {
  redis.disconnect();
  results.print();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A member of the worker group that holds what it is given, paused, and never commits. */
async function passiveMember(groupId: string, topics: string[]): Promise<{ leave(): Promise<void> }> {
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    // Its fetches come back at once, so it leaves at once (a long poll would hold `disconnect` up to 5 s).
    maxWaitTimeInMs: 100,
  });
  const pauseAll = () => consumer.pause(topics.map((topic) => ({ topic })));
  let joined!: () => void;
  const hasJoined = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    pauseAll();
    joined();
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Nothing resolved, nothing committed: the partitions go back to the worker where they were.
    eachBatch: async () => pauseAll(),
  });
  await hasJoined;
  return { leave: () => consumer.disconnect() };
}

describe('rebalances right after commits', () => {
  it('re-read no committed batch: a member joining and leaving 12 times leaves the no-fault end state', async () => {
    const env = uniqueEnv('rebalance', {
      TAPLINE_ADJUSTMENT_WAIT_MS: '120000',
      TAPLINE_SESSION_TIMEOUT_MS: '6000',
    });
    await createTopics(env, 4);
    const taps = simulatedTaps(8000, 31);
    // Entities partition-local (entityPartitions.ts): who decides a partition, and when, changes no
    // decision, so the reference is exact whatever the rebalances do.
    const placed = entityPartitions(taps, 4, env['TOPIC_TAPS']!);
    const stream = { env, taps, refunds: safeRefunds(taps, 31), tapSources: placed.map((p) => p.source) };
    const reference = noFaultReference(stream, redis);
    reference.catch(() => {}); // awaited by the end-state check
    const refundOf = new Map(stream.refunds.map((a) => [a.tap_id, a]));

    const worker: WorkerChild = await startWorkerChild({ ...env, KAFKA_BROKERS: '127.0.0.1:9092' });
    cleanups.push(() => worker.kill());

    // The stream in 40 slices, one every 250 ms, so commits go on through every rebalance.
    let sent = 0;
    const sending = (async () => {
      const slice = Math.ceil(placed.length / 40);
      for (let i = 0; i < placed.length; i += slice) {
        const part = placed.slice(i, i + slice);
        await sendPlacedWithRefunds(env, part, refundOf);
        sent += part.length;
        await sleep(250);
      }
    })();

    const topics = [env['TOPIC_TAPS']!, env['TOPIC_ADJUSTMENTS']!, env['TOPIC_ADJUSTMENTS_RETRY']!];
    let churns = 0;
    const churnStartedAfter = sent;
    for (; churns < 12; churns++) {
      const member = await passiveMember(env['TAPLINE_WORKER_GROUP']!, topics);
      await sleep(300);
      await member.leave();
      await sleep(300);
    }
    const sentDuringChurn = sent - churnStartedAfter;
    await sending;

    const end = await expectNoFaultEndState(stream, reference, { redis, log: () => worker.tail() }).catch(
      (e: unknown) => {
        // The whole log, for a person reading a failure.
        const path = join(tmpdir(), `${env['TOPIC_TAPS']}.worker.log`);
        writeFileSync(path, worker.log());
        console.error(`worker's log: ${path}`);
        throw e;
      },
    );
    const abandoned = await worker.metric('tapline_batches_abandoned_total');
    const commits = await worker.metric('tapline_commit_visible_seconds_count');
    expect(await worker.stop(), worker.tail()).toBe(0);
    // The churn overlapped the stream: taps were being sent and decided while members came and went.
    expect(sentDuringChurn).toBeGreaterThan(0);
    results.add('a passive member joins and leaves 12 times (4 partitions)', {
      taps: taps.length,
      refunds: stream.refunds.length,
      faults: churns * 2,
      tapsSentDuringChurn: sentDuringChurn,
      batchesAbandoned: abandoned,
      commits,
      ...end,
    });
  }, 300_000);
});
