/**
 * The embedded store belongs to one process, so that process (the sink or the demo) answers
 * `tapline query` on 127.0.0.1 while it runs. It advertises itself in an owner file inside the chDB
 * data directory; `tapline query` reads that file and, when the owner is alive, asks it over HTTP.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { TaplineError, describeError, isTaplineError } from '../../pipeline/errors.ts';
import type { Logger } from '../../pipeline/logger.ts';
import type { AnalystStore } from './store.ts';

const OWNER_FILE = '.tapline-owner.json';
const MAX_SQL_BYTES = 1_048_576;

export interface StoreOwner {
  pid: number;
  port: number;
}

export interface QueryEndpoint {
  port: number;
  close(): Promise<void>;
}

/** Serves POST /query {"sql","format"} for `store` on 127.0.0.1:port (0 picks a free port). */
export async function startQueryEndpoint(
  store: AnalystStore,
  port: number,
  logger: Logger,
): Promise<QueryEndpoint> {
  const log = logger.child({ component: 'query-endpoint' });
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/query') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_SQL_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        try {
          const { sql, format } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            sql: string;
            format: string;
          };
          const text = await store.queryText(sql, format);
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
        } catch (e) {
          const body = isTaplineError(e)
            ? { code: e.code, message: e.message, canRetry: e.canRetry }
            : { code: 'INTERNAL', message: describeError(e), canRetry: false };
          log.warn({ code: body.code }, 'query failed');
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const ownerPath = join(store.location, OWNER_FILE);
  if (store.mode === 'embedded')
    writeFileSync(ownerPath, JSON.stringify({ pid: process.pid, port: bound } satisfies StoreOwner));
  log.info({ port: bound }, 'answering tapline query');
  return {
    port: bound,
    async close() {
      if (store.mode === 'embedded') rmSync(ownerPath, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process (other than this one) that owns the embedded store at `chdbPath`, if any. */
export function findStoreOwner(chdbPath: string): StoreOwner | undefined {
  let owner: StoreOwner;
  try {
    owner = JSON.parse(readFileSync(join(chdbPath, OWNER_FILE), 'utf8')) as StoreOwner;
  } catch {
    return undefined;
  }
  if (owner.pid === process.pid || !alive(owner.pid)) return undefined;
  return owner;
}

/** Asks the owning process to run `sql`; returns the text in the ClickHouse `format`. */
export async function queryThroughOwner(owner: StoreOwner, sql: string, format: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${owner.port}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql, format }),
    });
  } catch (e) {
    throw new TaplineError(
      'CLICKHOUSE_UNAVAILABLE',
      `The embedded store is held by process ${owner.pid}, which does not answer on 127.0.0.1:${owner.port} ` +
        `(TAPLINE_QUERY_PORT). Stop that process or wait for it to start.`,
      { cause: e, canRetry: true },
    );
  }
  const text = await response.text();
  if (response.ok) return text;
  let body: { code?: string; message?: string; canRetry?: boolean } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { message: text };
  }
  const code =
    body.code === 'CLICKHOUSE_QUERY' || body.code === 'CLICKHOUSE_UNAVAILABLE'
      ? body.code
      : 'CLICKHOUSE_QUERY';
  throw new TaplineError(code, body.message ?? `process ${owner.pid} refused the query`, {
    canRetry: body.canRetry ?? false,
  });
}
