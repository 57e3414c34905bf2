/**
 * Applies the versioned migrations in order and records each in schema_migrations. Safe to run
 * twice (applied versions are skipped, statements are IF NOT EXISTS), and refuses to touch a
 * database whose schema is newer than this build knows (an older binary must not "repair" it).
 * Then brings every table's TTL to the configured retention (retention.ts), also on existing tables.
 */
import { TaplineError } from '../../pipeline/errors.ts';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';
import { reconcileRetention, type RetentionChange } from './retention.ts';
import type { AnalystStore } from './store.ts';

export interface MigrateResult {
  /** Versions applied by this run, in order. */
  applied: number[];
  /** Schema version after the run. */
  version: number;
  /** Tables whose TTL this run changed to the configured retention. */
  retention: RetentionChange[];
}

export interface MigrateOptions {
  retentionYears: number;
  /** For tests: a different migration list. @default every known migration */
  migrations?: readonly Migration[];
}

export async function currentSchemaVersion(store: AnalystStore): Promise<number> {
  const rows = await store.query<{ version: number }>(
    `SELECT max(version) AS version FROM ${store.database}.schema_migrations`,
  );
  return Number(rows[0]?.version ?? 0);
}

export async function migrate(store: AnalystStore, options: MigrateOptions): Promise<MigrateResult> {
  const list = [...(options.migrations ?? allMigrations)].sort((a, b) => a.version - b.version);
  const db = store.database;
  await store.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (
      version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  );
  const current = await currentSchemaVersion(store);
  const known = list.at(-1)?.version ?? 0;
  if (current > known) {
    throw new TaplineError(
      'SCHEMA_NEWER',
      `The ClickHouse database ${db} at ${store.location} has schema version ${current}, newer than ` +
        `this Tapline knows (${known}). Upgrade Tapline before running it against this database.`,
    );
  }
  const applied: number[] = [];
  for (const migration of list) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements({ database: db, retentionYears: options.retentionYears }))
      await store.command(statement);
    await store.insert('schema_migrations', [{ version: migration.version, name: migration.name }]);
    applied.push(migration.version);
  }
  const retention = await reconcileRetention(store, options.retentionYears);
  return { applied, version: Math.max(current, known), retention };
}
