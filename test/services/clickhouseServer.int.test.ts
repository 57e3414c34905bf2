// @clickhouse/client over HTTP to the Debian clickhouse-server (18.16) that scripts/services.sh runs.
// That release predates DateTime64, so this checks the transport, users and MergeTree only.
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';

const url = 'http://127.0.0.1:8123';
const database = `test_${randomUUID().replaceAll('-', '')}`;
const client = createClient({ url });

afterAll(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await client.close();
});

describe('ClickHouse server over HTTP', () => {
  it('answers SELECT version() with the Debian release', async () => {
    const rows = await (
      await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
    ).json<{
      v: string;
    }>();
    expect(rows[0]?.v).toMatch(/^18\.16\./);
  });

  it('inserts into and selects from a MergeTree table', async () => {
    await client.command({ query: `CREATE DATABASE ${database}` });
    await client.command({
      query: `CREATE TABLE ${database}.taps (tap_id String, amount_minor Int64, event_time DateTime)
              ENGINE = MergeTree ORDER BY (event_time, tap_id)`,
    });
    await client.insert({
      table: `${database}.taps`,
      format: 'JSONEachRow',
      values: [
        { tap_id: 'a', amount_minor: 15_900, event_time: '2026-11-22 15:00:00' },
        { tap_id: 'b', amount_minor: 990, event_time: '2026-11-23 00:00:00' },
      ],
    });
    const result = await client.query({
      query: `SELECT count() AS n, sum(amount_minor) AS total FROM ${database}.taps`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ n: '2', total: '16890' }]);
  });

  it('keeps the tapline_ro user read-only', async () => {
    const readonly = createClient({ url, username: 'tapline_ro', password: 'readonly-secret' });
    try {
      const rows = await (await readonly.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ one: 1 }]);
      await expect(
        readonly.command({ query: `CREATE TABLE default.not_allowed_${database} (a UInt8) ENGINE = Memory` }),
      ).rejects.toThrow(/readonly/i);
    } finally {
      await readonly.close();
    }
  });
});
