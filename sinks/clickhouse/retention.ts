/**
 * Retention after the fact. Migrations create each table with a TTL of the retention configured at
 * that moment (CLICKHOUSE_RETENTION_YEARS); a later change of the setting must reach the existing
 * tables too, or a shortened retention would keep rows the law says to drop. `tapline migrate` (and the
 * sink at start) reads each table's TTL from system.tables and runs ALTER TABLE ... MODIFY TTL only
 * where it differs, so running it twice changes nothing.
 *
 * MODIFY TTL also rewrites the existing parts in the background (materialize_ttl_after_modify, on by
 * default), so rows past a shortened retention go without waiting for merges.
 */
import type { AnalystStore } from './store.ts';

/**
 * Every table with a TTL, and its TTL expression for a retention in years, as its migration writes it.
 * A new table with a TTL belongs here (schema.int.test.ts checks that none is missing).
 */
export const retentionTtl: Readonly<Record<string, (years: number) => string>> = {
  taps: (y) => `toDateTime(occurred_at) + INTERVAL ${y} YEAR`,
  adjustments: (y) => `toDateTime(occurred_at) + INTERVAL ${y} YEAR`,
  decisions: (y) => `toDateTime(decided_at) + INTERVAL ${y} YEAR`,
  fraud_alerts: (y) => `toDateTime(occurred_at) + INTERVAL ${y} YEAR`,
  settlement_lines: (y) => `period_start + INTERVAL ${y} YEAR`,
  payouts: (y) => `period_start + INTERVAL ${y} YEAR`,
  settled_adjustments: (y) => `period_start + INTERVAL ${y} YEAR`,
  settlement_runs: (y) => `period_start + INTERVAL ${y} YEAR`,
  device_accounts_daily: (y) => `day + INTERVAL ${y} YEAR`,
  rule_hits_hourly: (y) => `toDate(hour) + INTERVAL ${y} YEAR`,
};

export interface RetentionChange {
  table: string;
  /** Years of the TTL found; null when the table had none. */
  fromYears: number | null;
  toYears: number;
}

/** The years of a table's TTL as ClickHouse prints it (`TTL ... + toIntervalYear(5)`), or null. */
export function ttlYears(createTableQuery: string): number | null {
  const match = /\bTTL\b[^\n]*?toIntervalYear\((\d+)\)/.exec(createTableQuery);
  return match ? Number(match[1]) : null;
}

/** Sets the TTL of every existing table of `retentionTtl` to `years` where it differs. */
export async function reconcileRetention(store: AnalystStore, years: number): Promise<RetentionChange[]> {
  const tables = await store.query<{ name: string; create_table_query: string }>(
    `SELECT name, create_table_query FROM system.tables
     WHERE database = {db:String} AND name IN {names:Array(String)} ORDER BY name`,
    { db: store.database, names: Object.keys(retentionTtl) },
  );
  const changes: RetentionChange[] = [];
  for (const { name, create_table_query } of tables) {
    const fromYears = ttlYears(create_table_query);
    const ttl = retentionTtl[name];
    if (fromYears === years || !ttl) continue;
    await store.command(`ALTER TABLE ${store.database}.${name} MODIFY TTL ${ttl(years)}`);
    changes.push({ table: name, fromYears, toYears: years });
  }
  return changes;
}
