/**
 * Rows per second through the analyst store, in both modes, with the sink's batch shape (10,000-row
 * JSONEachRow inserts carrying dedup tokens). Prints `BENCH {...}` lines for `npm run bench`.
 *   node bench/sink.ts [rows]      (server mode needs the local clickhouse-server on 127.0.0.1:8123)
 * Server mode uses a plain table: the local server is 18.16, too old for the real schema, so that
 * figure measures the HTTP transport and JSON parsing, not the production table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../sinks/clickhouse/migrate.ts';
import { tapRow } from '../sinks/clickhouse/rows.ts';
import { openEmbeddedStore, openServerStore, type AnalystStore } from '../sinks/clickhouse/store.ts';
import type { EnrichedTap } from '../schemas/types.ts';

const total = Number(process.argv[2] ?? 200_000);
const batch = 10_000;
const carriers = ['SKT', 'KT', 'LGU', 'MVNO'] as const;

function rows(from: number, n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < from + n; i += 1) {
    const t: EnrichedTap = {
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
    out.push(tapRow(t));
  }
  return out;
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
  await server.command('DROP DATABASE tapline_bench');
} finally {
  await server.close();
}
