/**
 * Settlement output (written by the settlement job): one row per statement line and per payout, for
 * a period (KST month, 'YYYY-MM') and a run. A rerun of an open period writes a new run_id; readers
 * take the latest run (settlement_runs_latest); `closed` marks the immutable final run.
 * Amounts are Int64 minor units (net and payouts can be negative).
 */
import type { Migration } from './types.ts';

export const settlementTables: Migration = {
  version: 2,
  name: 'settlement_tables',
  statements: (ctx) => {
    const db = ctx.database;
    const ttl = `TTL period_start + INTERVAL ${ctx.retentionYears} YEAR`;
    return [
      `CREATE TABLE IF NOT EXISTS ${db}.settlement_lines (
        period LowCardinality(String),
        period_start Date MATERIALIZED toDate(concat(period, '-01')),
        run_id String,
        closed UInt8,
        currency LowCardinality(String),
        platform_id LowCardinality(String),
        creator_id Nullable(String),
        carrier LowCardinality(String),
        gross Int64, reversals Int64, net Int64,
        carrier_fee Int64, pg_fee Int64, platform_share Int64, creator_share Int64,
        held Int64, released Int64, written_off Int64
      ) ENGINE = ReplacingMergeTree
      PARTITION BY period
      ORDER BY (period, run_id, currency, platform_id, carrier, ifNull(creator_id, ''))
      ${ttl}`,
      `CREATE TABLE IF NOT EXISTS ${db}.payouts (
        period LowCardinality(String),
        period_start Date MATERIALIZED toDate(concat(period, '-01')),
        run_id String,
        closed UInt8,
        party_type LowCardinality(String),
        party_id String,
        currency LowCardinality(String),
        carried_in Int64, earned Int64, held Int64, released Int64,
        payable Int64, paid Int64, carried_forward Int64
      ) ENGINE = ReplacingMergeTree
      PARTITION BY period
      ORDER BY (period, run_id, party_type, party_id, currency)
      ${ttl}`,
    ];
  },
};
