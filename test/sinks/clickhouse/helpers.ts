/** Test helpers: a temporary chDB data path per test file and a fresh database per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { migrate } from '../../../sinks/clickhouse/migrate.ts';
import { openEmbeddedStore, type AnalystStore } from '../../../sinks/clickhouse/store.ts';

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
