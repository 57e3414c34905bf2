/**
 * The sink end to end: real Kafka (unique topics and group per test) into chDB. Values are JSON with
 * a JSON decoder here, so the test covers batching, commits and replays independently of the Avro
 * codec; `tapline sink` plugs in schemas/codec.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../pipeline/config.ts';
import { TaplineError } from '../../../pipeline/errors.ts';
import { createKafka, ensureTopics } from '../../../pipeline/kafka.ts';
import { silentLogger } from '../../../pipeline/logger.ts';
import { startSink, type SinkDecoder, type SinkKind } from '../../../sinks/clickhouse/sink.ts';
import type { AnalystStore } from '../../../sinks/clickhouse/store.ts';
import { adjustment, alert, decision, tap } from './fixtures.ts';
import { chdbPathForFile, migratedStore, sinkTestNames } from './helpers.ts';

const path = chdbPathForFile();
const { config } = loadConfig({ TAPLINE_ENV: 'test' });
const kafka = createKafka(config, silentLogger, 'sink-test');
const producer = kafka.producer();
await producer.connect();
afterAll(() => producer.disconnect());

const jsonDecoder: SinkDecoder = (_kind, value) => JSON.parse(value.toString('utf8')) as unknown;

async function uniqueTopics(): Promise<{ topics: Record<SinkKind, string>; group: string }> {
  const names = sinkTestNames('sink');
  await ensureTopics(kafka, Object.values(names.topics), 2);
  return names;
}

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function counts(store: AnalystStore): Promise<Record<string, number>> {
  const rows = await store.query<{ t: string; raw: number; uniq: number }>(`
    SELECT 'taps' AS t, (SELECT count() FROM taps) AS raw, (SELECT count() FROM taps_unique) AS uniq
    UNION ALL SELECT 'adjustments', (SELECT count() FROM adjustments), (SELECT count() FROM adjustments_unique)
    UNION ALL SELECT 'decisions', (SELECT count() FROM decisions), (SELECT count() FROM decisions_unique)
    UNION ALL SELECT 'fraud_alerts', (SELECT count() FROM fraud_alerts), (SELECT count() FROM fraud_alerts_unique)`);
  return Object.fromEntries(
    rows.flatMap((r) => [
      [`${r.t}`, r.uniq],
      [`${r.t}_raw`, r.raw],
    ]),
  );
}

async function publish(topics: Record<SinkKind, string>, n: number): Promise<void> {
  const taps = Array.from({ length: n }, (_, i) => tap(`tap-${i}`, i % 30, { account_id: `acc-${i % 7}` }));
  const decisions = taps.map((t, i) =>
    decision(t, i % 10 === 0 ? 'REVIEW' : 'ALLOW', i % 10 === 0 ? ['account_burst'] : []),
  );
  const alerts = decisions.filter((d) => d.decision !== 'ALLOW').map((d, i) => alert(taps[i * 10]!, d));
  const adjustments = [
    adjustment('adj-1', taps[1]!, 'REFUND', 500),
    adjustment('adj-2', taps[2]!, 'UNPAID', 1000),
  ];
  const send = (topic: string, values: Array<{ tap_id: string }>) =>
    producer.send({
      topic,
      messages: values.map((v) => ({ key: v.tap_id, value: JSON.stringify(v) })),
    });
  await send(topics.tapEnriched, taps);
  await send(topics.decision, decisions);
  await send(topics.alert, alerts);
  await send(topics.adjustment, adjustments);
}

describe('tapline sink into chDB', () => {
  it('writes every record once, commits after the insert, and a replay changes no exact count', async () => {
    const store = await migratedStore(path);
    try {
      const { topics, group: groupId } = await uniqueTopics();
      await publish(topics, 500);
      // A record the decoder cannot read is counted and skipped, never blocks the partition.
      await producer.send({ topic: topics.decision, messages: [{ key: 'x', value: 'not json' }] });
      const expected = { taps: 500, decisions: 500, fraud_alerts: 50, adjustments: 2 };

      const sink = await startSink({
        config,
        logger: silentLogger,
        store,
        kafka,
        decode: jsonDecoder,
        topics,
        groupId,
        flushMs: 300,
      });
      // Waits on every topic: the four are fetched independently, and stopping early would leave one unread.
      const first = await until(
        () => counts(store),
        (c) => Object.entries(expected).every(([table, n]) => c[table] === n),
      );
      await sink.stop();
      expect(first).toMatchObject(expected);
      expect(first['taps_raw']).toBe(500);
      expect(sink.stats().undecodable).toBe(1);
      expect(sink.stats().rowsWritten).toBe(1052);

      // Same group again: offsets were committed, so nothing is read twice.
      const again = await startSink({
        config,
        logger: silentLogger,
        store,
        kafka,
        decode: jsonDecoder,
        topics,
        groupId,
        flushMs: 300,
      });
      await again.started;
      await new Promise((r) => setTimeout(r, 2_000));
      await again.stop();
      expect(again.stats().rowsWritten).toBe(0);

      // A new group replays everything (what a crash before the commit does, at worst): the raw
      // tables hold copies, the exact views and the rollups do not change.
      const hitsBefore = await store.query(
        'SELECT rule, sum(hits) AS hits FROM rule_hits_per_hour GROUP BY rule',
      );
      const replay = await startSink({
        config,
        logger: silentLogger,
        store,
        kafka,
        decode: jsonDecoder,
        topics,
        groupId: `${groupId}-replay`,
        flushMs: 300,
        batchRows: 97,
      });
      // Written rows, not table counts, tell when the replay is through: a batch dropped by its token
      // adds no row to any table.
      await until(
        async () => replay.stats().rowsWritten,
        (written) => written === 1052,
      );
      const after = await counts(store);
      await replay.stop();
      // Batches cut at other edges (batchRows 97) carry other tokens, so copies land in the raw tables;
      // a batch with the very same offset ranges (the two adjustments, most likely) is dropped by its token.
      expect(after).toMatchObject({ ...expected, taps_raw: 1000, decisions_raw: 1000 });
      expect(replay.stats().rowsWritten).toBe(1052);
      expect(
        await store.query('SELECT rule, sum(hits) AS hits FROM rule_hits_per_hour GROUP BY rule'),
      ).toEqual(hitsBefore);
      const devices = await store.query<{ accounts: number }>('SELECT accounts FROM device_accounts_per_day');
      expect(devices).toEqual([{ accounts: 7 }]);
    } finally {
      await store.close();
    }
  });

  it('keeps a retried insert once when its first attempt landed but the acknowledgement was lost', async () => {
    const store = await migratedStore(path);
    // Fault injection around the real chDB store: the first two inserts reach ClickHouse, then the
    // caller is told the connection dropped (what a reset after the server wrote the block looks like).
    let lostAcks = 0;
    const lossy: AnalystStore = {
      mode: store.mode,
      database: store.database,
      location: store.location,
      get dedupTokens() {
        return store.dedupTokens;
      },
      command: (sql, params) => store.command(sql, params),
      query: (sql, params) => store.query(sql, params),
      queryText: (sql, format) => store.queryText(sql, format),
      ping: () => store.ping(),
      close: () => store.close(),
      async insert(table, rows, options) {
        await store.insert(table, rows, options);
        if (lostAcks < 2) {
          lostAcks += 1;
          throw new TaplineError('CLICKHOUSE_UNAVAILABLE', 'connection reset after the insert (injected)', {
            canRetry: true,
          });
        }
      },
    };
    try {
      const { topics, group } = await uniqueTopics();
      await publish(topics, 300);
      const sink = await startSink({
        config,
        logger: silentLogger,
        store: lossy,
        kafka,
        decode: jsonDecoder,
        topics,
        groupId: group,
        flushMs: 300,
      });
      const landed = await until(
        () => counts(store),
        (c) => c['taps'] === 300 && c['decisions'] === 300 && c['fraud_alerts'] === 30,
      );
      await sink.stop();
      expect(lostAcks).toBe(2);
      expect(sink.stats().retries).toBeGreaterThanOrEqual(2);
      // Each retry is the same block with the same token, so ClickHouse kept it once: no raw copies.
      expect(landed).toMatchObject({ taps_raw: 300, decisions_raw: 300, fraud_alerts_raw: 30 });
    } finally {
      await store.close();
    }
  });
});
