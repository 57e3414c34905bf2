// Embedded chDB (Tapline's default store) behind @clickhouse/client: create, insert and select with
// DateTime64(3, 'UTC'). chDB binds one data directory per process, so this file uses its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, describe, expect, it } from 'vitest';

const dataPath = mkdtempSync(join(tmpdir(), 'tapline-chdb-test-'));
// chdb types its connection against @clickhouse/client-common 1.23.0 while @clickhouse/client 1.23.1
// bundles its own copy of those types; they differ only in ClickHouseSettings, so the cast is types-only.
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
const connection = createChdbConnection({ path: dataPath }) as unknown as ClientConnection;
const client = createClient({ connection });

afterAll(async () => {
  await client.close();
  rmSync(dataPath, { recursive: true, force: true });
});

describe('chDB through @clickhouse/client', () => {
  it('keeps millisecond event times exactly in DateTime64(3, UTC)', async () => {
    await client.command({
      query: `CREATE TABLE taps (tap_id String, amount_minor Int64, event_time DateTime64(3, 'UTC'))
              ENGINE = MergeTree ORDER BY (event_time, tap_id)`,
    });
    await client.insert({
      table: 'taps',
      format: 'JSONEachRow',
      values: [
        { tap_id: 'b', amount_minor: 990, event_time: '2026-11-23 00:00:00.007' },
        { tap_id: 'a', amount_minor: 15_900, event_time: '2026-11-22 15:00:00.123' },
      ],
    });
    const result = await client.query({
      query: `SELECT tap_id, amount_minor, toUnixTimestamp64Milli(event_time) AS ms,
                     toTimeZone(event_time, 'Asia/Seoul') AS seoul
              FROM taps ORDER BY event_time`,
      format: 'JSONEachRow',
      // chDB 26.x writes 64-bit integers as bare JSON numbers by default (18.16 quoted them); quoted
      // strings keep amounts and epoch ms exact beyond 2^53 and readable as bigint.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    const rows = await result.json<{ tap_id: string; amount_minor: string; ms: string; seoul: string }>();
    expect(rows).toEqual([
      { tap_id: 'a', amount_minor: '15900', ms: '1795359600123', seoul: '2026-11-23 00:00:00.123' },
      { tap_id: 'b', amount_minor: '990', ms: '1795392000007', seoul: '2026-11-23 09:00:00.007' },
    ]);
  });
});
