/**
 * The physical limit: a bare kafkajs consume → produce passthrough of Avro-framed taps, with no
 * decoding and no processing, on the same broker, a fresh 4-partition topic and the consumer and
 * producer settings of pipeline/worker.ts. Two variants per run:
 *  - plain: produce each batch, then commit its offsets (at-least-once);
 *  - transactional: the worker's commit path, one Kafka transaction per batch carrying the outputs and
 *    the consumed offsets. This is the figure `tapline run` should be compared with.
 * The clock runs from the first batch handed to the consumer to the commit of the batch that completes
 * the topic, so group join and connection set-up are not counted.
 */
import type { EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { fetchLimits } from '../pipeline/worker.ts';
import { cpuPerUnit, sampleCpu } from './cpuAccount.ts';
import { localKafkaProcess } from './machine.ts';
import { defineBenchmark, intOption, type BenchContext, type Figure } from './harness.ts';
import { benchKafka, createPreloadedTopic, createTopics, deleteTopics } from './kafkaTopics.ts';

/** The consumer settings of pipeline/worker.ts (its fetch limits taken from it); keep the rest in step. */
export const workerConsumerSettings = {
  readUncommitted: false,
  ...fetchLimits(),
  maxWaitTimeInMs: 50,
  sessionTimeout: 30_000,
  heartbeatInterval: 3_000,
} as const;

export interface Prepared {
  kafka: Kafka;
  input: string;
  taps: number;
  outputs: string[];
}

export type Variant = 'plain' | 'transactional';

async function passthrough(
  ctx: BenchContext,
  prepared: Prepared,
  variant: Variant,
  run: number,
): Promise<PassthroughResult> {
  const { kafka, input, taps } = prepared;
  const tag = `${ctx.runId}-${variant}-${run}`;
  const output = `bench-baseline-out-${tag}`;
  prepared.outputs.push(output);
  await createTopics(kafka, [output]);
  const groupId = `bench-baseline-${tag}`;
  const consumer = kafka.consumer({ groupId, ...workerConsumerSettings });
  const producer: Producer =
    variant === 'transactional'
      ? kafka.producer({
          transactionalId: `bench-baseline-${tag}`,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: 30_000,
        })
      : kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });

  const broker = localKafkaProcess();
  const cpu = sampleCpu(new Map(broker === undefined ? [] : [['Kafka broker', [broker.pid]]]));
  let done = 0;
  let firstBatchAt = 0;
  let cpuAtFirstBatch = process.cpuUsage();
  let cpuUsed = { user: 0, system: 0 };
  let finishedAt = 0;
  let finish: () => void = () => {};
  let fail: (e: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning }: EachBatchPayload) {
    if (!isRunning() || batch.messages.length === 0) return;
    if (firstBatchAt === 0) {
      firstBatchAt = performance.now();
      cpuAtFirstBatch = process.cpuUsage();
    }
    const messages = batch.messages.map((m) => ({ key: m.key, value: m.value }));
    const next = String(BigInt(batch.lastOffset()) + 1n);
    try {
      if (variant === 'transactional') {
        const tx = await producer.transaction();
        try {
          await tx.send({ topic: output, messages });
          await tx.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
          await tx.commit();
        } catch (e) {
          await tx.abort().catch(() => {});
          throw e;
        }
      } else {
        await producer.send({ topic: output, messages, acks: -1 });
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
    } catch (e) {
      fail(e);
      throw e;
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
    done += batch.messages.length;
    if (done >= taps && finishedAt === 0) {
      finishedAt = performance.now();
      cpuUsed = process.cpuUsage(cpuAtFirstBatch);
      finish();
    }
  }

  const timeout = setTimeout(
    () => fail(new Error(`${variant} passthrough: ${done}/${taps} taps after 300 s`)),
    300_000,
  );
  try {
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch,
    });
    await finished;
  } finally {
    cpu.stop();
    clearTimeout(timeout);
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
  const cpuShare = (cpuUsed.user + cpuUsed.system) / 1_000 / (finishedAt - firstBatchAt);
  return {
    rate: (taps / (finishedAt - firstBatchAt)) * 1_000,
    cpuShare,
    cost: cpuPerUnit(cpu.samples, firstBatchAt, finishedAt, taps),
  };
}

/** What a passthrough run measured: messages/s, its client's share of a core, CPU per message. */
export interface PassthroughResult {
  rate: number;
  cpuShare: number;
  cost: ReturnType<typeof cpuPerUnit>;
}

/** A passthrough variant's figures, the same for every client measured. */
export function passthroughFigures(variant: Variant, r: PassthroughResult): Figure[] {
  const figures: Figure[] = [
    { metric: `passthrough ${variant}`, unit: 'msg/s', value: r.rate, better: 'higher' },
    // Near 100% means one Node thread (the client library) is the ceiling, not the broker.
    { metric: `client CPU, ${variant}`, unit: '% of a core', value: r.cpuShare * 100 },
  ];
  // The same cost model as scale-out's CPU per tap: what one message costs the broker and the box.
  const broker = r.cost?.perProcess.get('Kafka broker');
  if (broker !== undefined)
    figures.push({ metric: `CPU per message, ${variant}: Kafka broker`, unit: 'µs', value: broker });
  if (r.cost?.machine !== undefined)
    figures.push({ metric: `CPU per message, ${variant}: machine`, unit: 'µs', value: r.cost.machine });
  return figures;
}

/** A fresh 4-partition topic preloaded with `--set taps` (200,000) taps for a passthrough benchmark. */
export async function preloadPassthroughInput(
  ctx: BenchContext,
  name: string,
  idPrefix: string,
): Promise<Prepared> {
  const taps = intOption(ctx, 'taps', 200_000);
  const kafka = benchKafka(ctx.kafkaBrokers, `bench-${name}`);
  const input = `bench-${name}-in-${ctx.runId}`;
  await createPreloadedTopic(ctx, kafka, name, input, taps, `${idPrefix}-${ctx.runId}`);
  return { kafka, input, taps, outputs: [] };
}

/** What one passthrough benchmark brings: its client's passthrough, and a detail for its log line. */
export interface PassthroughBenchmark {
  name: string;
  title: string;
  /** Prefix of the preloaded taps' ids, unique per benchmark. */
  idPrefix: string;
  passthrough(
    ctx: BenchContext,
    prepared: Prepared,
    variant: Variant,
    run: number,
  ): Promise<PassthroughResult & { detail?: string }>;
  /** Also give each variant's rate as a ratio to kafkajs's (the `baseline` benchmark, run earlier). */
  againstKafkajs?: boolean;
}

/**
 * A passthrough benchmark: a preloaded input topic, both variants per run, the same figures for every
 * client, and every topic it made deleted at the end.
 */
export function definePassthroughBenchmark(b: PassthroughBenchmark) {
  return defineBenchmark<Prepared>({
    name: b.name,
    title: b.title,
    setup: (ctx) => preloadPassthroughInput(ctx, b.name, b.idPrefix),
    async run(ctx, prepared) {
      const run = prepared.outputs.length / 2;
      const figures: Figure[] = [];
      for (const variant of ['plain', 'transactional'] as const) {
        const result = await b.passthrough(ctx, prepared, variant, run);
        const detail = result.detail ? `, ${result.detail}` : '';
        ctx.log(
          `${b.name} ${variant}: ${Math.round(result.rate)} msg/s, client CPU ${(result.cpuShare * 100).toFixed(0)}%${detail}`,
        );
        figures.push(...passthroughFigures(variant, result));
        const kafkajs = b.againstKafkajs ? ctx.earlier('baseline', `passthrough ${variant}`) : undefined;
        if (kafkajs !== undefined)
          figures.push({
            metric: `${variant}: this client / kafkajs`,
            unit: '×',
            value: result.rate / kafkajs,
          });
      }
      return figures;
    },
    async teardown(_ctx, prepared) {
      await deleteTopics(prepared.kafka, [prepared.input, ...prepared.outputs]);
    },
  });
}

export const benchmark = definePassthroughBenchmark({
  name: 'baseline',
  title: 'Baseline: bare kafkajs consume → produce passthrough (the physical limit)',
  idPrefix: 'b',
  passthrough,
});
