/**
 * The HTTP transport against the local Debian clickhouse-server (18.16: old, so transport behaviour
 * only, on a plain MergeTree table): connect, insert, query, typed auth and connection failures.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openAnalystStore, openServerStore } from '../../../sinks/clickhouse/store.ts';

const url = 'http://127.0.0.1:8123';

describe('ClickHouse server over HTTP', () => {
  it('creates its database, inserts and reads rows back', async () => {
    const database = `tl_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const store = await openAnalystStore({
      clickhouse: {
        url,
        user: 'default',
        password: '',
        database,
        chdbPath: './unused',
        retentionYears: 5,
        queryPort: 0,
      },
    });
    try {
      expect(store.mode).toBe('server');
      await store.ping();
      await store.command(
        `CREATE TABLE ${database}.events (id String, amount UInt64, d Date) ENGINE = MergeTree(d, (id), 8192)`,
      );
      await store.insert('events', [
        { id: 'a', amount: 1000, d: '2026-11-03' },
        { id: 'b', amount: 2500, d: '2026-11-03' },
      ]);
      const rows = await store.query<{ id: string; amount: number }>(
        `SELECT id, amount FROM events ORDER BY id`,
      );
      expect(rows).toEqual([
        { id: 'a', amount: 1000 },
        { id: 'b', amount: 2500 },
      ]);
      const csv = await store.queryText('SELECT id, amount FROM events ORDER BY id', 'CSVWithNames');
      expect(csv).toBe('"id","amount"\n"a",1000\n"b",2500\n');
      await expect(store.query('SELEC 1')).rejects.toMatchObject({
        code: 'CLICKHOUSE_QUERY',
        canRetry: false,
      });
      await store.command(`DROP DATABASE ${database}`);
    } finally {
      await store.close();
    }
  });

  it('reports refused credentials as CLICKHOUSE_AUTH', async () => {
    const opening = openServerStore({ url, user: 'default', password: 'wrong', database: 'tl_auth' });
    await expect(opening).rejects.toMatchObject({ code: 'CLICKHOUSE_AUTH', canRetry: false });
    const store = await openServerStore({
      url,
      user: 'nobody',
      password: 'x',
      database: 'default',
      createDatabase: false,
    });
    try {
      await expect(store.query('SELECT 1')).rejects.toMatchObject({ code: 'CLICKHOUSE_AUTH' });
    } finally {
      await store.close();
    }
  });

  it('reports a server that is not there as CLICKHOUSE_UNAVAILABLE, retryable', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const store = await openServerStore({
      url: 'http://127.0.0.1:1',
      user: 'default',
      password: '',
      database: 'default',
      createDatabase: false,
      requestTimeoutMs: 2_000,
    });
    try {
      const failure = store.query('SELECT 1');
      await expect(failure).rejects.toMatchObject({ code: 'CLICKHOUSE_UNAVAILABLE', canRetry: true });
      await expect(store.query('SELECT 1')).rejects.toThrow(
        /Cannot reach ClickHouse at http:\/\/127\.0\.0\.1:1/,
      );
    } finally {
      await store.close();
    }
  });
});
