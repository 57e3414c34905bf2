/** A schema migration: a version, a name, and idempotent statements (IF NOT EXISTS everywhere). */
export interface MigrationContext {
  /** Database the tables live in. */
  database: string;
  /** Rows older than this are dropped by TTL (config.clickhouse.retentionYears). */
  retentionYears: number;
}

export interface Migration {
  version: number;
  name: string;
  statements(ctx: MigrationContext): string[];
}
