/**
 * Views and materialized views that stay exact when the sink replays a batch after a crash.
 *
 * - `<table>_unique`: every event once, without FINAL. Rows of one event are identical copies (events
 *   are immutable and re-sent identically), so GROUP BY over all columns folds them; filters on any
 *   column still push down below the GROUP BY into the table's primary key.
 * - Materialized views see every inserted block, deduplicated or not (seen on chDB 26.7: a block
 *   dropped by its dedup token still reached the MV). So the rollups keep only idempotent states:
 *   uniqExact of ids or accounts, which a replayed row cannot change. A plain sum(amount) rollup
 *   would double on replay; amounts per minute therefore come from the `_unique` views.
 */
import type { Migration } from './types.ts';

const tapColumns =
  'tap_id, occurred_at, account_id, msisdn_hash, msisdn_key_version, carrier, device_id, ip, ' +
  'platform_id, creator_id, item_id, channel, amount, currency, status, retry_of';
const adjustmentColumns =
  'adjustment_id, occurred_at, tap_id, kind, amount, reason, account_id, msisdn_hash, platform_id, ' +
  'creator_id, carrier, currency, tap_occurred_at';
const decisionColumns = 'tap_id, decision, rules, reasons, rules_version, geo_db, decided_at, late';
const alertColumns = `${decisionColumns}, account_id, platform_id, amount, currency, occurred_at`;

export const analystViews: Migration = {
  version: 3,
  name: 'analyst_views',
  statements: (ctx) => {
    const db = ctx.database;
    const unique = (name: string, columns: string) =>
      `CREATE VIEW IF NOT EXISTS ${db}.${name}_unique AS
       SELECT ${columns} FROM ${db}.${name} GROUP BY ${columns}`;
    return [
      unique('taps', tapColumns),
      unique('adjustments', adjustmentColumns),
      unique('decisions', decisionColumns),
      unique('fraud_alerts', alertColumns),
      // Distinct accounts per device per KST day: uniqExact states are idempotent under replay.
      `CREATE TABLE IF NOT EXISTS ${db}.device_accounts_daily (
        day Date,
        device_id String,
        accounts AggregateFunction(uniqExact, String)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (day, device_id)
      TTL day + INTERVAL ${ctx.retentionYears} YEAR`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.device_accounts_daily_mv TO ${db}.device_accounts_daily AS
       SELECT toDate(occurred_at, 'Asia/Seoul') AS day, device_id, uniqExactState(account_id) AS accounts
       FROM ${db}.taps GROUP BY day, device_id`,
      `CREATE VIEW IF NOT EXISTS ${db}.device_accounts_per_day AS
       SELECT day, device_id, uniqExactMerge(accounts) AS accounts
       FROM ${db}.device_accounts_daily GROUP BY day, device_id`,
      // Rule hits per hour (of the tap's event time) by platform and outcome, counted as distinct taps.
      `CREATE TABLE IF NOT EXISTS ${db}.rule_hits_hourly (
        hour DateTime('UTC'),
        platform_id LowCardinality(String),
        rule LowCardinality(String),
        decision LowCardinality(String),
        taps AggregateFunction(uniqExact, String)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(hour)
      ORDER BY (hour, platform_id, rule, decision)
      TTL toDate(hour) + INTERVAL ${ctx.retentionYears} YEAR`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.rule_hits_hourly_mv TO ${db}.rule_hits_hourly AS
       SELECT toStartOfHour(occurred_at) AS hour, platform_id, rule, decision, uniqExactState(tap_id) AS taps
       FROM ${db}.fraud_alerts ARRAY JOIN rules AS rule
       GROUP BY hour, platform_id, rule, decision`,
      `CREATE VIEW IF NOT EXISTS ${db}.rule_hits_per_hour AS
       SELECT hour, platform_id, rule, decision, uniqExactMerge(taps) AS hits
       FROM ${db}.rule_hits_hourly GROUP BY hour, platform_id, rule, decision`,
      // Taps, amount and decisions per minute by carrier, platform, PG status and Tapline outcome.
      // A tap whose decision has not landed yet shows decision = 'PENDING'.
      `CREATE VIEW IF NOT EXISTS ${db}.dashboard_minute AS
       SELECT toStartOfMinute(t.occurred_at) AS minute, t.carrier AS carrier, t.platform_id AS platform_id,
              t.status AS status, if(d.tap_id = '', 'PENDING', toString(d.decision)) AS decision,
              count() AS taps, sum(t.amount) AS amount
       FROM ${db}.taps_unique AS t
       LEFT JOIN ${db}.decisions_unique AS d ON d.tap_id = t.tap_id
       GROUP BY minute, carrier, platform_id, status, decision`,
    ];
  },
};
