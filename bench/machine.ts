/**
 * What a figure was measured on: cores, CPU model, memory, load at the start, and the versions of Node,
 * the broker, Redis, ClickHouse and the client libraries. Every probe is best-effort: a service that does
 * not answer is recorded as such instead of failing the benchmark run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { Redis } from 'ioredis';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverage: number[];
  versions: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/**
 * The broker's release, read from the jar on the command line of the local `kafka.Kafka` process: the
 * protocol does not report it, and the services may have been started by another checkout.
 */
export function kafkaVersionFromCmdline(cmdline: string): string | undefined {
  if (!cmdline.includes('kafka.Kafka')) return undefined;
  // Either a jar named with its release, or the services script's cache directory .cache/kafka/<version>/.
  return (
    /kafka_2\.1[23]-(\d+\.\d+\.\d+)\.jar/.exec(cmdline)?.[1] ??
    /kafka\/(\d+\.\d+\.\d+)\/libs/.exec(cmdline)?.[1]
  );
}

/** The local broker (a `kafka.Kafka` java process): its pid and command line, if there is one. */
export function localKafkaProcess(): { pid: number; cmdline: string } | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue; // gone, or not ours to read
      }
      if (cmdline.includes('kafka.Kafka')) return { pid: Number(entry), cmdline };
    }
  } catch {
    // not Linux, or /proc unreadable
  }
  return undefined;
}

function localKafkaVersion(): string {
  const broker = localKafkaProcess();
  return (broker && kafkaVersionFromCmdline(broker.cmdline)) ?? 'unknown (no local kafka.Kafka process)';
}

async function redisVersion(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (e) {
    return `unreachable (${(e as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

async function clickhouseVersion(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/?query=SELECT%20version()`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? (await res.text()).trim() : `HTTP ${res.status}`;
  } catch {
    return 'not running';
  }
}

export async function describeMachine(redisUrl: string, clickhouseUrl: string): Promise<MachineInfo> {
  const cpuList = cpus();
  return {
    cpus: availableParallelism(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: totalmem() / 2 ** 30,
    os: `${platform()} ${release()}`,
    loadAverage: loadavg(),
    versions: {
      node: process.version,
      kafka: localKafkaVersion(),
      redis: await redisVersion(redisUrl),
      clickhouse: await clickhouseVersion(clickhouseUrl),
      kafkajs: packageVersion('kafkajs'),
      ioredis: packageVersion('ioredis'),
      avsc: packageVersion('avsc'),
    },
  };
}
