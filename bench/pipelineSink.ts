/**
 * Issue 10 item 2 as it is written: `tapline run` at saturation with `tapline sink` writing ClickHouse
 * at the same time. One worker decides a 4-partition topic preloaded with taps while one sink (embedded
 * chDB, a data directory of its own) stores what the worker publishes: enriched taps, decisions and
 * alerts. Figures: taps/s decided (first decision read to last, as in `scale-out`), its share of the
 * transactional passthrough when `baseline` ran in the same invocation, taps/s stored (first decision
 * to the sink's group committing the end of the three topics it stores here: every row inserted), and
 * the CPU per tap of every process, the sink's included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { cpuPerUnit, pipelineProcesses, sampleCpu } from './cpuAccount.ts';
import { defineBenchmark, intOption, type Figure } from './harness.ts';
import { deleteTopics } from './kafkaTopics.ts';
import { openPipelineSession } from './pipelineSession.ts';
import { cpuFigures, decisionSpan, preloadInput, type Prepared } from './scaleOut.ts';
import { exitToError, startSinkProcess, workerEnv, type WorkerChild } from './workerProcess.ts';

export const benchmark = defineBenchmark<Prepared>({
  name: 'pipeline-sink',
  title: 'Pipeline throughput at saturation with the ClickHouse sink running (1 worker, 1 sink)',
  setup: (ctx) => preloadInput(ctx, 'pipeline-sink', intOption(ctx, 'sink-taps', 60_000), 'P'),
  async run(ctx, p) {
    const tag = `psink-${ctx.runId}-${p.runs++}`;
    const session = await openPipelineSession(ctx, p.kafka, tag, 1, p.idPrefix, p.input);
    const chdb = mkdtempSync(join(tmpdir(), 'tapline-bench-chdb-'));
    let sink: WorkerChild | undefined;
    const admin = p.kafka.admin();
    try {
      const sinkGroup = `bench-${tag}-sink`;
      sink = startSinkProcess({
        ...workerEnv(ctx, tag, session.topics, 0),
        TAPLINE_SINK_GROUP: sinkGroup,
        CHDB_PATH: join(chdb, 'data'),
      });
      const processes = await pipelineProcesses(
        ctx.redisUrl,
        session.workers.map((w) => w.pid),
      );
      processes.set('sink (chDB)', [sink.pid]);
      const cpu = sampleCpu(processes);
      const sinkDied = sink.exited.then((exit) => Promise.reject(exitToError(exit, 'sink')));
      sinkDied.catch(() => {});
      await admin.connect();
      const { topics } = session;
      const stored = Promise.race([
        session
          .guard(session.watch.waitForAll(p.ids, 600_000))
          .then(() =>
            caughtUp(admin, sinkGroup, [topics.tapsEnriched, topics.decisions, topics.alerts], 600_000),
          ),
        sinkDied,
      ]);
      const storedAt = await stored;
      cpu.stop();
      const { first, last } = decisionSpan(session.watch.seen);
      const decided = (p.ids.length / (last - first)) * 1_000;
      const storedRate = (p.ids.length / (storedAt - first)) * 1_000;
      ctx.log(
        `pipeline-sink: ${Math.round(decided)} taps/s decided, ${Math.round(storedRate)} taps/s stored`,
      );
      const figures: Figure[] = [
        { metric: 'taps decided, sink running', unit: 'taps/s', value: decided, better: 'higher' },
        { metric: 'taps stored in ClickHouse', unit: 'taps/s', value: storedRate, better: 'higher' },
      ];
      const baseline = ctx.earlier('baseline', 'passthrough transactional');
      if (baseline !== undefined)
        figures.push({
          metric: 'decided / transactional baseline',
          unit: '%',
          value: (decided / baseline) * 100,
          better: 'higher',
          target: '≥ 50',
        });
      figures.push(...cpuFigures('sink running', cpuPerUnit(cpu.samples, first, storedAt, p.ids.length)));
      return figures;
    } finally {
      await admin.disconnect();
      const exit = await sink?.stop();
      if (exit && exit.code !== 0 && exit.code !== null)
        ctx.log(`${tag}: sink exited with ${exit.code} on SIGTERM`);
      await session.close();
      rmSync(chdb, { recursive: true, force: true });
    }
  },
  async teardown(_ctx, p) {
    await deleteTopics(p.kafka, [p.input]);
  },
});

/**
 * True while `committed` (a group's offsets, kafkajs's fetchOffsets shape) is short of `ends`
 * (`topic/partition` → high watermark) anywhere. The topics are written in transactions, so a
 * partition's last offset is a commit marker, which a consumer may never commit past: one behind the
 * end is the end. A partition never committed (-1) is done only if it holds nothing.
 */
export function behind(
  ends: ReadonlyMap<string, string>,
  committed: ReadonlyArray<{
    topic: string;
    partitions: ReadonlyArray<{ partition: number; offset: string }>;
  }>,
): boolean {
  return committed.some(({ topic, partitions }) =>
    partitions.some(
      ({ partition, offset }) => BigInt(offset) < BigInt(ends.get(`${topic}/${partition}`) ?? '0') - 1n,
    ),
  );
}

/**
 * Resolves with the time (performance.now()) at which `group` has committed the end of every
 * partition of `topics`: the sink commits a batch only once its rows are inserted. Polled every 100 ms.
 */
async function caughtUp(admin: Admin, group: string, topics: string[], timeoutMs: number): Promise<number> {
  const ends = new Map<string, string>();
  for (const topic of topics)
    for (const { partition, high } of await admin.fetchTopicOffsets(topic))
      ends.set(`${topic}/${partition}`, high);
  const deadline = performance.now() + timeoutMs;
  while (behind(ends, await admin.fetchOffsets({ groupId: group, topics }))) {
    if (performance.now() > deadline)
      throw new Error(
        `the sink (${group}) had not stored everything ${timeoutMs / 1000} s after the last decision`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  return performance.now();
}
