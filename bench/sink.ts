/**
 * Rows per second through the analyst store, in both modes, with the sink's batch shape (10,000-row
 * JSONEachRow inserts carrying dedup tokens), and through the whole sink (`kafka_to_store`: Avro
 * enriched taps already on a 4-partition Kafka topic, consumed, decoded, batched, inserted and
 * committed by startSink with its defaults, timed from joining the group to the last row
 * acknowledged). Prints `BENCH {...}` lines for `npm run bench`.
 *   node bench/sink.ts [rows]      (server mode needs the local clickhouse-server on 127.0.0.1:8123)
 * Server mode uses a plain table: the local server is 18.16, too old for the real schema, so that
 * figure measures the HTTP transport and JSON parsing, not the production table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { codecDecoder } from '../pipeline/commands/sink.ts';
import { loadConfig } from '../pipeline/config.ts';
import { createKafka, ensureTopics } from '../pipeline/kafka.ts';
import { silentLogger } from '../pipeline/logger.ts';
import { createCodec } from '../schemas/codec.ts';
import { migrate } from '../sinks/clickhouse/migrate.ts';
import { startSink } from '../sinks/clickhouse/sink.ts';
import { tapRow } from '../sinks/clickhouse/rows.ts';
import { openEmbeddedStore, openServerStore, type AnalystStore } from '../sinks/clickhouse/store.ts';
import type { EnrichedTap } from '../schemas/types.ts';

const total = Number(process.argv[2] ?? 200_000);
const batch = 10_000;
const carriers = ['SKT', 'KT', 'LGU', 'MVNO'] as const;

function enrichedTap(i: number): EnrichedTap {
  return {
    tap_id: `bench-${i}`,
    occurred_at: Date.UTC(2026, 10, 3) + i * 37,
    account_id: `acc-${i % 50_000}`,
    msisdn_hash: `h${(i * 7919) % 100_003}`.padEnd(64, '0'),
    msisdn_key_version: 1,
    carrier: carriers[i % 4]!,
    device_id: `dev-${i % 40_000}`,
    ip: `10.${i % 250}.${(i >> 8) % 250}.${i % 200}`,
    platform_id: `platform-${i % 12}`,
    creator_id: i % 5 === 0 ? null : `creator-${i % 900}`,
    item_id: `item-${i % 3000}`,
    channel: 'APP',
    amount: 300 + (i % 4700),
    currency: 'KRW',
    status: i % 20 === 0 ? 'DECLINED' : 'APPROVED',
    retry_of: null,
  };
}

function rows(from: number, n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < from + n; i += 1) out.push(tapRow(enrichedTap(i)));
  return out;
}

/** Rows/s of startSink from Kafka into `store`: `total` enriched taps published first, then consumed. */
async function throughSink(store: AnalystStore): Promise<number> {
  const { config } = loadConfig({ TAPLINE_ENV: 'test', LOG_LEVEL: 'silent' });
  const kafka = createKafka(config, silentLogger, 'bench-sink');
  const id = randomUUID().slice(0, 8);
  const topics = {
    tapEnriched: `bench-sink-taps-${id}`,
    adjustment: `bench-sink-adj-${id}`,
    decision: `bench-sink-dec-${id}`,
    alert: `bench-sink-alerts-${id}`,
  };
  await ensureTopics(kafka, Object.values(topics), 4);
  const codec = createCodec();
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let from = 0; from < total; from += 2_000) {
      const messages = [];
      for (let i = from; i < Math.min(total, from + 2_000); i += 1) {
        const t = enrichedTap(total + i); // other tap ids than the insert benchmark's
        messages.push({ key: t.account_id, value: codec.encode('tapEnriched', t) });
      }
      await producer.send({ topic: topics.tapEnriched, messages });
    }
  } finally {
    await producer.disconnect();
  }
  const sink = await startSink({
    config,
    logger: silentLogger,
    store,
    kafka,
    decode: codecDecoder(),
    topics,
    groupId: `bench-sink-${id}`,
  });
  try {
    await sink.started;
    const start = performance.now();
    while (sink.stats().rowsWritten < total) {
      const { undecodable, rowsWritten } = sink.stats();
      if (undecodable > 0 || performance.now() - start > 300_000)
        throw new Error(`sink stalled: ${rowsWritten} of ${total} rows written, ${undecodable} undecodable`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return (total / (performance.now() - start)) * 1000;
  } finally {
    await sink.stop();
  }
}

async function measure(store: AnalystStore, table: string, withToken: boolean): Promise<number> {
  const batches = Array.from({ length: Math.ceil(total / batch) }, (_, b) => rows(b * batch, batch));
  const start = performance.now();
  for (const [b, r] of batches.entries())
    await store.insert(table, r, withToken ? { dedupToken: `bench/${b}` } : {});
  return (total / (performance.now() - start)) * 1000;
}

function report(metric: string, value: number): void {
  console.log(`BENCH ${JSON.stringify({ metric, unit: 'rows/s', value: Math.round(value) })}`);
}

const dir = mkdtempSync(join(tmpdir(), 'tapline-bench-'));
try {
  const embedded = await openEmbeddedStore(dir, 'bench');
  try {
    await migrate(embedded, { retentionYears: 5 });
    report('sink.embedded.taps_insert', await measure(embedded, 'taps', true));
    report('sink.embedded.kafka_to_store', await throughSink(embedded));
  } finally {
    await embedded.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const server = await openServerStore({
  url: 'http://127.0.0.1:8123',
  user: 'default',
  password: '',
  database: 'tapline_bench',
});
try {
  await server.command('DROP TABLE IF EXISTS tapline_bench.taps');
  // 18.16 lacks DateTime64 and TTL: same columns as text and integers, old MergeTree syntax.
  await server.command(`CREATE TABLE tapline_bench.taps (
    tap_id String, occurred_at String, account_id String, msisdn_hash String, msisdn_key_version UInt16,
    carrier String, device_id String, ip String, platform_id String, creator_id Nullable(String),
    item_id Nullable(String), channel Nullable(String), amount UInt64, currency String, status String,
    retry_of Nullable(String), d Date DEFAULT today()) ENGINE = MergeTree(d, (platform_id, tap_id), 8192)`);
  report('sink.server_http.taps_insert', await measure(server, 'taps', false));
  report('sink.server_http.kafka_to_store', await throughSink(server));
  await server.command('DROP DATABASE tapline_bench');
} finally {
  await server.close();
}
