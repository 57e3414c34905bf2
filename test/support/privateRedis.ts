// A redis-server of the test's own, for fault injection: its own port and data directory under a temp
// dir, so killing, pausing or restarting it never touches the shared Redis other tests use.
// `restart()` starts it again on the same append-only file, as a crashed server would be restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './freePort.ts';

export interface PrivateRedis {
  port: number;
  url: string;
  dir: string;
  /** A client of this server for the test itself (reconnects after restarts). */
  client: Redis;
  /** SIGKILL: no shutdown, no final fsync; what a crash leaves is what the AOF already holds. */
  kill(): Promise<void>;
  /** SIGSTOP: the server freezes with its connections open; commands wait unanswered. */
  pause(): void;
  /** SIGCONT after pause(): the waiting commands are answered at once. */
  resume(): void;
  /** Starts the server again on the same directory and append-only file, and waits for PING. */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. */
  dispose(): Promise<void>;
}

export async function startPrivateRedis(
  appendfsync: 'always' | 'everysec' = 'always',
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tapline-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    appendfsync,
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  let server: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: () => 100,
  });
  client.on('error', () => {}); // expected while the server is down on purpose

  async function start(): Promise<void> {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    server = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(`private redis-server on ${port} exited (${code}); read ${dir}/redis.log`)),
      ),
    );
    failed.catch(() => {});
    const started = Date.now();
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // Answers PING only once the append-only file is loaded.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet (or still loading the AOF)
      } finally {
        probe.disconnect();
      }
      if (child.exitCode !== null) await failed;
      if (Date.now() - started > 30_000)
        throw new Error(`private redis-server on ${port} did not answer PING`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function kill(): Promise<void> {
    const child = server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  await start();
  await client.connect();
  return {
    port,
    url,
    dir,
    client,
    kill,
    pause: () => void server?.kill('SIGSTOP'),
    resume: () => void server?.kill('SIGCONT'),
    restart: start,
    async dispose() {
      client.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
