// The worker commits its outputs and its consumed offsets in one Kafka transaction. This proves the
// single-node broker supports that: committed output is visible to read-committed consumers, aborted
// output is not, and the offsets sent inside the transaction land in the consumer group.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const kafka = new Kafka({
  clientId: 'test-services',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Kafka transactions on the local broker', () => {
  it('commits outputs with offsets atomically and hides aborted outputs', async () => {
    const id = randomUUID();
    const input = `test-txn-in-${id}`;
    const output = `test-txn-out-${id}`;
    const group = `test-txn-group-${id}`;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [input, output] });
      await admin.disconnect();
    });
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 1 },
        { topic: output, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });

    const producer = kafka.producer({
      transactionalId: `test-txn-${id}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    const committed = await producer.transaction();
    await committed.send({ topic: output, messages: [{ value: 'committed' }] });
    await committed.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }],
    });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'aborted' }] });
    await aborted.abort();

    // A plain record after the aborted one tells the reader it has seen everything before it.
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: output, messages: [{ value: 'end' }] });
    await plain.disconnect();

    const offsets = await admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(offsets).toEqual([
      { topic: input, partitions: [expect.objectContaining({ partition: 0, offset: '2' })] },
    ]);

    const consumer = kafka.consumer({ groupId: `test-txn-reader-${id}`, readUncommitted: false });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: output, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`saw only ${JSON.stringify(seen)} within 30 s`)),
        30_000,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          if (seen.at(-1) === 'end') {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    expect(seen).toEqual(['committed', 'end']);
  });
});
