/**
 * Kafka plumbing shared by the benchmarks: a quiet client, fresh topics that are deleted afterwards, and
 * preloading a topic with encoded taps as fast as the broker takes them.
 */
import { CompressionTypes, Kafka, logLevel, type Message } from 'kafkajs';
import type { Tap } from '../schemas/types.ts';
import type { BenchContext } from './harness.ts';
import { loadTapEncoder, takeTaps, type TapEncoder } from './taps.ts';

export const BENCH_PARTITIONS = 4;

export function benchKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    // kafkajs logs transient leader elections on fresh topics as errors and retries them itself; real
    // failures reach the benchmark as rejected promises.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  });
}

export async function createTopics(kafka: Kafka, topics: string[], partitions = BENCH_PARTITIONS) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Best-effort: a benchmark's result does not depend on its cleanup succeeding. */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // the topic names are unique per run: a leftover harms nobody and the broker's retention removes it
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Writes `taps` to `topic`, keyed by account as producers do (so one account stays on one partition),
 * in batches with a few requests in flight. Resolves when every batch is acknowledged by the broker.
 */
export async function preloadTaps(
  kafka: Kafka,
  topic: string,
  taps: readonly Tap[],
  encode: TapEncoder,
  batchSize = 2_000,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < taps.length; i += batchSize) {
      const messages: Message[] = taps
        .slice(i, i + batchSize)
        .map((t) => ({ key: t.account_id, value: encode(t), timestamp: String(Date.now()) }));
      const p = producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
}

/**
 * Creates `topic` and fills it with `count` workload taps (bench/taps.ts, 20,000 accounts) whose ids
 * start with `idPrefix`, logging as `name`; resolves with the taps written.
 */
export async function createPreloadedTopic(
  ctx: BenchContext,
  kafka: Kafka,
  name: string,
  topic: string,
  count: number,
  idPrefix: string,
): Promise<Tap[]> {
  await createTopics(kafka, [topic]);
  const encoder = await loadTapEncoder();
  ctx.log(`${name}: preloading ${count} taps (${encoder.source}) into ${topic}`);
  const started = performance.now();
  const taps = takeTaps({ accounts: 20_000, idPrefix }, count);
  await preloadTaps(kafka, topic, taps, encoder.encode);
  ctx.log(`${name}: preloaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return taps;
}
