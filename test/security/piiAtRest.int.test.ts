// No raw phone number at rest or in logs: after a worker + sink run over simulated taps (and hostile
// records that carry phone numbers into the DLQ), scan every Redis key and value under the run's
// prefix, every Kafka topic Tapline wrote, every ClickHouse table (through the sink into chDB) and the
// captured log output (trace level) for each phone number that went in, in E.164 and both national
// forms. IPs must not be in the logs either.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../pipeline/kafka.ts';
import { createLogger } from '../../pipeline/logger.ts';
import { startWorkerFromConfig } from '../../pipeline/wiring.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { startSink, type SinkDecoder } from '../../sinks/clickhouse/sink.ts';
import { openEmbeddedStore } from '../../sinks/clickhouse/store.ts';
import type { Tap } from '../../schemas/types.ts';
import { codec, createTopics, readAll, sendAll, simulatedTaps } from '../faults/harness.ts';
import { configFor, uniqueEnv } from '../support/pipelineEnv.ts';

const redis = new Redis('redis://127.0.0.1:6379');
afterAll(() => redis.disconnect());

/** The forms a number can be found in: E.164, 010-1234-5678 and 01012345678 (derived here, not by Tapline). */
function forms(msisdn: string): string[] {
  const digits = msisdn.replace(/\D/g, '');
  const national = digits.startsWith('82') ? `0${digits.slice(2)}` : digits;
  const dashed = `${national.slice(0, 3)}-${national.slice(3, national.length - 4)}-${national.slice(-4)}`;
  return [`+82${national.slice(1)}`, national, dashed];
}

async function redisText(prefix: string): Promise<{ keys: number; text: string }> {
  const parts: string[] = [];
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      keys++;
      parts.push(key);
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'zset') parts.push((await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\n'));
      else if (type === 'list') parts.push((await redis.lrange(key, 0, -1)).join('\n'));
      else if (type === 'set') parts.push((await redis.smembers(key)).join('\n'));
      else parts.push(`unscanned type ${type}`);
    }
  } while (cursor !== '0');
  return { keys, text: parts.join('\n') };
}

describe('security: phone numbers at rest and in logs', () => {
  it('searches every form of a number', () => {
    expect(forms('010-1234-5678')).toEqual(['+821012345678', '01012345678', '010-1234-5678']);
    expect(forms('+821012345678')).toEqual(['+821012345678', '01012345678', '010-1234-5678']);
  });

  it('finds no phone number in Redis, Kafka, ClickHouse or the logs, and no IP in the logs', async () => {
    const env = uniqueEnv('pii', { TAPLINE_ADJUSTMENT_WAIT_MS: '0', LOG_LEVEL: 'trace' });
    await createTopics(env, 2);
    const config = configFor(env);
    const taps = simulatedTaps(1500, 31);
    // Hostile taps that put a phone number where it does not belong: into fields validation refuses
    // (the DLQ reason must not echo it, the payload is encrypted).
    const hostile: Tap[] = taps.slice(0, 20).map((t, i) => {
      const n = t.msisdn;
      return i % 2 === 0 ? { ...t, ip: `${n} not an ip` } : { ...t, amount: -1, currency: n.slice(0, 3) };
    });
    const logs: string[] = [];
    const sinkOut = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger('trace', sinkOut);
    const worker = await startWorkerFromConfig(config, logger);
    const store = await openEmbeddedStore(config.clickhouse.chdbPath, 'pii_scan');
    await migrate(store, { retentionYears: 5 });
    const decode: SinkDecoder = (kind, value) => {
      const d = codec.decode(kind === 'adjustment' ? 'adjustmentApplied' : kind, value);
      if (!d.ok) throw new Error(d.reason);
      return d.value;
    };
    const sink = await startSink({
      config,
      logger,
      store,
      kafka: createKafka(config, logger, 'sink'),
      decode,
    });
    try {
      await worker.started;
      await sendAll(env['TOPIC_TAPS']!, [
        ...taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
        ...hostile.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
      ]);
      const topics: Record<string, number> = {
        TOPIC_DECISIONS: taps.length,
        TOPIC_TAPS_ENRICHED: taps.length,
        TOPIC_DLQ: hostile.length,
        TOPIC_ALERTS: 0,
        TOPIC_ADJUSTMENTS_ENRICHED: 0,
        TOPIC_ADJUSTMENTS_RETRY: 0,
      };
      const kafkaText: string[] = [];
      for (const [name, expected] of Object.entries(topics)) {
        const msgs = await readAll(env[name]!, expected, 1500, 120_000);
        if (name === 'TOPIC_DECISIONS') expect(msgs.length).toBe(taps.length);
        if (name === 'TOPIC_DLQ') expect(msgs.length).toBe(hostile.length);
        for (const m of msgs) kafkaText.push(`${m.key?.toString('latin1')}\n${m.value?.toString('latin1')}`);
      }
      // wait until the sink stored every tap
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const [row] = await store.query<{ n: number }>('SELECT count() AS n FROM pii_scan.taps');
        if (Number(row!.n) >= taps.length) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const tables = await store.query<{ name: string }>(
        "SELECT name FROM system.tables WHERE database = 'pii_scan' AND engine NOT LIKE '%View'",
      );
      expect(tables.length).toBeGreaterThanOrEqual(4);
      const chText: string[] = [];
      let chRows = 0;
      for (const { name } of tables) {
        const rows = await store.query(`SELECT * FROM pii_scan.\`${name}\``);
        chRows += rows.length;
        chText.push(JSON.stringify(rows));
      }
      expect(chRows).toBeGreaterThanOrEqual(taps.length * 2);

      await sink.stop();
      await worker.stop();
      const { keys, text: rText } = await redisText(config.redis.keyPrefix);
      expect(keys).toBeGreaterThan(100);
      const logText = logs.join('');
      expect(logText.length).toBeGreaterThan(0);

      const places = {
        redis: rText,
        kafka: kafkaText.join('\n'),
        clickhouse: chText.join('\n'),
        logs: logText,
      };
      const hits: string[] = [];
      for (const t of taps) {
        for (const form of forms(t.msisdn))
          for (const [place, text] of Object.entries(places))
            if (text.includes(form)) hits.push(`${place}: ${form}`);
        if (logText.includes(t.ip)) hits.push(`logs: ip ${t.ip}`);
      }
      expect(hits.slice(0, 10)).toEqual([]);
      // the scan can see: every tap id is in Kafka and ClickHouse (so an empty haystack cannot pass)
      for (const t of taps.slice(0, 50)) {
        expect(places.kafka).toContain(t.tap_id);
        expect(places.clickhouse).toContain(t.tap_id);
      }
    } finally {
      await sink.stop().catch(() => {});
      await worker.stop().catch(() => {});
      await store.close();
    }
  }, 300_000);
});
