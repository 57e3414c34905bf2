/**
 * A PRIVATE clickhouse-server for outage tests: the Debian binary scripts/services/clickhouse.sh runs
 * (18.16), with its own config, free ports and data dir under a temp dir, in the foreground as a child
 * of the test, so the test can kill and restart it. The shared server on 8123 is never touched.
 *
 * 18.16 predates DateTime64 and TTL, so it cannot hold the real schema (sinks/clickhouse/migrations):
 * `createPlainEventTables` makes the sink's four tables with the same columns on a plain MergeTree,
 * times as text (the sink writes 'YYYY-MM-DD hh:mm:ss.mmm', which 18.16's DateTime refuses).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.ts';

export interface PrivateClickHouse {
  /** http://127.0.0.1:PORT */
  url: string;
  dir: string;
  /** Starts the server on its data dir (kept across restarts) and waits until it answers SELECT 1. */
  start(): Promise<void>;
  /** SIGKILL (a crash) or SIGTERM (a clean stop); resolves once the process has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops it and removes its dirs. */
  destroy(): Promise<void>;
  /** Runs one statement over HTTP (for setup and checks); throws with the server's text on failure. */
  sql(statement: string): Promise<string>;
}

function config(dir: string, httpPort: number, tcpPort: number): string {
  // Small caches: two cores and little memory shared with the shared services and other tests.
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
</yandex>
`;
}

const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

export async function startPrivateClickHouse(name = 'ch'): Promise<PrivateClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), `tapline-${name}-`));
  for (const sub of ['data', 'tmp', 'user_files', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.xml'), config(dir, httpPort, tcpPort));
  writeFileSync(join(dir, 'users.xml'), users);
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  async function sql(statement: string): Promise<string> {
    const response = await fetch(url, { method: 'POST', body: statement });
    const text = await response.text();
    if (!response.ok) throw new Error(`private ClickHouse refused ${statement.slice(0, 80)}: ${text}`);
    return text;
  }

  async function start(): Promise<void> {
    if (child) return;
    const started = spawn('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      stdio: 'ignore',
    });
    child = started;
    let exited = false;
    started.once('exit', () => {
      exited = true;
      if (child === started) child = undefined;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`private clickhouse-server exited at start; read ${dir}/log`);
      try {
        if ((await sql('SELECT 1')).trim() === '1') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`private clickhouse-server did not answer; read ${dir}/log`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    const running = child;
    if (!running) return;
    const exited = new Promise<void>((r) => running.once('exit', () => r()));
    running.kill(signal);
    await exited;
  }

  await start();
  return {
    url,
    dir,
    start,
    stop,
    sql,
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The error log of a private server, for failure messages. */
export function privateClickHouseErrors(server: PrivateClickHouse): string {
  try {
    return readFileSync(join(server.dir, 'log', 'server.err.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/**
 * The sink's four tables in `database`, with the columns of migration 001 on a plain MergeTree:
 * no dedup (18.16 has no insert_deduplication_token), so a row written twice shows in count().
 */
export async function createPlainEventTables(server: PrivateClickHouse, database: string): Promise<void> {
  const decision =
    'tap_id String, decision String, rules Array(String), reasons Array(String), rules_version String, ' +
    'geo_db String, decided_at String, late UInt8';
  const tables: Record<string, string> = {
    taps:
      'tap_id String, occurred_at String, account_id String, msisdn_hash String, msisdn_key_version UInt16, ' +
      'carrier String, device_id String, ip String, platform_id String, creator_id Nullable(String), ' +
      'item_id Nullable(String), channel Nullable(String), amount UInt64, currency String, status String, ' +
      'retry_of Nullable(String)',
    adjustments:
      'adjustment_id String, occurred_at String, tap_id String, kind String, amount UInt64, ' +
      'reason Nullable(String), account_id String, msisdn_hash String, platform_id String, ' +
      'creator_id Nullable(String), carrier String, currency String, tap_occurred_at String',
    decisions: decision,
    fraud_alerts: `${decision}, account_id String, platform_id String, amount UInt64, currency String, occurred_at String`,
  };
  await server.sql(`CREATE DATABASE IF NOT EXISTS ${database}`);
  for (const [table, columns] of Object.entries(tables))
    await server.sql(`CREATE TABLE ${database}.${table} (${columns}) ENGINE = MergeTree ORDER BY tap_id`);
}
