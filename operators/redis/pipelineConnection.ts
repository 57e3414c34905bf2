/**
 * The store's own connection to Redis for its pipelines: each pipeline is one string of RESP commands
 * written at once, answered by one promise with the replies in order. ioredis (which opens the worker's
 * other connection and parses REDIS_URL) costs 10-13 µs of Node CPU per command: a Command, a promise
 * and argument conversions each; this costs ~4 (docs/BENCHMARKS.md, "The store's own Redis pipeline").
 *
 * Connecting is lazy and pipelined: the first pipeline after a (re)connection is preceded on the wire by
 * AUTH, SELECT and SCRIPT LOAD of every script, so EVALSHA never meets a cold script cache. When the
 * connection fails, every pipeline waiting on it is rejected and the next one connects again: the
 * worker retries the batch, and the store's operations are idempotent. A NOSCRIPT answer (a SCRIPT FLUSH
 * without a restart) drops the connection the same way, so the next one reloads the scripts.
 */
import { createHash } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { encodeCommand, ReplyError, ReplyReader, type Reply } from './resp.ts';

export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  db?: number | undefined;
  /** TLS options (rediss://), or undefined for plain TCP. */
  tls?: ConnectionOptions | undefined;
  connectTimeoutMs: number;
}

interface Waiting {
  count: number;
  replies: Reply[];
  resolve(replies: Reply[]): void;
  reject(e: Error): void;
}

export interface PipelineConnection {
  /** The SHA1 of a script given at creation, for EVALSHA. */
  sha(name: string): string;
  /** Writes `count` encoded commands and resolves with their replies (error replies in place). */
  send(commands: string, count: number): Promise<Reply[]>;
  close(): Promise<void>;
}

export function createPipelineConnection(
  endpoint: RedisEndpoint,
  scripts: Readonly<Record<string, string>>,
): PipelineConnection {
  const shas = new Map(
    Object.entries(scripts).map(([name, lua]) => [name, createHash('sha1').update(lua).digest('hex')]),
  );
  let socket: Socket | null = null;
  let closed = false;
  const waiting: Waiting[] = [];
  const reader = new ReplyReader();

  const fail = (s: Socket, e: Error) => {
    if (socket !== s) return;
    socket = null;
    s.destroy();
    reader.reset();
    for (const w of waiting.splice(0)) w.reject(e);
  };

  const onReply = (s: Socket, reply: Reply) => {
    const w = waiting[0];
    if (!w) return fail(s, new Error('Redis sent a reply nobody asked for'));
    w.replies.push(reply);
    if (reply instanceof ReplyError && reply.message.startsWith('NOSCRIPT')) {
      return fail(s, new Error(`Redis lost the store's scripts (${reply.message})`));
    }
    if (w.replies.length === w.count) {
      waiting.shift();
      if (waiting.length === 0) s.unref();
      w.resolve(w.replies);
    }
  };

  /** AUTH, SELECT and the scripts, ahead of the first pipeline; any error there fails the connection. */
  const handshake = (s: Socket) => {
    const commands: Array<ReadonlyArray<string | number>> = [];
    if (endpoint.password) {
      commands.push(
        endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password],
      );
    }
    if (endpoint.db) commands.push(['SELECT', endpoint.db]);
    for (const lua of Object.values(scripts)) commands.push(['SCRIPT', 'LOAD', lua]);
    if (commands.length === 0) return;
    waiting.push({
      count: commands.length,
      replies: [],
      resolve: (replies) => {
        const refused = replies.find((r): r is ReplyError => r instanceof ReplyError);
        if (refused) fail(s, new Error(`Redis refused the connection's setup: ${refused.message}`));
      },
      reject: () => {},
    });
    s.write(commands.map(encodeCommand).join(''));
  };

  const open = (): Socket => {
    const { host, port } = endpoint;
    const s = endpoint.tls
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...endpoint.tls })
      : netConnect({ host, port });
    s.setNoDelay(true);
    s.setTimeout(endpoint.connectTimeoutMs, () =>
      fail(s, new Error(`connect to ${host}:${port} timed out after ${endpoint.connectTimeoutMs} ms`)),
    );
    s.once(endpoint.tls ? 'secureConnect' : 'connect', () => s.setTimeout(0));
    s.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (reply) => onReply(s, reply));
      } catch (e) {
        fail(s, e as Error);
      }
    });
    s.on('error', (e) => fail(s, e));
    s.on('close', () => fail(s, new Error('connection closed')));
    socket = s;
    handshake(s);
    return s;
  };

  return {
    sha(name) {
      const sha = shas.get(name);
      if (!sha) throw new Error(`no script named ${name}`);
      return sha;
    },
    send(commands, count) {
      if (closed) return Promise.reject(new Error('the store is closed'));
      if (count === 0) return Promise.resolve([]);
      const s = socket ?? open();
      s.ref();
      return new Promise((resolve, reject) => {
        waiting.push({ count, replies: [], resolve, reject });
        s.write(commands);
      });
    },
    async close() {
      closed = true;
      const s = socket;
      if (!s) return;
      if (waiting.length > 0) fail(s, new Error('the store is closed'));
      else {
        socket = null;
        await new Promise<void>((done) => s.end(done));
        s.destroy();
      }
    },
  };
}
