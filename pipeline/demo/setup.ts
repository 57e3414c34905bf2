/**
 * What a demo run needs before traffic flows: the local services (started through
 * scripts/services.sh unless --no-services) and a configuration whose topics, consumer groups, Redis
 * prefix and ClickHouse database are unique to the run, so reruns never mix their state.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { TaplineError } from '../errors.ts';

/** `demo_20261123_120501_ab12`: usable as a topic prefix, a group id and a ClickHouse identifier. */
export function demoRunId(now: Date = new Date(), random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const suffix = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `demo_${stamp}_${suffix}`;
}

/** The configuration of one demo run: everything it writes is named after the run. */
export function demoConfig(config: Config, runId: string): Config {
  const topic = (name: string) => `${runId.replace(/_/g, '-')}-${name}`;
  return {
    ...config,
    kafka: {
      ...config.kafka,
      topics: {
        taps: topic('taps'),
        adjustments: topic('adjustments'),
        decisions: topic('decisions'),
        alerts: topic('fraud-alerts'),
        dlq: topic('taps-dlq'),
        tapsEnriched: topic('taps-enriched'),
        adjustmentsEnriched: topic('adjustments-enriched'),
        adjustmentsRetry: topic('adjustments-retry'),
      },
      workerGroup: `${runId}-workers`,
      sinkGroup: `${runId}-sink`,
    },
    redis: { ...config.redis, keyPrefix: `${config.redis.keyPrefix}${runId}:` },
    // One database per run inside the configured store: the tables deduplicate by event id, so a
    // rerun with the same seed would otherwise find its taps already there and settle them twice over.
    clickhouse: { ...config.clickhouse, database: runId },
    // The demo's worker is in-process and short-lived: no metrics port to collide with a real worker.
    worker: { ...config.worker, id: `${runId}-w1`, metricsPort: 0 },
  };
}

const servicesScript = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

/** Starts (or reuses) Kafka and Redis; ClickHouse is the embedded chDB unless CLICKHOUSE_URL is set. */
export async function ensureServices(config: Config, onOutput: (text: string) => void): Promise<void> {
  const wanted = ['kafka', 'redis'];
  if (config.clickhouse.url) wanted.push('clickhouse');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'bash',
      [servicesScript, 'up', ...wanted],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const tail = stderr.trim().split('\n').slice(-6).join('\n');
        reject(
          new TaplineError(
            'SERVICE_FAILED',
            `could not start the local services (${wanted.join(', ')}) with scripts/services.sh:\n${tail}\n` +
              'Check `npm run services -- status`, or start them yourself and rerun with --no-services.',
            { cause: error },
          ),
        );
      },
    );
    child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString('utf8')));
  });
}
