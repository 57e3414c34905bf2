/**
 * A real `tapline run` child for the group-membership fault tests: its own metrics port, its JSON log
 * kept in memory (read by the tests to prove which recovery path ran), its counters read from /metrics.
 * The caller kills leftovers with `kill()` in its teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/freePort.ts';
import { metricSum } from './harness.ts';
import { cliArgs } from '../support/pipelineEnv.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface WorkerChild {
  child: ChildProcess;
  metricsPort: number;
  /** stderr so far (pino JSON lines). */
  log(): string;
  /** The JSON lines of the log. */
  lines(): LogLine[];
  /** The log's last 6,000 characters, for assertion messages. */
  tail(): string;
  /** Sum of a metric's samples whose labels contain `match`; null when /metrics does not answer. */
  metric(name: string, match?: string): Promise<number | null>;
  /** Taps decided so far (allow + review + block), per /metrics. */
  decided(): Promise<number>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running (teardown). */
  kill(): void;
  running(): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `tapline run` with `env` (log level `info`, or WORKER_LOG_LEVEL from the test's environment:
 * `debug` logs every batch fetched and every commit's offsets) and, unless `waitReady` is false (a worker that joins a group whose
 * partitions cannot be decided yet is never ready), waits until /readyz answers 200.
 */
export async function startWorkerChild(
  env: Record<string, string>,
  { waitReady = true }: { waitReady?: boolean } = {},
): Promise<WorkerChild> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, cliArgs('run'), {
    env: {
      ...process.env,
      ...env,
      TAPLINE_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: process.env['WORKER_LOG_LEVEL'] ?? 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const running = () => child.exitCode === null && child.signalCode === null;

  async function metric(name: string, match = ''): Promise<number | null> {
    let text: string;
    try {
      text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    } catch {
      return null;
    }
    return metricSum(text, name, match);
  }

  const worker: WorkerChild = {
    child,
    metricsPort,
    log: () => stderr,
    lines: () =>
      stderr.split('\n').flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      }),
    tail: () => `worker log (tail):\n${stderr.slice(-6000)}`,
    metric,
    async decided() {
      let sum = 0;
      for (const outcome of ['allow', 'review', 'block'])
        sum += (await metric('tapline_records_out_total', `outcome="${outcome}"`)) ?? 0;
      return sum;
    },
    async stop() {
      if (!running()) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      return exited;
    },
    kill() {
      if (running()) child.kill('SIGKILL'); // a frozen (SIGSTOP) worker dies too
    },
    running,
  };
  if (!waitReady) return worker;
  const since = Date.now();
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return worker;
    if (!running()) throw new Error(`worker exited at start-up; ${worker.tail()}`);
    if (Date.now() - since > 60_000) throw new Error(`worker not ready after 60 s; ${worker.tail()}`);
    await sleep(200);
  }
}

/** Waits until `check` holds, polling every 200 ms; throws `what` (and the worker's log) on timeout. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  worker?: WorkerChild,
): Promise<void> {
  const since = Date.now();
  while (!(await check())) {
    if (Date.now() - since > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms${worker ? `; ${worker.tail()}` : ''}`);
    await sleep(200);
  }
}
