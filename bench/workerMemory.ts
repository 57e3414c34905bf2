/**
 * Resident memory of one `tapline run` worker under steady load (default 5,000 taps/s for 60 s; issue 10
 * asks for a 10-minute run: `--set memory-seconds=600`), sampled every second from /proc/<pid>/status.
 * Targets: under 300 MB, and flat: the growth is the least-squares slope after the first fifth of the
 * run, so start-up allocation and JIT warm-up do not count as a leak.
 */
import type { Kafka } from 'kafkajs';
import type { Tap } from '../schemas/types.ts';
import { produceSteady } from './decisionWatch.ts';
import { defineBenchmark, intOption } from './harness.ts';
import { benchKafka } from './kafkaTopics.ts';
import { openPipelineSession } from './pipelineSession.ts';
import { loadTapEncoder, syntheticTaps, type LoadedEncoder } from './taps.ts';
import { rssGrowthMbPerMinute } from './workerProcess.ts';

interface Prepared {
  kafka: Kafka;
  encoder: LoadedEncoder;
  runs: number;
}

const MB = 2 ** 20;

export const benchmark = defineBenchmark<Prepared>({
  name: 'worker-memory',
  title: 'Worker memory: RSS of `tapline run` under steady load, and its growth',
  async setup(ctx) {
    return { kafka: benchKafka(ctx.kafkaBrokers, 'bench-memory'), encoder: await loadTapEncoder(), runs: 0 };
  },
  async run(ctx, p) {
    const rate = intOption(ctx, 'memory-rate', 5_000);
    const seconds = intOption(ctx, 'memory-seconds', 60);
    const idPrefix = `M${ctx.runId}r${p.runs}`;
    const session = await openPipelineSession(ctx, p.kafka, `mem-${ctx.runId}-${p.runs++}`, 1, idPrefix);
    const taps = syntheticTaps({ accounts: 50_000, idPrefix, meanGapMs: 1 });
    try {
      const sent = await session.guard(
        produceSteady(
          p.kafka,
          session.topics.taps,
          rate,
          seconds,
          () => taps.next().value as Tap,
          p.encoder.encode,
        ),
      );
      await session.guard(session.watch.waitForAll([...sent.sentAt.keys()], 120_000));
      const samples = [...session.rss];
      const steady = samples.slice(Math.floor(samples.length / 5));
      const peak = samples.reduce((m, s) => Math.max(m, s.bytes), 0);
      ctx.log(`worker-memory: ${samples.length} samples, peak ${(peak / MB).toFixed(0)} MB`);
      return [
        { metric: 'RSS after warm-up', unit: 'MB', value: (steady[0]?.bytes ?? 0) / MB, better: 'lower' },
        { metric: 'peak RSS', unit: 'MB', value: peak / MB, better: 'lower', target: '< 300' },
        { metric: 'RSS at end', unit: 'MB', value: (samples.at(-1)?.bytes ?? 0) / MB, better: 'lower' },
        { metric: 'RSS growth', unit: 'MB/min', value: rssGrowthMbPerMinute(steady), target: '≈ 0' },
      ];
    } finally {
      await session.close();
    }
  },
});
