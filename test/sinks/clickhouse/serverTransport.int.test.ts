/**
 * The HTTP transport against the local Debian clickhouse-server (18.16: old, so transport behaviour
 * only, on a plain MergeTree table): connect, insert, query, typed auth and connection failures, and
 * `tapline query` in server mode. A server restart mid-run is in serverRestart.int.test.ts.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openAnalystStore, openServerStore } from '../../../sinks/clickhouse/store.ts';

const url = 'http://127.0.0.1:8123';
const execFileAsync = promisify(execFile);

/** `tapline query` in its own process against the server, as an analyst runs it. */
async function taplineQuery(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['pipeline/cli.ts', 'query', ...args], {
      env: {
        ...process.env,
        TAPLINE_ENV: 'test',
        LOG_LEVEL: 'silent',
        CLICKHOUSE_URL: url,
        CLICKHOUSE_DATABASE: 'default',
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

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

  it('tapline query prints the server answer as a table, CSV or JSON, and exits 1 on refused credentials', async () => {
    const sql = "SELECT number AS n, concat('x', toString(number)) AS s FROM system.numbers LIMIT 2";
    expect(await taplineQuery([sql])).toMatchObject({
      code: 0,
      stdout: 'n  s\n-  --\n0  x0\n1  x1\n(2 rows)\n',
    });
    expect((await taplineQuery([sql, '--format', 'csv'])).stdout).toBe('"n","s"\n0,"x0"\n1,"x1"\n');
    expect((await taplineQuery([sql, '--format', 'json'])).stdout).toBe(
      '{"n":0,"s":"x0"}\n{"n":1,"s":"x1"}\n',
    );
    const refused = await taplineQuery(['SELECT 1'], { CLICKHOUSE_PASSWORD: 'wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `tapline: ClickHouse at ${url} refused the credentials. Check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD.\n`,
    );
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
