/**
 * Test helpers: a temporary chDB data path per test file, a fresh database per test, and the sink's
 * topics and consumer group per test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { migrate } from '../../../sinks/clickhouse/migrate.ts';
import type { SinkKind } from '../../../sinks/clickhouse/sink.ts';
import { openEmbeddedStore, type AnalystStore } from '../../../sinks/clickhouse/store.ts';
import { rememberTestData } from '../../support/testData.ts';

let counter = 0;

/** One temporary chDB path for this test file (chDB binds one path per process); removed after. */
export function chdbPathForFile(): string {
  const path = mkdtempSync(join(tmpdir(), 'tapline-chdb-'));
  afterAll(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

export function uniqueDatabase(prefix = 't'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}_${Date.now().toString(36)}`;
}

/** Opens a fresh migrated database on the file's chDB path; the caller closes it. */
export async function migratedStore(path: string): Promise<AnalystStore> {
  const store = await openEmbeddedStore(path, uniqueDatabase());
  await migrate(store, { retentionYears: 5 });
  return store;
}

/**
 * Topics and a consumer group of the sink's own for one test, named `<name>-<random>.…` like
 * test/support/pipelineEnv.ts's, so test/setup/dropTestData.ts deletes them when the file ends.
 * Groups derived from `group` (`${group}-replay`) go with it.
 */
export function sinkTestNames(name: string): { topics: Record<SinkKind, string>; group: string } {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  rememberTestData({ id });
  return {
    topics: {
      tapEnriched: `${id}.taps-enriched`,
      adjustment: `${id}.adjustments-enriched`,
      decision: `${id}.decisions`,
      alert: `${id}.fraud-alerts`,
    },
    group: `${id}.sink`,
  };
}
