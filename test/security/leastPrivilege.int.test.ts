// Least privilege and secrets, against the real services: the worker runs as a Redis ACL user limited
// to its key prefix and a few command groups; it connects to Kafka through the SCRAM-SHA-256 listener
// (and a wrong password fails with a clear error); ClickHouse's analyst user reads and cannot write;
// secrets never reach the logs; production without secrets refuses to start.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../pipeline/logger.ts';
import { startWorkerFromConfig } from '../../pipeline/wiring.ts';
import { codec, createTopics, decodeAll, readAll, sendAll, simulatedTaps } from '../faults/harness.ts';
import { configFor, uniqueEnv } from '../support/pipelineEnv.ts';

const admin = new Redis('redis://127.0.0.1:6379');
const aclUsers: string[] = [];
afterAll(async () => {
  for (const u of aclUsers) await admin.call('ACL', 'DELUSER', u);
  admin.disconnect();
});

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

describe('least privilege', () => {
  it('runs the worker as a Redis ACL user limited to its prefix; a key outside it is refused', async () => {
    const user = `tl-worker-${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const env0 = uniqueEnv('acl');
    const prefix = env0['REDIS_KEY_PREFIX']!;
    // The grant documented in docs/SECURITY.md: its prefix, reads, writes, scripts, connection upkeep.
    await admin.call(
      'ACL',
      'SETUSER',
      user,
      'reset',
      'on',
      `>${password}`,
      `~${prefix}*`,
      '+@read',
      '+@write',
      '+@scripting',
      '+@connection',
      '-@dangerous',
    );
    aclUsers.push(user);
    const env: Record<string, string> = { ...env0, REDIS_URL: `redis://${user}:${password}@127.0.0.1:6379` };
    await createTopics(env, 1);
    const taps = simulatedTaps(300, 5);
    const log = capture();
    const worker = await startWorkerFromConfig(configFor(env), createLogger('trace', log.stream));
    try {
      await worker.started;
      await sendAll(
        env['TOPIC_TAPS']!,
        taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      );
      const decisions = decodeAll('decision', await readAll(env['TOPIC_DECISIONS']!, taps.length));
      expect(new Set(decisions.map((d) => d.tap_id)).size).toBe(taps.length);
    } finally {
      await worker.stop();
    }
    expect(log.text()).not.toContain(password);
    const limited = new Redis(env['REDIS_URL']!);
    try {
      expect(await limited.set(`${prefix}probe`, '1')).toBe('OK');
      await expect(limited.set('outside-the-prefix', '1')).rejects.toThrow(/NOPERM/);
      await expect(limited.get(`${prefix.slice(0, -1)}x:other`)).rejects.toThrow(/NOPERM/);
      await expect(limited.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
      await expect(limited.call('CONFIG', 'GET', 'appendfsync')).rejects.toThrow(/NOPERM/);
    } finally {
      limited.disconnect();
    }
  }, 120_000);

  it('connects to Kafka with SASL/SCRAM-SHA-256, never logs the password, and names the cause of a wrong one', async () => {
    const sasl = {
      KAFKA_BROKERS: '127.0.0.1:9094',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'tapline',
    };
    const piiKey = `pii-${randomBytes(16).toString('hex')}`;
    const dataKey = randomBytes(32).toString('hex');
    const env = uniqueEnv('sasl', {
      ...sasl,
      KAFKA_SASL_PASSWORD: 'tapline-secret',
      TAPLINE_ENV: 'production',
      TAPLINE_PII_KEY: piiKey,
      TAPLINE_DATA_KEY: dataKey,
    });
    await createTopics(env, 1);
    const taps = simulatedTaps(100, 9);
    const log = capture();
    const worker = await startWorkerFromConfig(configFor(env), createLogger('trace', log.stream));
    try {
      await worker.started;
      await sendAll(
        env['TOPIC_TAPS']!,
        taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      );
      const decisions = decodeAll('decision', await readAll(env['TOPIC_DECISIONS']!, taps.length));
      expect(decisions.length).toBe(taps.length);
    } finally {
      await worker.stop();
    }
    const text = log.text();
    expect(text).toContain('worker started');
    for (const secret of ['tapline-secret', piiKey, dataKey]) expect(text).not.toContain(secret);

    const wrong = uniqueEnv('sasl-wrong', { ...sasl, KAFKA_SASL_PASSWORD: 'not-the-password' });
    const failure = await startWorkerFromConfig(configFor(wrong), silentLogger).then(
      async (w) => {
        await w.stop();
        return null;
      },
      (e: unknown) => e as Error & { code?: string },
    );
    expect(failure).not.toBeNull();
    expect(failure!.code).toBe('KAFKA_UNAVAILABLE');
    expect(failure!.message).toMatch(/SASL|authentication/i);
    expect(failure!.message).toContain('127.0.0.1:9094');
    expect(failure!.message).not.toContain('not-the-password');
  }, 120_000);

  it('gives analysts a ClickHouse user that can SELECT and cannot INSERT', async () => {
    const url = 'http://127.0.0.1:8123';
    const owner = createClient({ url });
    const db = `ro_${randomBytes(4).toString('hex')}`;
    await owner.command({ query: `CREATE DATABASE ${db}` });
    await owner.command({ query: `CREATE TABLE ${db}.t (a UInt8) ENGINE = Memory` });
    await owner.command({ query: `INSERT INTO ${db}.t VALUES (7)` });
    const ro = createClient({ url, username: 'tapline_ro', password: 'readonly-secret' });
    try {
      const rows = await (await ro.query({ query: `SELECT a FROM ${db}.t`, format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ a: 7 }]);
      await expect(ro.command({ query: `INSERT INTO ${db}.t VALUES (8)` })).rejects.toThrow(/readonly/i);
      await expect(ro.command({ query: `DROP TABLE ${db}.t` })).rejects.toThrow(/readonly/i);
      const wrong = createClient({ url, username: 'tapline_ro', password: 'nope' });
      await expect(wrong.query({ query: 'SELECT 1' })).rejects.toThrow(/password|authentic/i);
      await wrong.close();
      const after = await (
        await owner.query({ query: `SELECT count() AS n FROM ${db}.t`, format: 'JSONEachRow' })
      ).json();
      expect(after).toEqual([{ n: '1' }]);
    } finally {
      await owner.command({ query: `DROP DATABASE ${db}` });
      await ro.close();
      await owner.close();
    }
  }, 60_000);
});

describe('secrets', () => {
  it('stops `tapline run` in production without secrets, naming them, before connecting anywhere', () => {
    const env = { PATH: process.env['PATH'] ?? '', TAPLINE_ENV: 'production', KAFKA_BROKERS: '127.0.0.1:1' };
    const r = spawnSync(process.execPath, ['pipeline/cli.ts', 'run'], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('TAPLINE_PII_KEY');
    expect(r.stderr).toContain('TAPLINE_DATA_KEY');
    expect(r.stderr).not.toMatch(/KAFKA_UNAVAILABLE|Cannot reach Kafka/);
  });
});
