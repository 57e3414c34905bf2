/**
 * Where the machine's CPU goes during a measurement: CPU seconds of each process of the pipeline
 * (workers, Redis, the Kafka broker, this benchmark process) and of the whole machine, from /proc,
 * sampled on a timer so a window chosen afterwards (first to last decision) can be cut out of it.
 * Divided by the taps of the window, it gives CPU microseconds per tap per process: the cost model
 * that says what throughput the cores can carry, and which process to make cheaper.
 *
 * Linux only; elsewhere (or for a process that is gone) the figures are absent, not wrong.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { localKafkaProcess } from './machine.ts';

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU seconds of a process from its /proc/<pid>/stat text: user and system time of all its threads
 * (`self`), and of the children it has waited for (`children`: Redis's AOF rewrites are forked).
 */
export function parseProcStatSeconds(
  stat: string,
  ticks: number,
): { self: number; children: number } | undefined {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i] ?? NaN));
  if ([utime, stime, cutime, cstime].some((v) => Number.isNaN(v))) return undefined;
  return { self: (utime! + stime!) / ticks, children: (cutime! + cstime!) / ticks };
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat's first line: all but idle and iowait. */
export function parseMachineBusySeconds(stat: string, ticks: number): number | undefined {
  const line = stat.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 8 || v.some(Number.isNaN)) return undefined;
  // user nice system idle iowait irq softirq steal: idle (3) and iowait (4) are not busy.
  const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
  return busy / ticks;
}

function processSeconds(pid: number): { self: number; children: number } | undefined {
  try {
    return parseProcStatSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
  } catch {
    return undefined;
  }
}

function machineSeconds(): number | undefined {
  try {
    return parseMachineBusySeconds(readFileSync('/proc/stat', 'utf8'), clockTicks());
  } catch {
    return undefined;
  }
}

/** The pid of the Redis at `url` when it runs on this machine (its INFO pid is a local redis-server). */
export async function localRedisPid(url: string): Promise<number | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await redis.connect();
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (!pid) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server') ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** This process's name in the accounts: it reads the decisions, it is not part of the pipeline. */
export const WATCHER = 'benchmark (watcher)';

/** The processes a pipeline measurement accounts for, by name: workers, Redis, broker, this process. */
export async function pipelineProcesses(
  redisUrl: string,
  workerPids: readonly number[],
): Promise<Map<string, number[]>> {
  const processes = new Map<string, number[]>([['workers', [...workerPids]]]);
  const redis = await localRedisPid(redisUrl);
  if (redis !== undefined) processes.set('Redis', [redis]);
  const kafka = localKafkaProcess();
  if (kafka !== undefined) processes.set('Kafka broker', [kafka.pid]);
  processes.set(WATCHER, [process.pid]);
  return processes;
}

export interface CpuSample {
  /** performance.now() of the sample. */
  at: number;
  /** CPU seconds so far by process name; absent where unreadable. */
  seconds: Map<string, number>;
  /** Busy CPU seconds of the machine so far (all cores). */
  machine: number | undefined;
}

export interface CpuSampler {
  samples: CpuSample[];
  /** Takes one more sample now (call at the end of the window) and stops the timer; later calls do nothing. */
  stop(): void;
}

/**
 * Samples the CPU seconds of `processes` (name → pids, summed per name) and of the machine every
 * `intervalMs` until stopped.
 */
export function sampleCpu(processes: ReadonlyMap<string, readonly number[]>, intervalMs = 250): CpuSampler {
  const samples: CpuSample[] = [];
  const take = () => {
    const seconds = new Map<string, number>();
    for (const [name, pids] of processes) {
      let self = 0;
      let children = 0;
      let known = pids.length > 0;
      for (const pid of pids) {
        const s = processSeconds(pid);
        if (s === undefined) known = false;
        else {
          self += s.self;
          children += s.children;
        }
      }
      if (!known) continue;
      seconds.set(name, self);
      seconds.set(`${name}, forked children`, children);
    }
    samples.push({ at: performance.now(), seconds, machine: machineSeconds() });
  };
  take();
  const timer = setInterval(take, intervalMs);
  let stopped = false;
  return {
    samples,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      take();
    },
  };
}

/**
 * CPU microseconds per unit of work (`units` done between `from` and `to`, performance.now() times)
 * for each process and the machine: the deltas between the last sample at or before `from` and the
 * first at or after `to`. The window is widened to those samples, so with a 250 ms timer a window of a
 * few seconds is counted to within a few percent. Undefined where a figure was not readable.
 */
export function cpuPerUnit(
  samples: readonly CpuSample[],
  from: number,
  to: number,
  units: number,
): { perProcess: Map<string, number>; machine: number | undefined } | undefined {
  const before = samples.filter((s) => s.at <= from).at(-1);
  const after = samples.find((s) => s.at >= to);
  if (!before || !after || units <= 0) return undefined;
  const perProcess = new Map<string, number>();
  for (const [name, end] of after.seconds) {
    const start = before.seconds.get(name);
    // A process's forked children appear only when they used CPU in the window (Redis's AOF rewrites).
    if (start !== undefined && (end > start || !name.endsWith('forked children')))
      perProcess.set(name, ((end - start) / units) * 1e6);
  }
  const machine =
    before.machine !== undefined && after.machine !== undefined
      ? ((after.machine - before.machine) / units) * 1e6
      : undefined;
  return { perProcess, machine };
}
