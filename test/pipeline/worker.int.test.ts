// The streaming worker against the real Kafka and Redis: every tap decided once, producer duplicates
// publish nothing, bad records reach the DLQ with a reason, adjustments find their tap (also when
// they arrive first), and repeated kill -9 of the worker process changes no decision.
import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec } from '../../schemas/codec.ts';
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { generateTraffic, defaultSimulation } from '../../simulator/traffic.ts';
import { silentLogger } from '../../pipeline/logger.ts';
import { startWorkerFromConfig } from '../../pipeline/wiring.ts';
import { decryptPayload } from '../../sinks/dlq.ts';
import { referenceDecisions } from '../support/referenceDecisions.ts';
import { freePort } from '../support/freePort.ts';
import { cliArgs, configFor, uniqueEnv } from '../support/pipelineEnv.ts';

const codec = createCodec();

const kafka = new Kafka({ clientId: 'worker-test', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });

async function createTopics(env: Record<string, string>, partitions: number) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      env['TOPIC_TAPS']!,
      env['TOPIC_ADJUSTMENTS']!,
      env['TOPIC_ADJUSTMENTS_RETRY']!,
      env['TOPIC_DECISIONS']!,
      env['TOPIC_ALERTS']!,
      env['TOPIC_DLQ']!,
      env['TOPIC_TAPS_ENRICHED']!,
      env['TOPIC_ADJUSTMENTS_ENRICHED']!,
    ].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  });
  await admin.disconnect();
}

/** Reads committed records of a topic until `expected` arrived and nothing more comes for a while. */
async function readAll(
  topic: string,
  expected: number,
  quietMs = 1500,
  timeoutMs = 90_000,
): Promise<Buffer[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}`,
    readUncommitted: false,
  });
  const values: Buffer[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value!);
      last = Date.now();
    },
  });
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 200));
    if (values.length >= expected && Date.now() - last > quietMs) break;
  }
  await consumer.disconnect();
  return values;
}

function simulatedTaps(count: number, seed: number): Tap[] {
  const taps: Tap[] = [];
  for (const { record } of generateTraffic({ ...defaultSimulation, seed, count, fraudShare: 0.1, days: 2 })) {
    if (record.type === 'tap') {
      const { type: _t, ...tap } = record;
      taps.push(tap);
    }
  }
  return taps;
}

describe('tapline worker on Kafka and Redis', () => {
  const producer = kafka.producer();
  beforeAll(async () => {
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
  });

  it('decides every tap once, skips producer duplicates, sends bad records to the DLQ and applies adjustments', async () => {
    const env = uniqueEnv('worker-basic', { TAPLINE_METRICS_PORT: String(await freePort()) });
    await createTopics(env, 2);
    const config = configFor(env);
    const taps = simulatedTaps(400, 7);
    const approved = taps.find((t) => t.status === 'APPROVED')!;
    const refund: Adjustment = {
      adjustment_id: 'adj-refund-1',
      occurred_at: approved.occurred_at + 60_000,
      tap_id: approved.tap_id,
      kind: 'REFUND',
      amount: approved.amount,
      reason: null,
    };
    // An adjustment whose tap comes later: it must wait in the retry topic, then apply.
    const lateTap: Tap = {
      ...approved,
      tap_id: 'tap-arrives-late',
      occurred_at: approved.occurred_at + 1000,
    };
    const early: Adjustment = { ...refund, adjustment_id: 'adj-early', tap_id: lateTap.tap_id };
    await producer.send({
      topic: env['TOPIC_ADJUSTMENTS']!,
      messages: [{ key: early.tap_id, value: codec.encode('adjustment', early) }],
    });
    await producer.send({
      topic: env['TOPIC_TAPS']!,
      messages: [
        ...taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
        // a producer duplicate of the first tap, same content
        { key: taps[0]!.account_id, value: codec.encode('tap', taps[0]!) },
        // garbage and a tap that fails validation
        { key: 'x', value: Buffer.from('not avro at all') },
      ],
    });

    const worker = await startWorkerFromConfig(config, silentLogger);
    try {
      await worker.started;
      await producer.send({
        topic: env['TOPIC_ADJUSTMENTS']!,
        messages: [{ key: refund.tap_id, value: codec.encode('adjustment', refund) }],
      });
      await new Promise((r) => setTimeout(r, 2500));
      await producer.send({
        topic: env['TOPIC_TAPS']!,
        messages: [{ key: lateTap.account_id, value: codec.encode('tap', lateTap) }],
      });

      const decisions = (await readAll(env['TOPIC_DECISIONS']!, taps.length + 1)).map((v) => {
        const d = codec.decode('decision', v);
        if (!d.ok) throw new Error(d.reason);
        return d.value;
      });
      const ids = decisions.map((d) => d.tap_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(taps.length + 1);
      expect(decisions.every((d) => d.duplicate !== true)).toBe(true);

      const dlq = (await readAll(env['TOPIC_DLQ']!, 1)).map((v) => {
        const d = codec.decode('dlq', v);
        if (!d.ok) throw new Error(d.reason);
        return d.value;
      });
      expect(dlq).toHaveLength(1);
      expect(dlq[0]!.code).toBe('DECODE_FAILED');
      expect(decryptPayload(dlq[0]!.payload, config.secrets.dataKey!).toString()).toBe('not avro at all');

      const applied = (await readAll(env['TOPIC_ADJUSTMENTS_ENRICHED']!, 2)).map((v) => {
        const d = codec.decode('adjustmentApplied', v);
        if (!d.ok) throw new Error(d.reason);
        return d.value;
      });
      expect(applied.map((a) => a.adjustment_id).sort()).toEqual(['adj-early', 'adj-refund-1']);
      expect(applied.find((a) => a.adjustment_id === 'adj-refund-1')!.account_id).toBe(approved.account_id);

      const alerts = await readAll(env['TOPIC_ALERTS']!, 0, 1000, 5000);
      expect(alerts.length).toBe(decisions.filter((d) => d.decision !== 'ALLOW').length);

      const enriched = await readAll(env['TOPIC_TAPS_ENRICHED']!, taps.length + 1);
      expect(enriched.length).toBe(taps.length + 1);
      // no raw phone number leaves the worker
      const raw = Buffer.concat(enriched).toString('latin1');
      for (const t of taps.slice(0, 50)) expect(raw).not.toContain(t.msisdn.replace(/-/g, '').slice(-8));

      expect(worker.metricsPort).toBe(Number(env['TAPLINE_METRICS_PORT']));
      const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/tapline_records_out_total\{outcome="duplicate"\} 1\b/);
      expect(metrics).toMatch(/tapline_dlq_total\{code="DECODE_FAILED"\} 1\b/);
      expect(metrics).toContain('tapline_produce_to_decision_seconds_bucket');
      // The preloaded partitions came in one fetch, and their batches were decided in one call.
      const single = Number(/tapline_batches_per_decision_bucket\{le="1"\} (\d+)/.exec(metrics)?.[1]);
      const calls = Number(/tapline_batches_per_decision_count (\d+)/.exec(metrics)?.[1]);
      expect(calls).toBeGreaterThan(0);
      expect(calls - single).toBeGreaterThan(0);
      // Every committed group went through each phase of its cycle once, in order, and each decision
      // call was timed; every commit but the last was followed by a fetch.
      const count = (series: string) => Number(new RegExp(`^${series} (\\d+)$`, 'm').exec(metrics)?.[1]);
      const phaseCount = (name: string) => count(`tapline_cycle_phase_seconds_count\\{phase="${name}"\\}`);
      const commits = count('tapline_commit_visible_seconds_count');
      expect(commits).toBeGreaterThan(1);
      for (const name of ['produce', 'offsets', 'membership', 'commit'])
        expect(phaseCount(name)).toBe(commits);
      expect(phaseCount('decide')).toBe(calls);
      expect(phaseCount('fetch')).toBeGreaterThanOrEqual(commits - 1);
      expect(phaseCount('fetch')).toBeLessThanOrEqual(commits);
      expect((await fetch(`http://127.0.0.1:${worker.metricsPort}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`)).status).toBe(200);
    } finally {
      await worker.stop();
    }
  }, 180_000);

  it('gives the same decisions after repeated kill -9 of the worker process as a run without faults', async () => {
    const env = uniqueEnv('worker-kill');
    // One partition: the order of taps, and so every window, is fixed, and the reference is exact.
    await createTopics(env, 1);
    const config = configFor(env);
    const taps = simulatedTaps(8000, 11);
    for (let i = 0; i < taps.length; i += 1000) {
      await producer.send({
        topic: env['TOPIC_TAPS']!,
        messages: taps.slice(i, i + 1000).map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      });
    }

    // Reference: the same detector over the same taps in order, with the in-memory store.
    const pii = { key: config.secrets.piiKey!, version: config.secrets.piiKeyVersion };
    const expected = await referenceDecisions(taps, pii);

    const childEnv = { ...process.env, ...env, KAFKA_BROKERS: '127.0.0.1:9092' };
    const startChild = (): ChildProcess =>
      spawn(process.execPath, cliArgs('run'), {
        env: childEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    let kills = 0;
    for (let round = 0; round < 4; round++) {
      const child = startChild();
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 2000)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
    }
    const last = startChild();
    let stderr = '';
    last.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const decisions = (await readAll(env['TOPIC_DECISIONS']!, taps.length, 3000, 150_000)).map((v) => {
      const d = codec.decode('decision', v);
      if (!d.ok) throw new Error(d.reason);
      return d.value;
    });
    last.kill('SIGTERM');
    const code = await new Promise((r) => last.once('exit', r));
    expect(kills).toBe(4);
    expect(code, stderr).toBe(0);

    const seen = new Map<string, string>();
    for (const d of decisions) {
      expect(seen.has(d.tap_id), `tap ${d.tap_id} decided twice`).toBe(false);
      seen.set(d.tap_id, `${d.decision}:${d.rules.join(',')}`);
    }
    expect(seen.size).toBe(taps.length);
    expect(seen).toEqual(expected);
  }, 300_000);
});
