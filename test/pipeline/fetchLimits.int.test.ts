/**
 * The worker's fetch limits (pipeline/worker.ts fetchLimits) against the real broker, with record
 * batches larger than a quarter of the fetch, as a producer sending a few thousand taps at once writes
 * them. The broker skips a partition whose next record batch does not fit its per-partition limit
 * (unless it is the first one with data), so a per-partition limit below the batches made every fetch
 * one record batch of one partition. With the whole fetch open to any partition, a fetch carries as many
 * batches as fit, and never much more than the fetch's bytes.
 */
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchLimits } from '../../pipeline/worker.ts';
import { uniqueEnv } from '../support/pipelineEnv.ts';

const kafka = new Kafka({
  clientId: 'fetch-limits-test',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
const PARTITIONS = 4;
/** Record batches per partition, and records per batch: ~110 KB a batch, over a quarter of 256 KiB. */
const BATCHES = 3;
const RECORDS = 500;
const VALUE = Buffer.alloc(200, 'x');

describe('the worker fetch limits on a real broker', () => {
  const env = uniqueEnv('fetch-limits');
  const topic = env['TOPIC_TAPS']!;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // One send per partition and batch: each lands as one record batch.
    for (let b = 0; b < BATCHES; b++)
      for (let partition = 0; partition < PARTITIONS; partition++)
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: Array.from({ length: RECORDS }, (_, i) => ({
            partition,
            key: `${partition}-${b}-${i}`,
            value: VALUE,
          })),
        });
    await producer.disconnect();
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('fills a fetch with several record batches, all records once, within the fetch bytes', async () => {
    const limits = fetchLimits();
    const consumer = kafka.consumer({
      groupId: env['TAPLINE_WORKER_GROUP']!,
      readUncommitted: false,
      maxWaitTimeInMs: 50,
      ...limits,
    });
    /** Records and bytes of each fetch, in the order fetched. */
    const fetches: Array<{ records: number; bytes: number; partitions: Set<number> }> = [];
    const seen = new Set<string>();
    let duplicates = 0;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // The fetcher hands a fetch's batches over only after the previous fetch's were processed.
    consumer.on(consumer.events.FETCH_START, () =>
      fetches.push({ records: 0, bytes: 0, partitions: new Set() }),
    );
    const total = PARTITIONS * BATCHES * RECORDS;
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        partitionsConsumedConcurrently: 64,
        eachBatch: async ({ batch }) => {
          const fetch = fetches[fetches.length - 1]!;
          fetch.partitions.add(batch.partition);
          for (const m of batch.messages) {
            const id = `${batch.partition}@${m.offset}`;
            if (seen.has(id)) duplicates++;
            seen.add(id);
            fetch.records++;
            fetch.bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
          }
          if (seen.size >= total) resolve();
        },
      });
    });
    try {
      await done;
    } finally {
      await consumer.disconnect();
    }
    expect(seen.size).toBe(total);
    expect(duplicates).toBe(0);
    const carried = fetches.filter((f) => f.records > 0);
    // Each fetch but the last carries more than one ~110 KB record batch: ~2 of them in 256 KiB.
    expect(Math.max(...carried.map((f) => f.records))).toBeGreaterThanOrEqual(2 * RECORDS);
    expect(carried.length).toBeLessThan(PARTITIONS * BATCHES);
    // Never much more than the fetch's bytes: past the first partition, a batch must fit what is left.
    const batchBytes = RECORDS * (VALUE.length + 10);
    for (const f of carried) expect(f.bytes).toBeLessThanOrEqual(limits.maxBytes + batchBytes);
  });
});
