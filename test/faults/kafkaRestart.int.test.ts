// The Kafka broker restarted mid-stream, against a no-fault reference. A PRIVATE single-node broker
// (test/support/privateKafka.ts: own ports and data dir; the shared one on 9092 is never touched) carries
// a paced stream of taps and refunds into a real `tapline run` child; while it flows the broker is
// killed (SIGKILL: no controlled shutdown, the worker's open transaction dies with it) and started again
// on the same dirs. The worker must ride it out without exiting, and the end state must equal the
// no-fault run: every tap decided once (read_committed) with the reference's decision, every refund
// applied once, nothing in the DLQ. FAULT_KAFKA_TAPS scales the stream (default 4,000),
// FAULT_KAFKA_SIGNAL picks SIGTERM instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrivateKafka, type PrivateKafka } from '../support/privateKafka.ts';
import { configFor, uniqueEnv } from '../support/pipelineEnv.ts';
import { outcomeOf, referenceDecisions, tallyDecisions } from '../support/referenceDecisions.ts';
import { figures } from './figures.ts';
import { codec, createTopics, decodeAll, readAll, safeRefunds, simulatedTaps } from './harness.ts';

const tapCount = Number(process.env['FAULT_KAFKA_TAPS'] ?? 4000);
const signal = process.env['FAULT_KAFKA_SIGNAL'] === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL';
const results = figures('faults');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let broker: PrivateKafka | null = null;
let worker: ChildProcess | null = null;
afterAll(async () => {
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
  it(`gives the no-fault decisions and applies every refund once after a broker ${signal}`, async () => {
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
    const config = configFor(env);
    const taps = simulatedTaps(tapCount, 37);
    const refunds = safeRefunds(taps, 37);
    const expected = await referenceDecisions(taps, {
      key: config.secrets.piiKey!,
      version: config.secrets.piiKeyVersion,
    });
    expect(refunds.length).toBeGreaterThan(50);

    // The worker's log goes to a file beside the test's temp files, for a person reading a failure.
    const logPath = join(tmpdir(), `${env['TOPIC_TAPS']}.worker.log`);
    const logFd = openSync(logPath, 'w');
    const child = spawn(process.execPath, ['pipeline/cli.ts', 'run'], {
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

    const decisions = decodeAll(
      'decision',
      await readAll(env['TOPIC_DECISIONS']!, taps.length, 3000, 120_000, client),
    );
    const applied = decodeAll(
      'adjustmentApplied',
      await readAll(env['TOPIC_ADJUSTMENTS_ENRICHED']!, refunds.length, 2000, 120_000, client),
    );
    const dlq = decodeAll('dlq', await readAll(env['TOPIC_DLQ']!, 0, 1000, 10_000, client));
    // What the sink would store: each tap once on taps-enriched, one alert per REVIEW or BLOCK.
    const expectedAlerts = [...expected.values()].filter((v) => !v.startsWith('ALLOW:')).length;
    const enriched = decodeAll(
      'tapEnriched',
      await readAll(env['TOPIC_TAPS_ENRICHED']!, taps.length, 1500, 60_000, client),
    );
    const alerts = decodeAll(
      'alert',
      await readAll(env['TOPIC_ALERTS']!, expectedAlerts, 1500, 60_000, client),
    );
    expect(workerExit, `the worker exited during the run; ${stderr()}`).toBeNull();
    const stopped = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await stopped, stderr()).toBe(0);

    const { outcomes: seen, duplicates } = tallyDecisions(decisions);
    expect(duplicates).toBe(0);
    expect(seen.size, stderr()).toBe(taps.length);
    expect(seen).toEqual(expected);

    expect(dlq.map((d) => `${d.code}: ${d.reason}`)).toEqual([]);
    const appliedIds = applied.map((a) => a.adjustment_id);
    expect(appliedIds.length - new Set(appliedIds).size).toBe(0);
    const missing = refunds.filter((a) => !appliedIds.includes(a.adjustment_id)).map((a) => a.adjustment_id);
    expect(missing, `refunds never applied (${missing.length}); ${stderr()}`).toEqual([]);
    expect(appliedIds.length).toBe(refunds.length);
    for (const a of applied) expect(a.amount).toBe(refundsOf.get(a.tap_id)!.amount);
    // The fault hit a worker that had decided some taps and had most of the stream still to come.
    expect(enriched.length).toBe(taps.length);
    expect(new Set(enriched.map((t) => t.tap_id))).toEqual(new Set(taps.map((t) => t.tap_id)));
    expect(expectedAlerts).toBeGreaterThan(0);
    expect(alerts.length).toBe(expectedAlerts);
    for (const a of alerts) expect(outcomeOf(a), a.tap_id).toBe(expected.get(a.tap_id));
    expect(offsetAtFault).toBeGreaterThan(0);
    expect(offsetAtFault).toBeLessThan(taps.length / 2);

    rmSync(logPath, { force: true }); // kept only when the test fails, for the person reading it
    results.add(`Kafka broker ${signal} + restart mid-stream`, {
      taps: taps.length,
      refunds: refunds.length,
      alerts: alerts.length,
      faults: 1,
      decisionOffsetAtFault: offsetAtFault,
      producerRetries: sendFailures,
      lost: taps.length - seen.size + refunds.length - new Set(appliedIds).size,
      duplicates,
    });
  }, 300_000);
});
