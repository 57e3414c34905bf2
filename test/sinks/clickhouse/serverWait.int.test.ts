/**
 * `tapline sink` started while its ClickHouse server is down waits for it (backoff, each attempt logged
 * with what to fix) instead of exiting, and goes on once the server answers; SIGTERM during the wait
 * exits 0. Against a PRIVATE clickhouse-server (18.16, own ports and data dir), never the shared one.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../pipeline/config.ts';
import { isTaplineError } from '../../../pipeline/errors.ts';
import { createLogger } from '../../../pipeline/logger.ts';
import { openStoreWhenReachable } from '../../../sinks/clickhouse/openWhenReachable.ts';
import { startPrivateClickHouse } from '../../support/privateClickHouse.ts';

const server = await startPrivateClickHouse('ch-wait');
await server.stop('SIGKILL');
afterAll(() => server.destroy());

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger('info', sink), lines: () => text };
}

const { config } = loadConfig({
  TAPLINE_ENV: 'test',
  CLICKHOUSE_URL: server.url,
  CLICKHOUSE_DATABASE: 'tapline_wait',
});

describe('opening a ClickHouse server that is down', () => {
  it('waits, logging what to fix, and opens the store once the server answers', async () => {
    const { logger, lines } = capture();
    const opening = openStoreWhenReachable(config, {
      logger,
      createDatabase: true,
      initialDelayMs: 100,
      maxDelayMs: 400,
    });
    let settled = false;
    void opening.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(settled).toBe(false);
    expect(lines()).toContain('waiting for ClickHouse: retrying');
    expect(lines()).toContain(`Cannot reach ClickHouse at ${server.url}`);

    await server.start();
    const store = await opening;
    try {
      const rows = await store.query<{ name: string }>(
        "SELECT name FROM system.databases WHERE name = 'tapline_wait'",
      );
      expect(rows.map((r) => r.name)).toEqual(['tapline_wait']);
    } finally {
      await store.close();
    }
    await server.stop('SIGKILL');
  });

  it('gives up with the typed unavailable error when asked to stop while waiting', async () => {
    const { logger } = capture();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 600);
    const error = await openStoreWhenReachable(config, {
      logger,
      signal: stop.signal,
      initialDelayMs: 100,
    }).catch((e: unknown) => e);
    expect(isTaplineError(error) && error.code).toBe('CLICKHOUSE_UNAVAILABLE');
  });

  it('tapline sink keeps waiting for the server and exits 0 on SIGTERM during the wait', async () => {
    const child = spawn(process.execPath, ['pipeline/cli.ts', 'sink'], {
      env: { ...process.env, TAPLINE_ENV: 'test', CLICKHOUSE_URL: server.url, TAPLINE_METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes('waiting for ClickHouse') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stderr).toContain('waiting for ClickHouse');
    // Still running after several attempts: no exit while the server is away.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('stopped while waiting for ClickHouse');
  }, 60_000);
});
