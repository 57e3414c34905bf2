/**
 * Sends simulated traffic to Kafka as real producers would: Avro in the Confluent wire format
 * (schemas/codec.ts), taps keyed by account_id (so one account's taps stay in order on one
 * partition) and adjustments keyed by tap_id, at a target rate of taps per second, with a live
 * progress line on a TTY. Labels still go to the side file when --labels is given.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Kafka, Message } from 'kafkajs';
import { SingleBar, Presets } from 'cli-progress';
import type { CliContext } from '../pipeline/cliContext.ts';
import type { SimulateCommandOptions } from '../pipeline/commands/simulate.ts';
import { createKafka, ensureTopics, kafkaUnavailable } from '../pipeline/kafka.ts';
import { tapPartitioner } from '../pipeline/partitioner.ts';
import { createCodec, type EventCodec } from '../schemas/codec.ts';
import { simulateTraffic, type SimulationOptions } from './traffic.ts';
import type { TrafficCounts } from './fileOutput.ts';

export interface ProduceOptions {
  simulation: SimulationOptions;
  /** Target taps per second; adjustments ride along without counting. */
  rate: number;
  topics: { taps: string; adjustments: string };
  labelsPath?: string;
  /** Records more than a day ahead of this clock are left out: consumers refuse future events. */
  now?: () => number;
  signal?: AbortSignal;
  onProgress?: (counts: TrafficCounts & { skippedFuture: number }) => void;
  codec?: EventCodec;
}

const BATCH = 500;
const DAY = 86_400_000;

/** Produces the simulation to Kafka; resolves with what was sent once every batch is acknowledged. */
export async function produceTraffic(
  kafka: Kafka,
  options: ProduceOptions,
): Promise<TrafficCounts & { skippedFuture: number }> {
  const codec = options.codec ?? createCodec();
  const now = options.now ?? Date.now;
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Same partitions as the worker's producer and Kafka's Java client, without kafkajs's per-record
    // allocations (pipeline/partitioner.ts).
    createPartitioner: tapPartitioner,
  });
  await producer.connect();
  const labels = options.labelsPath ? createWriteStream(options.labelsPath, { encoding: 'utf8' }) : null;
  const counts = { taps: 0, adjustments: 0, fraudTaps: 0, skippedFuture: 0 };
  const began = performance.now();
  let taps: Message[] = [];
  let adjustments: Message[] = [];
  let labelChunk = '';

  const flush = async () => {
    const topicMessages = [];
    if (taps.length > 0) topicMessages.push({ topic: options.topics.taps, messages: taps });
    if (adjustments.length > 0)
      topicMessages.push({ topic: options.topics.adjustments, messages: adjustments });
    taps = [];
    adjustments = [];
    if (topicMessages.length > 0) await producer.sendBatch({ topicMessages, acks: -1 });
    if (labels && labelChunk) {
      if (!labels.write(labelChunk)) await once(labels, 'drain');
      labelChunk = '';
    }
    options.onProgress?.(counts);
    // Hold the target rate: wait until the clock catches up with the taps already sent.
    const due = (counts.taps / options.rate) * 1000 - (performance.now() - began);
    if (due > 1) await new Promise((resolve) => setTimeout(resolve, due));
  };

  try {
    const horizon = now() + DAY;
    for await (const { record, label } of simulateTraffic(options.simulation)) {
      if (options.signal?.aborted) break;
      if (record.occurred_at > horizon) {
        counts.skippedFuture++;
        continue;
      }
      if (record.type === 'tap') {
        const { type: _t, ...tap } = record;
        // The Kafka timestamp is when the PG publishes (the producer's clock), as in production; event
        // time travels in the record. Event-time timestamps months old would fall to the topic's
        // time retention before a worker reads them, and would make produce→decision latency meaningless.
        taps.push({ key: tap.account_id, value: codec.encode('tap', tap) });
        counts.taps++;
      } else {
        const { type: _t, ...adjustment } = record;
        adjustments.push({ key: adjustment.tap_id, value: codec.encode('adjustment', adjustment) });
        counts.adjustments++;
      }
      if (label) {
        counts.fraudTaps++;
        labelChunk += JSON.stringify(label) + '\n';
      }
      // Small batches at low rates keep the stream smooth; large ones at high rates keep it fast.
      if (taps.length + adjustments.length >= Math.min(BATCH, Math.max(1, Math.ceil(options.rate / 20))))
        await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
    if (labels) {
      labels.end();
      await once(labels, 'finish');
    }
  }
  return counts;
}

/** `tapline simulate` without --output. */
export async function sendTrafficToKafka(options: SimulateCommandOptions, ctx: CliContext): Promise<number> {
  const config = ctx.config();
  const logger = ctx.logger().child({ component: 'simulate' });
  const kafka = createKafka(config, logger, 'simulate');
  const topics = { taps: config.kafka.topics.taps, adjustments: config.kafka.topics.adjustments };
  try {
    await ensureTopics(kafka, [topics.taps, topics.adjustments]);
  } catch (e) {
    throw kafkaUnavailable(config, e);
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY === true;
  const bar = tty
    ? new SingleBar(
        {
          format: 'simulate |{bar}| {value}/{total} taps | {adjustments} adjustments | {rate} taps/s',
          stream: ctx.stderr as NodeJS.WriteStream,
        },
        Presets.shades_classic,
      )
    : null;
  const began = performance.now();
  bar?.start(options.simulation.count, 0, { adjustments: 0, rate: 0 });
  try {
    const counts = await produceTraffic(kafka, {
      simulation: options.simulation,
      rate: options.rate,
      topics,
      ...(options.labels === undefined ? {} : { labelsPath: options.labels }),
      signal: abort.signal,
      onProgress: (c) =>
        bar?.update(c.taps, {
          adjustments: c.adjustments,
          rate: Math.round(c.taps / ((performance.now() - began) / 1000)),
        }),
    });
    bar?.stop();
    ctx.stderr.write(
      `tapline simulate: sent ${counts.taps} taps (${counts.fraudTaps} in fraud scenarios) to ${topics.taps} and ` +
        `${counts.adjustments} adjustments to ${topics.adjustments}` +
        (counts.skippedFuture > 0
          ? `; left out ${counts.skippedFuture} records dated more than a day ahead`
          : '') +
        (abort.signal.aborted ? ' (interrupted)' : '') +
        '.\n',
    );
    return 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof Error && /connect|broker|ECONNREFUSED/i.test(e.message))
      throw kafkaUnavailable(config, e);
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
