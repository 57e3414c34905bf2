/**
 * One end-to-end measurement's resources: fresh topics (4 partitions), N `tapline run` workers on them,
 * a decisions watcher, RSS sampling of the first worker, and the cleanup of all of it (workers stopped
 * with SIGTERM, topics and Redis keys deleted) whatever happens.
 */
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import type { TopologyTopics } from '../pipeline/topology.ts';
import { watchDecisions, type DecisionWatch } from './decisionWatch.ts';
import type { BenchContext } from './harness.ts';
import { createTopics, deleteTopics } from './kafkaTopics.ts';
import { deleteByPrefix } from './redisKeys.ts';
import { freePort } from '../test/support/freePort.ts';
import {
  benchTopics,
  isNotImplemented,
  sampleRss,
  startWorkerProcess,
  whileWorkersRun,
  workerEnv,
  type RssSample,
  type WorkerChild,
} from './workerProcess.ts';

export interface PipelineSession {
  tag: string;
  topics: TopologyTopics;
  workers: WorkerChild[];
  /** Each worker's /metrics port (bench/workerMetrics.ts reads its cycle profile). */
  metricsPorts: number[];
  watch: DecisionWatch;
  rss: RssSample[];
  /** Awaits `work` unless a worker dies first (BenchSkip while `tapline run` is a stub). */
  guard<T>(work: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Sets up the topics and starts `workers` workers. `inputTopic`, when given, replaces the taps topic
 * (a preloaded topic shared by several measurements); otherwise a fresh one is created.
 */
export async function openPipelineSession(
  ctx: BenchContext,
  kafka: Kafka,
  tag: string,
  workers: number,
  tapIdPrefix: string,
  inputTopic?: string,
  /** A stand-in worker script instead of `tapline run` (else `--set worker-script=FILE`, if given). */
  workerScript?: string,
): Promise<PipelineSession> {
  const fresh = benchTopics(tag);
  const topics = { ...fresh, taps: inputTopic ?? fresh.taps };
  const created = Object.values(topics).filter((t) => t !== inputTopic);
  await createTopics(kafka, created);
  const children: WorkerChild[] = [];
  const metricsPorts: number[] = [];
  let sampler: ReturnType<typeof sampleRss> | undefined;
  let watch: DecisionWatch | undefined;
  const close = async () => {
    sampler?.stop();
    const exits = await Promise.all(children.map((w) => w.stop()));
    for (const exit of exits) {
      if (exit.code !== 0 && exit.code !== null && !isNotImplemented(exit))
        ctx.log(`${tag}: worker exited with ${exit.code} on SIGTERM`);
    }
    await watch?.stop().catch(() => {});
    await deleteTopics(kafka, created);
    const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await deleteByPrefix(redis, `bench:${tag}:`);
    } finally {
      redis.disconnect();
    }
  };
  try {
    const script = workerScript ?? ctx.options.get('worker-script');
    for (let i = 0; i < workers; i++) {
      const port = await freePort();
      metricsPorts.push(port);
      const env = { ...workerEnv(ctx, tag, topics, i), TAPLINE_METRICS_PORT: String(port) };
      children.push(startWorkerProcess(env, script));
    }
    sampler = sampleRss(children[0]!.pid);
    watch = await whileWorkersRun(
      children,
      watchDecisions(kafka, topics.decisions, `bench-${tag}-watch`, tapIdPrefix),
    );
  } catch (e) {
    await close();
    throw e;
  }
  return {
    tag,
    topics,
    workers: children,
    metricsPorts,
    watch,
    rss: sampler.samples,
    guard: (work) => whileWorkersRun(children, work),
    close,
  };
}
