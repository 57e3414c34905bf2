// The Kafka broker restarted mid-stream, against a no-fault reference. A PRIVATE single-node broker
// (test/support/privateKafka.ts: own ports and data dir; the shared one on 9092 is never touched) carries
// a paced stream of taps and refunds into a real `tapline run` child; while it flows the broker is
// killed (SIGKILL: no controlled shutdown, the worker's open transaction dies with it) and started again
// on the same dirs. The worker must ride it out without exiting, nothing may reach the DLQ, and the
// end state must equal the no-fault run (endState.ts): every tap decided once (read_committed) with
// the reference's decision, every refund applied once, the Redis state key by key, the rows a sink
// drains from the private broker into ClickHouse, and the month settled from them. FAULT_KAFKA_TAPS scales the stream (default 4,000),
// FAULT_KAFKA_SIGNAL picks SIGTERM instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrivateKafka, type PrivateKafka } from '../support/privateKafka.ts';
import { cliArgs, uniqueEnv } from '../support/pipelineEnv.ts';
import { expectNoFaultEndState, noFaultReference } from './endState.ts';
import { figures } from './figures.ts';
import { codec, createTopics, decodeAll, readAll, safeRefunds, simulatedTaps } from './harness.ts';

const tapCount = Number(process.env['FAULT_KAFKA_TAPS'] ?? 4000);
const signal = process.env['FAULT_KAFKA_SIGNAL'] === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL';
const results = figures('faults');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
let broker: PrivateKafka | null = null;
let worker: ChildProcess | null = null;
afterAll(async () => {
  redis.disconnect();
  results.print();
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await broker?.destroy();
});

/** Sends one chunk, retrying while the broker is away (an idempotent producer: no doubles). */
async function sendRetrying(
  producer: Producer,
  topic: string,
  messages: { key: string; value: Buffer }[],
): Promise<number> {
  let failures = 0;
  for (;;) {
    try {
      await producer.send({ topic, messages });
      return failures;
    } catch (e) {
      failures++;
      if (failures > 120) throw e;
      await sleep(500);
    }
  }
}

describe('Kafka broker restarted mid-stream', () => {
  it(`leaves the no-fault end state after a broker ${signal}`, async () => {
    broker = await createPrivateKafka({ name: 'restart' });
    await broker.start();
    const client = new Kafka({
      clientId: 'faults-kafka-restart',
      brokers: [broker.broker],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 200 },
    });
    // One partition: the order of taps is fixed, so every decision must equal the reference's.
    // Refunds wait for their tap (the topics are not ordered) up to 2 minutes, outage included.
    const env = uniqueEnv('kafkarestart', {
      KAFKA_BROKERS: broker.broker,
      TAPLINE_ADJUSTMENT_WAIT_MS: '120000',
    });
    await createTopics(env, 1, client);
    const taps = simulatedTaps(tapCount, 37);
    const refunds = safeRefunds(taps, 37);
    const stream = { env, taps, refunds };
    expect(refunds.length).toBeGreaterThan(50);
    const reference = noFaultReference(stream, redis);
    reference.catch(() => {}); // awaited by the end-state check; a failure surfaces there

    // The worker's log goes to a file beside the test's temp files, for a person reading a failure.
    const logPath = join(tmpdir(), `${env['TOPIC_TAPS']}.worker.log`);
    const logFd = openSync(logPath, 'w');
    const child = spawn(process.execPath, cliArgs('run'), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', logFd],
    });
    worker = child;
    closeSync(logFd);
    const stderr = () => `worker log: ${logPath}\n${readFileSync(logPath, 'utf8').slice(-4000)}`;
    let workerExit: number | string | null = null;
    child.once('exit', (code, sig) => (workerExit = code ?? sig));

    // The stream: 40 chunks of taps, each followed by the refunds of the chunk before (a refund comes
    // after its tap), 150 ms apart; the broker goes down after a third of it.
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const chunks = 40;
    const per = Math.ceil(taps.length / chunks);
    const refundsOf = new Map(refunds.map((a) => [a.tap_id, a]));
    let sendFailures = 0;
    let restart: Promise<void> | null = null;
    const admin = client.admin();
    await admin.connect();
    const decisionsOffset = async () =>
      Number((await admin.fetchTopicOffsets(env['TOPIC_DECISIONS']!))[0]!.high);
    let offsetAtFault = 0;
    const restartAfter = Math.floor(chunks / 3);
    for (let c = 0; c < chunks; c++) {
      const slice = taps.slice(c * per, (c + 1) * per);
      sendFailures += await sendRetrying(
        producer,
        env['TOPIC_TAPS']!,
        slice.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      );
      const previous = taps.slice(Math.max(0, (c - 1) * per), c * per);
      const adjustments = previous.flatMap((t) =>
        refundsOf.has(t.tap_id) ? [refundsOf.get(t.tap_id)!] : [],
      );
      if (c === chunks - 1)
        for (const t of slice) if (refundsOf.has(t.tap_id)) adjustments.push(refundsOf.get(t.tap_id)!);
      if (adjustments.length > 0)
        sendFailures += await sendRetrying(
          producer,
          env['TOPIC_ADJUSTMENTS']!,
          adjustments.map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
        );
      if (c === 0) {
        // Mid-stream means the worker is deciding when the broker dies: wait for its first commits.
        const since = Date.now();
        while ((await decisionsOffset()) === 0 && Date.now() - since < 60_000) {
          if (workerExit !== null) throw new Error(`the worker exited at start-up; ${stderr()}`);
          await sleep(200);
        }
      }
      if (c === restartAfter) {
        const b = broker;
        offsetAtFault = await decisionsOffset();
        await admin.disconnect();
        restart = (async () => {
          await b.stop(signal);
          await sleep(2000);
          await b.start();
        })();
      }
      await sleep(150);
    }
    await restart;
    await producer.disconnect();

    const end = await expectNoFaultEndState(stream, reference, { redis, client, log: stderr });
    // Read after the refunds were applied: anything refused would be there by now.
    const dlq = decodeAll('dlq', await readAll(env['TOPIC_DLQ']!, 0, 1000, 10_000, client));
    expect(workerExit, `the worker exited during the run; ${stderr()}`).toBeNull();
    const stopped = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await stopped, stderr()).toBe(0);

    expect(dlq.map((d) => `${d.code}: ${d.reason}`)).toEqual([]);
    // The fault hit a worker that had decided some taps and had most of the stream still to come.
    expect(offsetAtFault).toBeGreaterThan(0);
    expect(offsetAtFault).toBeLessThan(taps.length / 2);

    rmSync(logPath, { force: true }); // kept only when the test fails, for the person reading it
    results.add(`Kafka broker ${signal} + restart mid-stream`, {
      taps: taps.length,
      refunds: refunds.length,
      faults: 1,
      decisionOffsetAtFault: offsetAtFault,
      producerRetries: sendFailures,
      ...end,
    });
  }, 300_000);
});
