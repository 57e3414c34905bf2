// The store's own Redis connection against a private redis-server: the setup it pipelines ahead of the
// first commands (AUTH, SELECT, SCRIPT LOAD), and what it does when Redis drops its scripts or dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineConnection, type RedisEndpoint } from '../../operators/redis/pipelineConnection.ts';
import { encodeCommand, ReplyError } from '../../operators/redis/resp.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.ts';

const scripts = { echo: "return {ARGV[1], redis.call('INCR', KEYS[1])}" };
let server: PrivateRedis;
const endpoint = (more: Partial<RedisEndpoint> = {}): RedisEndpoint => ({
  host: '127.0.0.1',
  port: server.port,
  connectTimeoutMs: 2_000,
  ...more,
});

beforeAll(async () => {
  server = await startPrivateRedis('always');
  await server.client.call('ACL', 'SETUSER', 'tl-worker', 'on', '>s3cret', '~*', '+@all');
});
afterAll(async () => {
  await server.dispose();
});

describe('the store pipeline connection', () => {
  it('calls scripts by SHA on a fresh connection: they are loaded ahead of the first pipeline', async () => {
    await server.client.script('FLUSH');
    const c = createPipelineConnection(endpoint(), scripts);
    const call = encodeCommand(['EVALSHA', c.sha('echo'), 1, 'n', 'hi']);
    expect(await c.send(call + call, 2)).toEqual([
      ['hi', 1],
      ['hi', 2],
    ]);
    await c.close();
  });

  it('authenticates as the URL user and selects its database; a wrong password is named, not hidden', async () => {
    const ok = createPipelineConnection(
      endpoint({ username: 'tl-worker', password: 's3cret', db: 3 }),
      scripts,
    );
    expect(
      await ok.send(encodeCommand(['SET', 'in-db-3', 'x']) + encodeCommand(['ACL', 'WHOAMI']), 2),
    ).toEqual(['OK', 'tl-worker']);
    await ok.close();
    expect(await server.client.exists('in-db-3')).toBe(0);
    await server.client.select(3);
    expect(await server.client.get('in-db-3')).toBe('x');
    await server.client.select(0);

    const wrong = createPipelineConnection(endpoint({ username: 'tl-worker', password: 'nope' }), scripts);
    await expect(wrong.send(encodeCommand(['PING']), 1)).rejects.toThrow(
      /refused the connection's setup: WRONGPASS/,
    );
    await wrong.close();
  });

  it('keeps error replies in their place and answers the other commands of the pipeline', async () => {
    const c = createPipelineConnection(endpoint(), scripts);
    const replies = await c.send(
      encodeCommand(['SET', 'k', 'v']) + encodeCommand(['INCR', 'k']) + encodeCommand(['GET', 'k']),
      3,
    );
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toBeInstanceOf(ReplyError);
    expect(replies[2]).toBe('v');
    await c.close();
  });

  it('after a SCRIPT FLUSH, fails that pipeline and reloads the scripts on the next one', async () => {
    const c = createPipelineConnection(endpoint(), scripts);
    const call = encodeCommand(['EVALSHA', c.sha('echo'), 1, 'f', 'a']);
    expect(await c.send(call, 1)).toEqual([['a', 1]]);
    await server.client.script('FLUSH');
    await expect(c.send(call, 1)).rejects.toThrow(/lost the store's scripts \(NOSCRIPT/);
    expect(await c.send(call, 1)).toEqual([['a', 2]]);
    await c.close();
  });

  it('rejects every waiting pipeline when Redis dies, and connects again once it is back', async () => {
    const c = createPipelineConnection(endpoint(), scripts);
    expect(await c.send(encodeCommand(['SET', 'before', '1']), 1)).toEqual(['OK']);
    server.pause();
    const waiting = [c.send(encodeCommand(['PING']), 1), c.send(encodeCommand(['PING']), 1)];
    const rejected = waiting.map((w) => expect(w).rejects.toThrow(/ECONNRESET|connection closed/));
    await server.kill();
    await Promise.all(rejected);
    await expect(c.send(encodeCommand(['PING']), 1)).rejects.toThrow(/ECONNREFUSED/);
    await server.restart();
    expect(await c.send(encodeCommand(['GET', 'before']), 1)).toEqual(['1']);
    await c.close();
    await expect(c.send(encodeCommand(['PING']), 1)).rejects.toThrow(/closed/);
  });
});
