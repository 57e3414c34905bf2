/**
 * The event tables. Every row is an immutable fact with its own id (tap_id, adjustment_id, the
 * decision's tap_id), so ReplacingMergeTree keyed by that id folds the copies a crash replay can
 * write; the *_unique views (migration 002) give exact answers before merges run.
 *
 * ORDER BY follows what analysts filter on: platform, then day, then the entity (account), then the
 * id that makes the key unique. Devices, phones and tap ids get bloom-filter skip indexes for lookups.
 * Only ClickHouse 24.8 features: DateTime64, LowCardinality, TTL, skip indexes.
 */
import type { Migration, MigrationContext } from './types.ts';

function ttl(column: string, ctx: MigrationContext): string {
  return `TTL toDateTime(${column}) + INTERVAL ${ctx.retentionYears} YEAR`;
}

/** Insert dedup tokens need a window on non-replicated tables (off by default). */
const tableSettings = 'SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192';

export const eventTables: Migration = {
  version: 1,
  name: 'event_tables',
  statements: (ctx) => {
    const db = ctx.database;
    return [
      `CREATE TABLE IF NOT EXISTS ${db}.taps (
        tap_id String,
        occurred_at DateTime64(3, 'UTC'),
        account_id String,
        msisdn_hash String,
        msisdn_key_version UInt16,
        carrier LowCardinality(String),
        device_id String,
        ip String,
        platform_id LowCardinality(String),
        creator_id Nullable(String),
        item_id Nullable(String),
        channel LowCardinality(Nullable(String)),
        amount UInt64,
        currency LowCardinality(String),
        status LowCardinality(String),
        retry_of Nullable(String),
        INDEX idx_device device_id TYPE bloom_filter GRANULARITY 4,
        INDEX idx_msisdn msisdn_hash TYPE bloom_filter GRANULARITY 4,
        INDEX idx_tap tap_id TYPE bloom_filter GRANULARITY 4,
        INDEX idx_account account_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (platform_id, toDate(occurred_at), account_id, tap_id)
      ${ttl('occurred_at', ctx)}
      ${tableSettings}`,
      // Adjustments carry their tap's context so analysts and settlement need no join for lines.
      `CREATE TABLE IF NOT EXISTS ${db}.adjustments (
        adjustment_id String,
        occurred_at DateTime64(3, 'UTC'),
        tap_id String,
        kind LowCardinality(String),
        amount UInt64,
        reason Nullable(String),
        account_id String,
        msisdn_hash String,
        platform_id LowCardinality(String),
        creator_id Nullable(String),
        carrier LowCardinality(String),
        currency LowCardinality(String),
        tap_occurred_at DateTime64(3, 'UTC'),
        INDEX idx_tap tap_id TYPE bloom_filter GRANULARITY 4,
        INDEX idx_account account_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (platform_id, toDate(occurred_at), tap_id, adjustment_id)
      ${ttl('occurred_at', ctx)}
      ${tableSettings}`,
      `CREATE TABLE IF NOT EXISTS ${db}.decisions (
        tap_id String,
        decision LowCardinality(String),
        rules Array(LowCardinality(String)),
        reasons Array(String),
        rules_version LowCardinality(String),
        geo_db LowCardinality(String),
        decided_at DateTime64(3, 'UTC'),
        late UInt8,
        INDEX idx_tap tap_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(decided_at)
      ORDER BY (decision, toDate(decided_at), tap_id)
      ${ttl('decided_at', ctx)}
      ${tableSettings}`,
      `CREATE TABLE IF NOT EXISTS ${db}.fraud_alerts (
        tap_id String,
        decision LowCardinality(String),
        rules Array(LowCardinality(String)),
        reasons Array(String),
        rules_version LowCardinality(String),
        geo_db LowCardinality(String),
        decided_at DateTime64(3, 'UTC'),
        late UInt8,
        account_id String,
        platform_id LowCardinality(String),
        amount UInt64,
        currency LowCardinality(String),
        occurred_at DateTime64(3, 'UTC'),
        INDEX idx_account account_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (platform_id, toDate(occurred_at), tap_id)
      ${ttl('occurred_at', ctx)}
      ${tableSettings}`,
    ];
  },
};
