/**
 * What each settlement run decided, so a closed period's history is never rewritten:
 * - `settled_adjustments`: every adjustment a run settled (applied, or rejected with a reason), by
 *   period and run. An adjustment that reaches the store after the period it is dated in was closed is
 *   in no closed period's list, and the next open period settles it as a new entry; one that a closed
 *   period lists is only replayed as history.
 * - `settlement_runs`: one row per run, so a closed period is known as closed even when it had no
 *   lines, payouts or adjustments.
 * Both are replaced with the period's partition on a rerun, like settlement_lines and payouts.
 */
import type { Migration } from './types.ts';

export const settledAdjustments: Migration = {
  version: 4,
  name: 'settled_adjustments',
  statements: (ctx) => {
    const db = ctx.database;
    const ttl = `TTL period_start + INTERVAL ${ctx.retentionYears} YEAR`;
    return [
      `CREATE TABLE IF NOT EXISTS ${db}.settled_adjustments (
        period LowCardinality(String),
        period_start Date MATERIALIZED toDate(concat(period, '-01')),
        run_id String,
        closed UInt8,
        adjustment_id String,
        tap_id String,
        occurred_at DateTime64(3, 'UTC'),
        outcome LowCardinality(String),
        INDEX idx_tap tap_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = MergeTree
      PARTITION BY period
      ORDER BY (period, adjustment_id)
      ${ttl}`,
      `CREATE TABLE IF NOT EXISTS ${db}.settlement_runs (
        period LowCardinality(String),
        period_start Date MATERIALIZED toDate(concat(period, '-01')),
        run_id String,
        closed UInt8,
        lines UInt64,
        payouts UInt64,
        adjustments UInt64
      ) ENGINE = MergeTree
      PARTITION BY period
      ORDER BY period
      ${ttl}`,
    ];
  },
};
