/**
 * The analyst store: one interface, two implementations chosen by configuration.
 * - embedded (default): chDB in this process, data under config.clickhouse.chdbPath;
 * - server: a ClickHouse server over HTTP when config.clickhouse.url is set.
 * Both go through @clickhouse/client, so SQL, formats and settings behave the same way.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type ClickHouseSettings,
} from '@clickhouse/client';
import type { Config } from '../../pipeline/config.ts';
import { TaplineError } from '../../pipeline/errors.ts';
import { parseClickHouseError, type ErrorSource } from './errors.ts';

export type StoreMode = 'embedded' | 'server';

export interface InsertOptions {
  /**
   * insert_deduplication_token: the same token on a retried insert makes the server keep the block
   * once (tables carry non_replicated_deduplication_window). A server older than 22.2 has no such
   * setting: the store asks its version once and sends no token there (see `dedupTokens`).
   */
  dedupToken?: string;
}

/** First ClickHouse release with insert_deduplication_token. */
const dedupTokenSince = [22, 2] as const;

/** True when a `version()` string is at least 22.2 (chDB reports its engine's version). */
export function versionHasDedupToken(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return major > dedupTokenSince[0] || (major === dedupTokenSince[0] && minor >= dedupTokenSince[1]);
}

export interface AnalystStore {
  readonly mode: StoreMode;
  /** The database every unqualified table name refers to. */
  readonly database: string;
  /** Where the data lives, for messages: the server URL or the embedded data path. */
  readonly location: string;
  /** Runs a statement that returns no rows (DDL, INSERT ... SELECT). */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /** Runs a query and returns its rows as objects; 64-bit integers come back as numbers. */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Runs a query and returns the raw text in a ClickHouse output format (CSVWithNames, ...). */
  queryText(sql: string, format: string): Promise<string>;
  /** Inserts rows (JSONEachRow) into a table of the store's database. */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /**
   * Whether inserts carry their dedup token: known after the first insert with a token (the store
   * asks the server's version once); undefined before.
   */
  readonly dedupTokens: boolean | undefined;
  /** Resolves when the store answers a query. */
  ping(): Promise<void>;
  /** Closes the client; for the embedded store also releases the process's data directory. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Create the database if missing (migrate, tests). Queries need it to exist. @default true */
  createDatabase?: boolean;
}

const readSettings: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0 };

/**
 * chDB binds one data directory per process (libchdb keeps a single engine). This guard mirrors that
 * native, process-wide fact so a second path fails with a clear typed error instead of a native one.
 */
const embeddedGuard = { path: undefined as string | undefined, open: 0 };

class ClientStore implements AnalystStore {
  readonly mode: StoreMode;
  readonly database: string;
  readonly location: string;
  readonly #client: ClickHouseClient;
  readonly #source: ErrorSource;
  readonly #onClose: () => Promise<void>;
  #closed = false;
  #dedupTokens: boolean | undefined;

  constructor(
    mode: StoreMode,
    database: string,
    location: string,
    client: ClickHouseClient,
    source: ErrorSource,
    onClose: () => Promise<void>,
  ) {
    this.mode = mode;
    this.database = database;
    this.location = location;
    this.#client = client;
    this.#source = source;
    this.#onClose = onClose;
  }

  async #call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new TaplineError('INTERNAL', `The analyst store at ${this.location} is closed.`);
    try {
      return await run();
    } catch (e) {
      throw parseClickHouseError(e, this.#source);
    }
  }

  command(sql: string, params?: Record<string, unknown>): Promise<void> {
    return this.#call(async () => {
      await this.#client.command({ query: sql, query_params: params });
    });
  }

  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    return this.#call(async () => {
      const result = await this.#client.query({
        query: sql,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: readSettings,
      });
      return result.json<T>();
    });
  }

  queryText(sql: string, format: string): Promise<string> {
    return this.#call(async () => {
      const result = await this.#client.query({
        query: sql,
        format: format as 'CSVWithNames',
        clickhouse_settings: readSettings,
      });
      return result.text();
    });
  }

  get dedupTokens(): boolean | undefined {
    return this.#dedupTokens;
  }

  insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.#call(async () => {
      const settings: ClickHouseSettings = {};
      if (options.dedupToken !== undefined) {
        if (this.#dedupTokens === undefined) {
          const result = await this.#client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
          const [row] = await result.json<{ v: string }>();
          this.#dedupTokens = versionHasDedupToken(row?.v ?? '0');
        }
        if (this.#dedupTokens) {
          settings.insert_deduplicate = 1;
          settings.insert_deduplication_token = options.dedupToken;
        }
      }
      await this.#client.insert({
        table: `${this.database}.${table}`,
        values: rows as object[],
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      });
    });
  }

  ping(): Promise<void> {
    return this.#call(async () => {
      const result = await this.#client.query({ query: 'SELECT 1', format: 'JSONEachRow' });
      await result.json();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.close();
    } finally {
      await this.#onClose();
    }
  }
}

/** Opens the embedded chDB store at `path` (one path per process) with `database` as the default. */
export async function openEmbeddedStore(
  path: string,
  database: string,
  _options: OpenStoreOptions = {},
): Promise<AnalystStore> {
  const absolute = resolve(path);
  if (embeddedGuard.path !== undefined && embeddedGuard.path !== absolute) {
    throw new TaplineError(
      'CHDB_PATH_IN_USE',
      `This process already holds the embedded store at ${embeddedGuard.path}; chDB binds one data ` +
        `directory per process, so ${absolute} cannot be opened too. Close the first store, or run a ` +
        `separate process.`,
    );
  }
  mkdirSync(absolute, { recursive: true });
  // Loaded lazily: libchdb is large and processes that never open the embedded store skip it.
  const { createChdbConnection } = await import('chdb/connection');
  const source: ErrorSource = {
    describe: `the embedded store at ${absolute}`,
    hint: 'Check CHDB_PATH.',
  };
  let connection;
  try {
    connection = createChdbConnection({ path: absolute });
  } catch (e) {
    throw parseClickHouseError(e, source);
  }
  embeddedGuard.path = absolute;
  embeddedGuard.open += 1;
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]);
  const store = new ClientStore('embedded', database, absolute, client, source, async () => {
    embeddedGuard.open -= 1;
    if (embeddedGuard.open === 0) {
      // The native connection is only free once in-flight work has drained (chdb README).
      const chdb = await import('chdb');
      await chdb.drainPending();
      embeddedGuard.path = undefined;
    }
  });
  try {
    // The chDB connection ignores the client's `database` option; USE persists in its session.
    await store.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await store.command(`USE ${database}`);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

export interface ServerStoreOptions extends OpenStoreOptions {
  url: string;
  user: string;
  password: string;
  database: string;
  /** Per-request timeout. @default 30000 */
  requestTimeoutMs?: number;
}

/** Opens a ClickHouse server over HTTP. Nothing is sent until the first call (or ping). */
export async function openServerStore(options: ServerStoreOptions): Promise<AnalystStore> {
  const source: ErrorSource = {
    describe: `ClickHouse at ${options.url}`,
    hint: 'Start it (`npm run services -- up clickhouse`) or fix CLICKHOUSE_URL.',
  };
  const common = {
    url: options.url,
    username: options.user,
    password: options.password,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    // Gzip costs CPU on both sides for nothing on a local link; batches are already large.
    compression: { request: false, response: false },
    // Failures reach the caller as typed errors; the client's own console logging would duplicate them.
    log: { level: ClickHouseLogLevel.OFF },
  };
  if (options.createDatabase ?? true) {
    const admin = createClient(common);
    try {
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}` });
    } catch (e) {
      throw parseClickHouseError(e, source);
    } finally {
      await admin.close();
    }
  }
  const client = createClient({ ...common, database: options.database });
  return new ClientStore('server', options.database, options.url, client, source, async () => {});
}

/** Opens the store the configuration names: the server when CLICKHOUSE_URL is set, else embedded. */
export function openAnalystStore(
  config: Pick<Config, 'clickhouse'>,
  options: OpenStoreOptions = {},
): Promise<AnalystStore> {
  const ch = config.clickhouse;
  if (ch.url) {
    return openServerStore({
      url: ch.url,
      user: ch.user,
      password: ch.password,
      database: ch.database,
      ...options,
    });
  }
  return openEmbeddedStore(ch.chdbPath, ch.database, options);
}

/** The path the embedded store of this process holds, if any. */
export function embeddedPathInUse(): string | undefined {
  return embeddedGuard.path;
}
