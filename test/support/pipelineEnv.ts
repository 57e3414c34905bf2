// A configuration of its own for one integration test: unique topics, groups, Redis prefix, worker id
// and chDB path, so tests never see each other's data; removed when the test file ends
// (test/setup/dropTestData.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../pipeline/config.ts';
import { WORKER_NODE_FLAGS } from '../../pipeline/workerNodeFlags.ts';
import { rememberTestData } from './testData.ts';

export function uniqueEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  const chdbPath = join(mkdtempSync(join(tmpdir(), 'tapline-chdb-')), 'data');
  rememberTestData({ id, chdbPath });
  return {
    TAPLINE_ENV: 'test',
    LOG_LEVEL: 'warn',
    TOPIC_TAPS: `${id}.taps`,
    TOPIC_ADJUSTMENTS: `${id}.adjustments`,
    TOPIC_ADJUSTMENTS_RETRY: `${id}.adjustments-retry`,
    TOPIC_DECISIONS: `${id}.decisions`,
    TOPIC_ALERTS: `${id}.fraud-alerts`,
    TOPIC_DLQ: `${id}.dlq`,
    TOPIC_TAPS_ENRICHED: `${id}.taps-enriched`,
    TOPIC_ADJUSTMENTS_ENRICHED: `${id}.adjustments-enriched`,
    TAPLINE_WORKER_GROUP: `${id}.workers`,
    TAPLINE_SINK_GROUP: `${id}.sink`,
    TAPLINE_WORKER_ID: 'w1',
    REDIS_KEY_PREFIX: `${id}:`,
    TAPLINE_METRICS_PORT: '0',
    TAPLINE_QUERY_PORT: '0',
    CHDB_PATH: chdbPath,
    ...extra,
  };
}

export function configFor(env: Record<string, string>): Config {
  return loadConfig(env).config;
}

/**
 * Arguments after `process.execPath` for a `tapline` child process of a test: `run` gets the V8 flags
 * the worker is deployed with (pipeline/workerNodeFlags.ts), so fault tests exercise what runs.
 */
export function cliArgs(command: 'run' | 'sink'): string[] {
  return [...(command === 'run' ? WORKER_NODE_FLAGS : []), 'pipeline/cli.ts', command];
}
