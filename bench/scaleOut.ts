/**
 * Throughput of `tapline run` at saturation with 1 and then 2 workers in one consumer group on a
 * 4-partition topic preloaded with taps (issue 10, items 2 and 7; the ClickHouse sink is not running
 * here). The clock runs from the first decision read to the last, so group join is not counted; with
 * 2 workers the first rebalance is, as it is in production when a worker is added. When the baseline ran
 * in the same invocation, the 1-worker figure is also given as a share of the transactional passthrough
 * (target: at least 50%). Each measurement also gives the CPU microseconds per tap of every process of
 * the pipeline and of the whole machine (bench/cpuAccount.ts), and the throughput the cores would allow
 * at that cost; the 1-worker measurement, where its cycle's time goes (bench/workerMetrics.ts).
 */
import { availableParallelism } from 'node:os';
import type { Kafka } from 'kafkajs';
import { cpuPerUnit, pipelineProcesses, sampleCpu, WATCHER } from './cpuAccount.ts';
import { defineBenchmark, intOption, type BenchContext, type Figure } from './harness.ts';
import { benchKafka, createPreloadedTopic, deleteTopics } from './kafkaTopics.ts';
import { openPipelineSession } from './pipelineSession.ts';
import { cycleFigures, readCycleProfile } from './workerMetrics.ts';

/** A topic preloaded with taps for a benchmark's runs, and what the runs need to know of it. */
export interface Prepared {
  kafka: Kafka;
  input: string;
  ids: string[];
  idPrefix: string;
  runs: number;
}

/** Creates `bench-<name>-<run>-taps` and fills it with `count` taps whose ids start with `idStem`. */
export async function preloadInput(
  ctx: BenchContext,
  name: string,
  count: number,
  idStem: string,
): Promise<Prepared> {
  const kafka = benchKafka(ctx.kafkaBrokers, `bench-${name}`);
  const input = `bench-${name}-${ctx.runId}-taps`;
  const idPrefix = `${idStem}${ctx.runId}`;
  const taps = await createPreloadedTopic(ctx, kafka, name, input, count, idPrefix);
  return { kafka, input, ids: taps.map((t) => t.tap_id), idPrefix, runs: 0 };
}

/** The first and the last time a decision was read (performance.now()). */
export function decisionSpan(seen: ReadonlyMap<string, number>): { first: number; last: number } {
  let first = Infinity;
  let last = 0;
  for (const at of seen.values()) {
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  return { first, last };
}

export const benchmark = defineBenchmark<Prepared>({
  name: 'scale-out',
  title: 'Pipeline throughput at saturation with 1 and 2 workers (4 partitions)',
  setup: (ctx) => preloadInput(ctx, 'scale-out', intOption(ctx, 'scale-taps', 100_000), 'S'),
  async run(ctx, p) {
    const figures: Figure[] = [];
    const rates = new Map<number, number>();
    for (const workers of [1, 2]) {
      // A fresh group per measurement re-reads the same preloaded topic from the beginning.
      const session = await openPipelineSession(
        ctx,
        p.kafka,
        `scale-${ctx.runId}-${p.runs}-${workers}w`,
        workers,
        p.idPrefix,
        p.input,
      );
      const cpu = sampleCpu(
        await pipelineProcesses(
          ctx.redisUrl,
          session.workers.map((w) => w.pid),
        ),
      );
      try {
        await session.guard(session.watch.waitForAll(p.ids, 600_000));
        cpu.stop();
        const { first, last } = decisionSpan(session.watch.seen);
        const rate = (p.ids.length / (last - first)) * 1_000;
        rates.set(workers, rate);
        ctx.log(`scale-out: ${workers} worker(s) ${Math.round(rate)} taps/s`);
        const label = `${workers} worker${workers > 1 ? 's' : ''}`;
        figures.push({ metric: label, unit: 'taps/s', value: rate, better: 'higher' });
        figures.push(...cpuFigures(label, cpuPerUnit(cpu.samples, first, last, p.ids.length)));
        // Where one worker's cycle goes (with two, each one's cycle includes the other's rebalance).
        if (workers === 1)
          figures.push(...cycleFigures(label, await readCycleProfile(session.metricsPorts[0]!)));
      } finally {
        cpu.stop();
        await session.close();
      }
    }
    p.runs++;
    figures.push({ metric: '2 workers / 1 worker', unit: '×', value: rates.get(2)! / rates.get(1)! });
    const baseline = ctx.earlier('baseline', 'passthrough transactional');
    if (baseline !== undefined) {
      figures.push({
        metric: '1 worker / transactional baseline',
        unit: '%',
        value: (rates.get(1)! / baseline) * 100,
        better: 'higher',
        target: '≥ 50',
      });
    }
    return figures;
  },
  async teardown(_ctx, p) {
    await deleteTopics(p.kafka, [p.input]);
  },
});

/**
 * CPU microseconds per tap by process over the measured window, and what the machine's cores could
 * carry at that cost (cores × 1 s / the machine's CPU per tap less the watcher's, which is the
 * benchmark's own consumer, not the pipeline): the ceiling of this box, whatever the pipeline's waits.
 */
export function cpuFigures(label: string, cost: ReturnType<typeof cpuPerUnit>): Figure[] {
  if (!cost) return [];
  const figures: Figure[] = [...cost.perProcess].map(([name, us]) => ({
    metric: `CPU per tap, ${label}: ${name}`,
    unit: 'µs',
    value: us,
    better: 'lower',
  }));
  if (cost.machine !== undefined) {
    figures.push(
      { metric: `CPU per tap, ${label}: machine`, unit: 'µs', value: cost.machine, better: 'lower' },
      {
        metric: `taps/s the cores allow at that cost, ${label}`,
        unit: 'taps/s',
        value: (availableParallelism() * 1e6) / (cost.machine - (cost.perProcess.get(WATCHER) ?? 0)),
      },
    );
  }
  return figures;
}
