/**
 * Produce → decision latency of `tapline run` at steady rates (default 1,000 and 5,000 taps/s; issue 10's
 * target: p99 under 50 ms at 5,000/s). The clock starts just before the tap is handed to the producer
 * and stops when the decision is read from the decisions topic with read_committed, as the PG reads it:
 * producer acknowledgement, worker fetch, detection, the batch's transaction and the reader's fetch all
 * count. A warm-up (probe taps until the first decision) keeps group join and connection set-up out.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { defineBenchmark, intOption, percentile, type Figure } from './harness.ts';
import { produceSteady } from './decisionWatch.ts';
import { benchKafka } from './kafkaTopics.ts';
import { openPipelineSession, type PipelineSession } from './pipelineSession.ts';
import { redisForks } from './redisCounters.ts';
import { loadTapEncoder, syntheticTaps, type LoadedEncoder } from './taps.ts';
import { cycleFigures, profileBetween, readCycleProfile } from './workerMetrics.ts';
import { cpuPerUnit, pipelineProcesses, sampleCpu } from './cpuAccount.ts';
import { cpuFigures } from './scaleOut.ts';
import type { Tap } from '../schemas/types.ts';

interface Prepared {
  kafka: Kafka;
  encoder: LoadedEncoder;
  runs: number;
}

export function rateList(raw: string | undefined): number[] {
  const rates = (raw ?? '1000,5000').split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !Number.isInteger(r) || r <= 0))
    throw new RangeError(`--set rates=${raw}: expected integers`);
  return rates;
}

/** Sends one probe tap every 500 ms until a decision comes back: the worker is then fully up. */
async function warmUp(session: PipelineSession, kafka: Kafka, next: () => Tap, encode: (t: Tap) => Buffer) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const deadline = Date.now() + 120_000;
  try {
    let sent = 0;
    while (session.watch.seen.size === 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `no decision for ${sent} probe taps within 120 s: is the worker sending them to the DLQ (${session.topics.dlq})?`,
        );
      }
      const tap = { ...next(), occurred_at: Date.now() };
      await producer.send({
        topic: session.topics.taps,
        messages: [{ key: tap.account_id, value: encode(tap) }],
      });
      sent++;
      await session.guard(new Promise((r) => setTimeout(r, 500)));
    }
    return sent;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Latencies of the taps sent at or after `from` (the steady window) and of those sent before it (the
 * ramp), in ms; every tap must have its decision.
 */
export function splitAtStart(
  sentAt: ReadonlyMap<string, number>,
  seen: ReadonlyMap<string, number>,
  from: number,
): { steady: number[]; rampLatencies: number[] } {
  const steady: number[] = [];
  const rampLatencies: number[] = [];
  for (const [id, at] of sentAt) {
    const decided = seen.get(id);
    if (decided === undefined) throw new Error(`tap ${id} has no decision`);
    (at >= from ? steady : rampLatencies).push(decided - at);
  }
  return { steady, rampLatencies };
}

/**
 * `--set latency-trace=PREFIX`: one line per tap to PREFIX-<rate>.txt, the wall-clock ms at which it
 * was handed to the producer and its latency in ms, ramp included, to line up with other clocks
 * (Redis's log, the broker's, /proc samples).
 */
function writeTrace(
  file: string,
  sentAt: ReadonlyMap<string, number>,
  seen: ReadonlyMap<string, number>,
): void {
  const rows: string[] = [];
  for (const [id, at] of sentAt)
    rows.push(`${(performance.timeOrigin + at).toFixed(1)} ${(seen.get(id)! - at).toFixed(1)}\n`);
  writeFileSync(file, rows.join(''));
}

function latencyBenchmark(name: string, title: string, script?: string) {
  return defineBenchmark<Prepared>({
    name,
    title,
    async setup(ctx) {
      const encoder = await loadTapEncoder();
      ctx.log(`latency: taps encoded with ${encoder.source}`);
      return { kafka: benchKafka(ctx.kafkaBrokers, 'bench-latency'), encoder, runs: 0 };
    },
    async run(ctx, p) {
      const rates = rateList(ctx.options.get('rates'));
      const seconds = intOption(ctx, 'latency-seconds', 20);
      const ramp = intOption(ctx, 'latency-ramp-seconds', 3);
      const tag = `lat-${ctx.runId}-${p.runs++}`;
      const idPrefix = `L${ctx.runId}r${p.runs}`;
      const taps = syntheticTaps({
        accounts: intOption(ctx, 'latency-accounts', 20_000),
        idPrefix,
        meanGapMs: 1,
      });
      const next = () => taps.next().value as Tap;
      const session = await openPipelineSession(ctx, p.kafka, tag, 1, idPrefix, undefined, script);
      const figures: Figure[] = [];
      const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        const probes = await session.guard(warmUp(session, p.kafka, next, p.encoder.encode));
        ctx.log(`latency: worker answered after ${probes} probe taps`);
        for (const rate of rates) {
          // The first seconds at a rate are the ramp: the worker's fetches grow to the new rate and
          // V8 optimises the code the probes did not reach. They get figures of their own; the steady
          // figures (and CPU, cycles, forks) cover the taps sent after it.
          const sending = session.guard(
            produceSteady(p.kafka, session.topics.taps, rate, ramp + seconds, next, p.encoder.encode),
          );
          // Awaited below; until then a failure must not surface as an unhandled rejection.
          sending.catch(() => undefined);
          await session.guard(new Promise((r) => setTimeout(r, ramp * 1000)));
          const cyclesBefore = await readCycleProfile(session.metricsPorts[0]!);
          const forksBefore = await redisForks(redis);
          const cpu = sampleCpu(
            await pipelineProcesses(
              ctx.redisUrl,
              session.workers.map((w) => w.pid),
            ),
          );
          const started = performance.now();
          let sent: Awaited<ReturnType<typeof produceSteady>>;
          let ended: number;
          try {
            sent = await sending;
            await session.guard(session.watch.waitForAll([...sent.sentAt.keys()], 60_000));
            ended = performance.now();
          } finally {
            cpu.stop();
          }
          const { steady: latencies, rampLatencies } = splitAtStart(sent.sentAt, session.watch.seen, started);
          const trace = ctx.options.get('latency-trace');
          if (trace) writeTrace(`${trace}-${rate}.txt`, sent.sentAt, session.watch.seen);
          const cost = cpuPerUnit(cpu.samples, started, ended, latencies.length);
          const target = rate === 5_000 ? '< 50' : undefined;
          figures.push(
            { metric: `p50 at ${rate}/s`, unit: 'ms', value: percentile(latencies, 50), better: 'lower' },
            {
              metric: `p99 at ${rate}/s`,
              unit: 'ms',
              value: percentile(latencies, 99),
              better: 'lower',
              ...(target ? { target } : {}),
            },
            {
              metric: `max at ${rate}/s`,
              unit: 'ms',
              value: latencies.reduce((a, b) => Math.max(a, b), 0),
              better: 'lower',
            },
          );
          if (rampLatencies.length > 0)
            figures.push(
              {
                metric: `p99 in the ${ramp} s ramp to ${rate}/s`,
                unit: 'ms',
                value: percentile(rampLatencies, 99),
                better: 'lower',
              },
              {
                metric: `max in the ${ramp} s ramp to ${rate}/s`,
                unit: 'ms',
                value: rampLatencies.reduce((a, b) => Math.max(a, b), 0),
                better: 'lower',
              },
            );
          // An AOF rewrite inside the window takes a core from the pipeline for ~1 s on this machine.
          figures.push({
            metric: `Redis forks (AOF rewrites) at ${rate}/s`,
            unit: 'forks',
            value: (await redisForks(redis)) - forksBefore,
            better: 'lower',
          });
          // CPU per tap by process at this rate: what each costs when it is not saturated (the
          // benchmark process both produces and watches here). What the cores would allow at that
          // cost is a saturation figure, left to `scale-out`.
          figures.push(
            ...cpuFigures(`${rate}/s`, cost).filter((f) => !f.metric.startsWith('taps/s the cores')),
          );
          // Where the worker's cycles went at this rate (none for the echo stand-in).
          const cycles = profileBetween(cyclesBefore, await readCycleProfile(session.metricsPorts[0]!));
          figures.push(...cycleFigures(`${rate}/s`, cycles));
          ctx.log(
            `latency ${rate}/s: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
          );
        }
        const peak = Math.max(...session.rss.map((s) => s.bytes));
        figures.push({
          metric: 'worker peak RSS',
          unit: 'MB',
          value: peak / 2 ** 20,
          better: 'lower',
          target: '< 300',
        });
        return figures;
      } finally {
        redis.disconnect();
        await session.close();
      }
    },
  });
}

const echoWorker = fileURLToPath(new URL('./echoWorker.ts', import.meta.url));

export const benchmarks = [
  latencyBenchmark('latency', 'Latency: produce → decision at steady rates, through `tapline run`'),
  // Same measurement through bench/echoWorker.ts: Kafka, codec and one transaction per batch, no
  // detection. What is left of the 50 ms budget for detection is the difference between the two.
  latencyBenchmark(
    'latency-floor',
    'Latency floor: the same through a no-op transactional worker (Kafka + codec only)',
    echoWorker,
  ),
];
