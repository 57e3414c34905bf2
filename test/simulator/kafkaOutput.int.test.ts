// tapline simulate to the real local Kafka: every record arrives Avro-framed with the keys the
// pipeline partitions by, decodes to exactly what the generator made, and labels reach the side file.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../pipeline/config.ts';
import { createKafka, ensureTopics } from '../../pipeline/kafka.ts';
import { silentLogger } from '../../pipeline/logger.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { produceTraffic } from '../../simulator/kafkaOutput.ts';
import { defaultSimulation, generateTraffic, type SimulationOptions } from '../../simulator/traffic.ts';

const config = loadConfig({ TAPLINE_ENV: 'test' }).config;
const kafka: Kafka = createKafka(config, silentLogger, `sim-test-${randomUUID().slice(0, 8)}`);
const suffix = randomUUID().slice(0, 8);
const topics = { taps: `sim-taps-${suffix}`, adjustments: `sim-adjustments-${suffix}` };
const simulation: SimulationOptions = {
  ...defaultSimulation,
  seed: 31,
  count: 3000,
  fraudShare: 0.05,
  days: 3,
};

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topics.taps, topics.adjustments] }).catch(() => undefined);
  await admin.disconnect();
});

async function readAll(topic: string, expected: number) {
  const consumer = kafka.consumer({ groupId: `sim-test-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Array<{ key: string; value: Buffer; partition: number; timestamp: number }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${expected} on ${topic}`)), 45_000);
    consumer
      .run({
        eachMessage: async ({ message, partition }) => {
          seen.push({
            key: message.key!.toString(),
            value: message.value!,
            partition,
            timestamp: Number(message.timestamp),
          });
          if (seen.length === expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

describe('simulate to Kafka', () => {
  it('sends every tap and adjustment Avro-encoded, keyed by account_id and tap_id, with labels aside', async () => {
    await ensureTopics(kafka, [topics.taps, topics.adjustments], 3);
    const labelsPath = join(mkdtempSync(join(tmpdir(), 'tapline-sim-kafka-')), 'labels.jsonl');
    const farFuture = () => Date.parse('2030-01-01T00:00:00Z');
    const counts = await produceTraffic(kafka, {
      simulation,
      rate: 50_000,
      topics,
      labelsPath,
      now: farFuture,
    });

    const expectedTaps: Tap[] = [];
    const expectedAdjustments: Adjustment[] = [];
    for (const { record } of generateTraffic(simulation)) {
      const { type, ...rest } = record;
      if (type === 'tap') expectedTaps.push(rest as Tap);
      else expectedAdjustments.push(rest as Adjustment);
    }
    expect(counts.taps).toBe(3000);
    expect(counts.adjustments).toBe(expectedAdjustments.length);

    const codec = createCodec({ now: farFuture });
    const tapMessages = await readAll(topics.taps, counts.taps);
    const decodedTaps = tapMessages.map((m) => {
      expect(m.value[0]).toBe(0); // Confluent magic byte
      const d = codec.decode('tap', m.value);
      if (!d.ok) throw new Error(d.reason);
      // Kafka time is publish time, not event time: months-old timestamps fall to time retention.
      expect(Math.abs(m.timestamp - Date.now())).toBeLessThan(10 * 60_000);
      expect(m.key).toBe(d.value.account_id);
      return d.value;
    });
    const byId = (a: { tap_id: string }, b: { tap_id: string }) => a.tap_id.localeCompare(b.tap_id);
    expect(decodedTaps.sort(byId)).toEqual(expectedTaps.sort(byId));
    // One account's taps stay on one partition, so they are consumed in order.
    const partitionOf = new Map<string, number>();
    for (const m of tapMessages) {
      expect(partitionOf.get(m.key) ?? m.partition).toBe(m.partition);
      partitionOf.set(m.key, m.partition);
    }

    const adjustmentMessages = await readAll(topics.adjustments, counts.adjustments);
    const decodedAdjustments = adjustmentMessages.map((m) => {
      const d = codec.decode('adjustment', m.value);
      if (!d.ok) throw new Error(d.reason);
      expect(m.key).toBe(d.value.tap_id);
      return d.value;
    });
    const byAdj = (a: Adjustment, b: Adjustment) => a.adjustment_id.localeCompare(b.adjustment_id);
    expect(decodedAdjustments.sort(byAdj)).toEqual(expectedAdjustments.sort(byAdj));

    const labels = readFileSync(labelsPath, 'utf8').trim().split('\n');
    expect(labels).toHaveLength(counts.fraudTaps);
    expect(counts.fraudTaps).toBe(150);
  });
});
