// docker-compose.yml is valid for Debian's docker-compose (no engine needed to check) and exposes the
// same loopback ports as scripts/services.sh; its worker runs with pipeline/workerNodeFlags.ts.
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '../../pipeline/workerNodeFlags.ts';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: (string | { published: number | string; target: number; host_ip?: string })[];
  environment?: Record<string, string | null>;
}

let config: { services: Record<string, ComposeService> };

beforeAll(() => {
  const tools = spawnSync('bash', ['scripts/services.sh', 'tools'], { encoding: 'utf8' });
  expect(tools.status, tools.stderr).toBe(0);
  const quiet = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
    encoding: 'utf8',
  });
  expect(quiet.status, quiet.stderr).toBe(0);
  const full = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8' });
  expect(full.status, full.stderr).toBe(0);
  config = parse(full.stdout) as typeof config;
}, 300_000);

function hostPorts(service: ComposeService | undefined): string[] {
  // `config` normalises ports to "127.0.0.1:9092:9092/tcp".
  return (service?.ports ?? []).map((p) =>
    (typeof p === 'string' ? p : `${p.host_ip ?? ''}:${String(p.published)}:${String(p.target)}`).replace(
      /\/tcp$/,
      '',
    ),
  );
}

describe('docker-compose.yml', () => {
  it('runs Kafka, Redis, ClickHouse, the worker and the sink', () => {
    expect(Object.keys(config.services).sort()).toEqual(['clickhouse', 'kafka', 'redis', 'sink', 'worker']);
    expect(config.services['worker']?.command).toEqual(['run']);
    expect(config.services['sink']?.command).toEqual(['sink']);
  });

  it('publishes the same loopback ports as scripts/services.sh', () => {
    expect(hostPorts(config.services['kafka'])).toContain('127.0.0.1:9092:9092');
    expect(hostPorts(config.services['redis'])).toContain('127.0.0.1:6379:6379');
    expect(hostPorts(config.services['clickhouse'])).toContain('127.0.0.1:8123:8123');
  });

  it('points the Tapline containers at the other services', () => {
    for (const name of ['worker', 'sink']) {
      const env = config.services[name]?.environment ?? {};
      expect(env['KAFKA_BROKERS']).toBe('kafka:29092');
      expect(env['REDIS_URL']).toBe('redis://redis:6379');
      expect(env['CLICKHOUSE_URL']).toBe('http://clickhouse:8123');
    }
  });

  it('starts the worker with the V8 flags the benchmarks and fault tests use', () => {
    const options = config.services['worker']?.environment?.['NODE_OPTIONS'] ?? '';
    expect(options.split(/\s+/).filter(Boolean)).toEqual([...WORKER_NODE_FLAGS]);
  });
});
