/**
 * The baseline again through another client: the same consume → produce passthrough as
 * bench/baseline.ts, on the same broker, a fresh 4-partition topic of the same taps and the same fetch
 * sizes, but with @platformatic/kafka instead of kafkajs (issue 10: where kafkajs is the ceiling,
 * measure an alternative that runs on the project's Node). The plain kafkajs passthrough keeps one
 * core ~90% busy in the client, so kafkajs is the ceiling of that figure; this says by how much.
 *
 * @platformatic/kafka hands messages one by one through a stream. They are gathered into batches as
 * kafkajs's eachBatch gives them: one partition's messages, flushed when the next message is of
 * another partition or the stream has nothing more buffered. Plain: produce the batch (acks -1), then
 * commit its offsets. Transactional: one transaction per batch with the outputs and the consumed
 * offsets (the worker's commit path).
 */
import { Consumer, Producer, type Message } from '@platformatic/kafka';
import {
  definePassthroughBenchmark,
  workerConsumerSettings,
  type Prepared,
  type Variant,
} from './baseline.ts';
import { cpuPerUnit, sampleCpu } from './cpuAccount.ts';
import { localKafkaProcess } from './machine.ts';
import type { BenchContext } from './harness.ts';
import { createTopics } from './kafkaTopics.ts';

/** Messages per produced batch at most (a partition's share of a fetch is far fewer). */
const BATCH = 2_000;
/** Kafka's isolation level READ_COMMITTED, as the worker reads. */
const READ_COMMITTED = 1;

async function passthrough(ctx: BenchContext, prepared: Prepared, variant: Variant, run: number) {
  const { input, taps } = prepared;
  const tag = `${ctx.runId}-pk-${variant}-${run}`;
  const output = `bench-baseline-pk-out-${tag}`;
  prepared.outputs.push(output);
  await createTopics(prepared.kafka, [output]);
  const groupId = `bench-baseline-pk-${tag}`;
  const consumer = new Consumer({
    groupId,
    clientId: `bench-pk-consumer-${tag}`,
    bootstrapBrokers: ctx.kafkaBrokers,
    sessionTimeout: workerConsumerSettings.sessionTimeout,
    heartbeatInterval: workerConsumerSettings.heartbeatInterval,
  });
  const producer = new Producer({
    clientId: `bench-pk-producer-${tag}`,
    bootstrapBrokers: ctx.kafkaBrokers,
    autocreateTopics: false,
    // The next transaction's first request is often refused with CONCURRENT_TRANSACTIONS while the
    // coordinator still writes the last one's markers; the default 1 s retry delay would then dominate
    // (the Java client retries this after 20 ms).
    retryDelay: 20,
    ...(variant === 'transactional' ? { transactionalId: `bench-pk-${tag}`, idempotent: true } : {}),
  });
  const broker = localKafkaProcess();
  const cpu = sampleCpu(new Map(broker === undefined ? [] : [['Kafka broker', [broker.pid]]]));
  let done = 0;
  let firstBatchAt = 0;
  let cpuAtFirstBatch = process.cpuUsage();
  let cpuUsed = { user: 0, system: 0 };
  let finishedAt = 0;
  let batches = 0;

  const flush = async (batch: Message[]) => {
    const messages = batch.map((m) => ({ topic: output, key: m.key, value: m.value }));
    if (variant === 'transactional') {
      const tx = await producer.beginTransaction();
      try {
        await tx.send({ messages });
        await tx.addConsumer(consumer);
        await Promise.all(lastPerPartition(batch).map((last) => tx.addOffset(last)));
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
    } else {
      await producer.send({ messages, acks: -1 });
      await consumer.commit({
        offsets: lastPerPartition(batch).map((m) => ({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset + 1n,
          leaderEpoch: m.leaderEpoch,
        })),
      });
    }
  };

  const stream = await consumer.consume({
    topics: [input],
    mode: 'earliest',
    autocommit: false,
    maxBytesPerPartition: workerConsumerSettings.maxBytesPerPartition,
    maxBytes: workerConsumerSettings.maxBytes,
    maxWaitTime: workerConsumerSettings.maxWaitTimeInMs,
    isolationLevel: READ_COMMITTED,
    // Room for the next batch while one is produced, so fetching goes on meanwhile (the default, 1,024
    // messages, is less than one batch).
    highWaterMark: 2 * BATCH,
  });
  const timeout = setTimeout(() => {
    stream.destroy(
      new Error(`${variant} passthrough (@platformatic/kafka): ${done}/${taps} taps after 300 s`),
    );
  }, 300_000);
  try {
    let batch: Message[] = [];
    const complete = async () => {
      await flush(batch);
      batches++;
      done += batch.length;
      batch = [];
      if (done < taps) return false;
      finishedAt = performance.now();
      cpuUsed = process.cpuUsage(cpuAtFirstBatch);
      return true;
    };
    for await (const message of stream as AsyncIterable<Message>) {
      if (firstBatchAt === 0) {
        firstBatchAt = performance.now();
        cpuAtFirstBatch = process.cpuUsage();
      }
      // One batch per partition, as kafkajs's eachBatch hands them to bench/baseline.ts.
      if (batch.length > 0 && batch[0]!.partition !== message.partition && (await complete())) break;
      batch.push(message);
      if (batch.length < BATCH && stream.readableLength > 0) continue;
      if (await complete()) break;
    }
    if (finishedAt === 0)
      throw new Error(`${variant} passthrough (@platformatic/kafka) ended at ${done}/${taps} taps`);
  } finally {
    cpu.stop();
    clearTimeout(timeout);
    await stream.close().catch(() => {});
    await consumer.close(true).catch(() => {});
    await producer.close(true).catch(() => {});
  }
  const seconds = (finishedAt - firstBatchAt) / 1_000;
  return {
    rate: taps / seconds,
    cpuShare: (cpuUsed.user + cpuUsed.system) / 1e6 / seconds,
    detail: `${Math.round(taps / batches)} messages per batch`,
    cost: cpuPerUnit(cpu.samples, firstBatchAt, finishedAt, taps),
  };
}

/** The last message of each partition in the batch: committing it commits the partition's batch. */
function lastPerPartition(batch: readonly Message[]): Message[] {
  const last = new Map<string, Message>();
  for (const m of batch) last.set(`${m.topic}/${m.partition}`, m);
  return [...last.values()];
}

export const benchmark = definePassthroughBenchmark({
  name: 'baseline-platformatic',
  title: 'Baseline through @platformatic/kafka: the same passthrough with another client',
  idPrefix: 'bp',
  passthrough,
  againstKafkajs: true,
});
