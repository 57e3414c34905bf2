/**
 * `tapline run` as a child process for the end-to-end benchmarks: unique topics, consumer group, worker
 * id and Redis key prefix per measurement, so runs never see each other's state; its resident memory
 * sampled from /proc/<pid>/status; and a clean skip while the worker still answers NOT_IMPLEMENTED.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TopologyTopics } from '../pipeline/topology.ts';
import { WORKER_NODE_FLAGS } from '../pipeline/workerNodeFlags.ts';
import { BenchSkip, type BenchContext } from './harness.ts';

const root = new URL('../', import.meta.url);
let compiledCli: string | undefined;

/**
 * `tapline run` as deployed (Dockerfile): the compiled build, not the sources through Node's type
 * stripping, which keeps its TypeScript stripper loaded in the worker (8-26 MB more RSS,
 * docs/BENCHMARKS.md). Built once per benchmark process (`tsc -p tsconfig.build.json`, a few seconds)
 * from the sources as they are, so a figure never measures a stale dist/.
 */
export function workerCli(): string {
  if (compiledCli) return compiledCli;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const config = fileURLToPath(new URL('tsconfig.build.json', root));
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString().trim() ?? '';
    throw new Error(`could not build tapline for the benchmark (tsc -p tsconfig.build.json): ${out}`, {
      cause: e,
    });
  }
  compiledCli = fileURLToPath(new URL('dist/pipeline/cli.js', root));
  return compiledCli;
}

export function benchTopics(tag: string): TopologyTopics {
  return {
    taps: `bench-${tag}-taps`,
    adjustments: `bench-${tag}-adjustments`,
    decisions: `bench-${tag}-decisions`,
    alerts: `bench-${tag}-alerts`,
    dlq: `bench-${tag}-dlq`,
    tapsEnriched: `bench-${tag}-taps-enriched`,
    adjustmentsEnriched: `bench-${tag}-adjustments-enriched`,
    adjustmentsRetry: `bench-${tag}-adjustments-retry`,
  };
}

/** The environment of one worker: the configuration variables of pipeline/config.ts, nothing else. */
export function workerEnv(ctx: BenchContext, tag: string, topics: TopologyTopics, index: number) {
  return {
    ...process.env,
    TAPLINE_ENV: 'development',
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: ctx.kafkaBrokers.join(','),
    REDIS_URL: ctx.redisUrl,
    REDIS_KEY_PREFIX: `bench:${tag}:`,
    TOPIC_TAPS: topics.taps,
    TOPIC_ADJUSTMENTS: topics.adjustments,
    TOPIC_DECISIONS: topics.decisions,
    TOPIC_ALERTS: topics.alerts,
    TOPIC_DLQ: topics.dlq,
    TOPIC_TAPS_ENRICHED: topics.tapsEnriched,
    TOPIC_ADJUSTMENTS_ENRICHED: topics.adjustmentsEnriched,
    TOPIC_ADJUSTMENTS_RETRY: topics.adjustmentsRetry,
    TAPLINE_WORKER_GROUP: `bench-${tag}-workers`,
    TAPLINE_WORKER_ID: `bench-${tag}-w${index}`,
    // Several workers on one machine: no fixed port to collide on. A pipeline session gives each worker
    // a free metrics port of its own (bench/pipelineSession.ts).
    TAPLINE_METRICS_PORT: '0',
    TAPLINE_QUERY_PORT: '0',
  };
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface WorkerChild {
  pid: number;
  exited: Promise<WorkerExit>;
  /** SIGTERM (the worker drains and commits), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<WorkerExit>;
}

/** Bounded tail of the child's stderr: enough for a reason, never a memory leak of its own. */
function appendTail(tail: string, chunk: string): string {
  const next = tail + chunk;
  return next.length > 8_000 ? next.slice(-8_000) : next;
}

/**
 * Starts `tapline run` with the flags it is deployed with (pipeline/workerNodeFlags.ts), or `script`
 * instead when given (`--set worker-script=FILE`: a stand-in worker with the same environment, used to
 * check the harness itself before the real worker exists).
 */
export function startWorkerProcess(env: NodeJS.ProcessEnv, script?: string): WorkerChild {
  return spawnChild(script === undefined ? [...WORKER_NODE_FLAGS, workerCli(), 'run'] : [script], env);
}

/** Starts `tapline sink` (the compiled build) with `env`: the workers' topics, its own group and store. */
export function startSinkProcess(env: NodeJS.ProcessEnv): WorkerChild {
  return spawnChild([workerCli(), 'sink'], env);
}

function spawnChild(args: string[], env: NodeJS.ProcessEnv): WorkerChild {
  const child: ChildProcess = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${args.join(' ')}`);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = appendTail(stderr, d.toString())));
  const exited = new Promise<WorkerExit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  let finished = false;
  void exited.then(() => (finished = true));
  return {
    pid: child.pid,
    exited,
    async stop(graceMs = 20_000) {
      if (!finished) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!finished) child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** True when the worker refused to run because `tapline run` is still the NOT_IMPLEMENTED stub. */
export function isNotImplemented(exit: WorkerExit): boolean {
  return exit.code === 2 && /not implemented/i.test(exit.stderr);
}

/** Turns an early worker exit into a skip (stub) or an error naming the exit status and stderr tail. */
export function exitToError(exit: WorkerExit, command = 'run'): Error {
  if (isNotImplemented(exit)) {
    return new BenchSkip(`worker not implemented yet: \`tapline ${command}\` exits with NOT_IMPLEMENTED`);
  }
  const tail = exit.stderr.trim().split('\n').slice(-5).join(' / ');
  return new Error(
    `tapline ${command} exited early with ${exit.code ?? exit.signal}: ${tail || '(no stderr)'}`,
  );
}

/**
 * Resolves with `work`, or rejects as soon as any worker exits before it is done (BenchSkip for the
 * stub), so a dead worker never turns into a benchmark waiting for its timeout.
 */
export async function whileWorkersRun<T>(workers: readonly WorkerChild[], work: Promise<T>): Promise<T> {
  const died = workers.map((w) => w.exited.then((exit) => Promise.reject(exitToError(exit))));
  // The losers of the race must not become unhandled rejections once the work is done.
  for (const d of died) d.catch(() => {});
  return Promise.race([work, ...died]);
}

/** VmRSS of a /proc/<pid>/status text, in bytes. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface RssSample {
  /** Seconds since sampling started. */
  t: number;
  bytes: number;
}

/** Samples a process's RSS every `intervalMs` until stopped (or until the process is gone). */
export function sampleRss(pid: number, intervalMs = 1_000): { samples: RssSample[]; stop(): void } {
  const samples: RssSample[] = [];
  const started = performance.now();
  const take = () => {
    try {
      const bytes = parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (bytes !== undefined) samples.push({ t: (performance.now() - started) / 1000, bytes });
    } catch {
      // the process has exited; the samples so far stand
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return { samples, stop: () => clearInterval(timer) };
}

/** Least-squares slope of bytes over time, in MB per minute: the growth of a long run. */
export function rssGrowthMbPerMinute(samples: readonly RssSample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanT = samples.reduce((s, x) => s + x.t, 0) / n;
  const meanB = samples.reduce((s, x) => s + x.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const { t, bytes } of samples) {
    num += (t - meanT) * (bytes - meanB);
    den += (t - meanT) ** 2;
  }
  return den === 0 ? 0 : ((num / den) * 60) / 2 ** 20;
}
