/**
 * The latency floor of the worker's design: a stand-in for `tapline run` (same environment contract,
 * same consumer settings, one Kafka transaction per fetch carrying the outputs and offsets of its
 * batches, pipeline/commitGroups.ts, as in pipeline/worker.ts) that decodes each tap with the project's
 * codec and answers ALLOW at once, with no
 * detection and no Redis. `npm run bench -- --only latency-floor` runs it; the integration tests use it to
 * check the end-to-end harness without the real worker. Stops on SIGTERM after the batch in flight.
 */
import { Kafka, logLevel, type KafkaMessage, type Message } from 'kafkajs';
import { createCommitGroups } from '../pipeline/commitGroups.ts';
import { createDecisionQueue } from '../pipeline/decisionQueue.ts';
import { createCodec } from '../schemas/codec.ts';
import { workerConsumerSettings } from './baseline.ts';

const env = process.env;
const groupId = env['TAPLINE_WORKER_GROUP']!;
const kafka = new Kafka({
  clientId: 'bench-echo-worker',
  brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','),
  logLevel: logLevel.NOTHING,
});
const codec = createCodec();
const consumer = kafka.consumer({ groupId, ...workerConsumerSettings });
const producer = kafka.producer({
  transactionalId: env['TAPLINE_WORKER_ID']!,
  idempotent: true,
  maxInFlightRequests: 1,
  transactionTimeout: 30_000,
  // As pipeline/worker.ts: CONCURRENT_TRANSACTIONS right after a commit is retried after 5 ms, not
  // kafkajs's default 300 ms, which would otherwise be most of the measured "floor".
  retry: { initialRetryTime: 5, maxRetryTime: 1_000, retries: 12 },
});
await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topics: [env['TOPIC_TAPS']!], fromBeginning: true });
interface Decided {
  topic: string;
  partition: number;
  lastOffset: string;
  messages: Message[];
}
const groups = createCommitGroups<Decided>(async (members) => {
  const tx = await producer.transaction();
  try {
    await tx.send({ topic: env['TOPIC_DECISIONS']!, messages: members.flatMap((m) => m.messages) });
    await tx.sendOffsets({
      consumerGroupId: groupId,
      topics: members.map((m) => ({
        topic: m.topic,
        partitions: [{ partition: m.partition, offset: String(BigInt(m.lastOffset) + 1n) }],
      })),
    });
    await tx.commit();
  } catch (e) {
    await tx.abort().catch(() => {});
    throw e;
  }
});
/** The echo's decision for every tap of the batches (no store): ALLOW. */
const decisions = createDecisionQueue<KafkaMessage[], Message[]>(async (batches) =>
  batches.map((messages) =>
    messages.map((m) => {
      const tap = codec.decode('tap', m.value!);
      if (!tap.ok) throw new Error(`echo worker: ${tap.reason}`);
      const decision = {
        tap_id: tap.value.tap_id,
        decision: 'ALLOW' as const,
        rules: [],
        reasons: [],
        rules_version: 'echo',
        geo_db: 'none',
        decided_at: Date.now(),
      };
      return { key: tap.value.account_id, value: codec.encode('decision', decision) };
    }),
  ),
);
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 64,
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    groups.enter();
    let messages: Message[];
    try {
      // Together with the fetch's other batches, as the worker decides them.
      messages = await decisions.decide(batch.messages);
    } catch (e) {
      groups.leave();
      throw e;
    }
    await groups.join({
      topic: batch.topic,
      partition: batch.partition,
      lastOffset: batch.lastOffset(),
      messages,
    });
  },
});
process.once('SIGTERM', () => {
  void consumer
    .stop()
    .then(() => Promise.all([consumer.disconnect(), producer.disconnect()]))
    .then(() => process.exit(0));
});
