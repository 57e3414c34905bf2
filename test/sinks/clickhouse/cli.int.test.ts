/**
 * `tapline migrate` and `tapline query` as users run them: separate processes. While this test process
 * holds the embedded store, the child `tapline query` must go through the query endpoint.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../pipeline/logger.ts';
import { migrations } from '../../../sinks/clickhouse/migrations/index.ts';
import { startQueryEndpoint } from '../../../sinks/clickhouse/queryEndpoint.ts';
import { tapRow } from '../../../sinks/clickhouse/rows.ts';
import { tap } from './fixtures.ts';
import { chdbPathForFile, migratedStore } from './helpers.ts';

const run = promisify(execFile);
const path = chdbPathForFile();

async function tapline(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['pipeline/cli.ts', ...args], {
      env: { ...process.env, TAPLINE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('tapline migrate and query', () => {
  it('migrate creates the schema once and is a no-op the second time', async () => {
    const own = mkdtempSync(join(tmpdir(), 'tapline-cli-'));
    try {
      const env = { CHDB_PATH: own, CLICKHOUSE_DATABASE: 'cli_db' };
      const versions = migrations.map((m) => m.version);
      const latest = versions.at(-1)!;
      const first = await tapline(['migrate'], env);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(
        new RegExp(
          `^Applied migrations ${versions.join(', ')}; schema at version ${latest} \\(embedded store .*, database cli_db\\)\\.\n$`,
        ),
      );
      const second = await tapline(['migrate'], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(new RegExp(`^Schema already at version ${latest} .*nothing to do\\.\n$`));
      const query = await tapline(
        ['query', 'SELECT max(version) AS v FROM schema_migrations', '--format', 'csv'],
        env,
      );
      expect(query.stdout).toBe(`"v"\n${latest}\n`);
      // A changed retention reaches the existing tables, once.
      const shorter = await tapline(['migrate'], { ...env, CLICKHOUSE_RETENTION_YEARS: '3' });
      expect(shorter.code).toBe(0);
      expect(shorter.stdout).toMatch(
        /nothing to do\.\nRetention set to 3 years \(TTL\) on adjustments \(was 5\), /,
      );
      const again = await tapline(['migrate'], { ...env, CLICKHOUSE_RETENTION_YEARS: '3' });
      expect(again.stdout).not.toContain('Retention');
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('query reaches the process that holds the embedded store, in table, csv and json', async () => {
    const store = await migratedStore(path);
    const endpoint = await startQueryEndpoint(store, 0, silentLogger);
    try {
      await store.insert(
        'taps',
        [tap('t1', 0, { carrier: 'SKT', amount: 1000 }), tap('t2', 1, { carrier: 'KT', amount: 25 })].map(
          tapRow,
        ),
      );
      const env = { CHDB_PATH: path, CLICKHOUSE_DATABASE: store.database };
      const sql = 'SELECT carrier, amount FROM taps_unique ORDER BY amount DESC';
      const table = await tapline(['query', sql], env);
      expect(table).toMatchObject({
        code: 0,
        stdout: 'carrier  amount\n-------  ------\nSKT        1000\nKT           25\n(2 rows)\n',
      });
      const csv = await tapline(['query', sql, '--format', 'csv'], env);
      expect(csv.stdout).toBe('"carrier","amount"\n"SKT",1000\n"KT",25\n');
      const json = await tapline(['query', sql, '--format', 'json'], env);
      expect(json.stdout).toBe('{"carrier":"SKT","amount":1000}\n{"carrier":"KT","amount":25}\n');
      const bad = await tapline(['query', 'SELECT nope FROM taps'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^tapline: the embedded store at .* rejected the query: /);
      const usage = await tapline(['query', 'SELECT 1', '--format', 'xml'], env);
      expect(usage.code).toBe(2);
    } finally {
      await endpoint.close();
      await store.close();
    }
  });
});
