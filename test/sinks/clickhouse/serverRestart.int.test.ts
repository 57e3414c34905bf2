/**
 * The sink's HTTP transport across a server crash: a PRIVATE clickhouse-server (18.16, its own ports
 * and data dir; the shared one on 8123 is never touched) is killed while the sink runs and records keep
 * arriving, then started again on the same data. The sink must retry with backoff, hold no more than
 * maxBufferedRows while it waits (consumption pauses: the rest stays on Kafka), commit no offset until
 * ClickHouse acknowledged, and end with every row exactly once. A permanent error (a table gone) stops
 * the sink's writes and commits instead of skipping rows, and the next run lands them.
 *
 * 18.16 has no insert dedup token and the tables are plain MergeTree, so a duplicate would show in
 * count(); the crash is injected between inserts (the previous rows acknowledged), which is the case
 * this server can make exact. An insert lost in flight is the dedup token's job (schema.int.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../pipeline/config.ts';
import { createKafka, ensureTopics } from '../../../pipeline/kafka.ts';
import { silentLogger } from '../../../pipeline/logger.ts';
import { startSink, type SinkDecoder, type SinkKind } from '../../../sinks/clickhouse/sink.ts';
import { openServerStore } from '../../../sinks/clickhouse/store.ts';
import {
  createPlainEventTables,
  privateClickHouseErrors,
  startPrivateClickHouse,
} from '../../support/privateClickHouse.ts';
import { decision, tap } from './fixtures.ts';
import { sinkTestNames } from './helpers.ts';

const { config } = loadConfig({ TAPLINE_ENV: 'test' });
const kafka = createKafka(config, silentLogger, 'sink-restart-test');
const producer = kafka.producer();
const admin = kafka.admin();
await producer.connect();
await admin.connect();
const server = await startPrivateClickHouse('ch-restart');
afterAll(async () => {
  await producer.disconnect();
  await admin.disconnect();
  await server.destroy();
});

const jsonDecoder: SinkDecoder = (_kind, value) => JSON.parse(value.toString('utf8')) as unknown;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Records per topic the group has committed, and the topics' end offsets, summed over partitions. */
async function positions(groupId: string, topics: string[]): Promise<{ committed: number; end: number }> {
  let committed = 0;
  let end = 0;
  for (const entry of await admin.fetchOffsets({ groupId, topics }))
    for (const p of entry.partitions) committed += Math.max(0, Number(p.offset));
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) end += Number(p.high);
  return { committed, end };
}

/** Publishes taps `tap-<from>`... and their ALLOW decisions, in chunks of 1,000. */
async function publish(topics: Record<SinkKind, string>, from: number, n: number): Promise<void> {
  const taps = Array.from({ length: n }, (_, i) => tap(`tap-${from + i}`, (from + i) % 600));
  for (let i = 0; i < taps.length; i += 1000) {
    const chunk = taps.slice(i, i + 1000);
    await producer.send({
      topic: topics.tapEnriched,
      messages: chunk.map((t) => ({ key: t.tap_id, value: JSON.stringify(t) })),
    });
    await producer.send({
      topic: topics.decision,
      messages: chunk.map((t) => ({ key: t.tap_id, value: JSON.stringify(decision(t, 'ALLOW')) })),
    });
  }
}

function openStore(database: string) {
  return openServerStore({
    url: server.url,
    user: 'default',
    password: '',
    database,
    createDatabase: false,
    requestTimeoutMs: 5_000,
  });
}

describe('tapline sink against a ClickHouse server that crashes and restarts', () => {
  it('retries, holds at most maxBufferedRows, commits only acknowledged rows, and lands each row once', async () => {
    const database = 'tl_restart';
    await createPlainEventTables(server, database);
    const { topics, group: groupId } = sinkTestNames('restart');
    await ensureTopics(kafka, Object.values(topics), 2);
    const store = await openStore(database);
    const maxBufferedRows = 1_000;
    const sink = await startSink({
      config,
      logger: silentLogger,
      store,
      kafka,
      decode: jsonDecoder,
      topics,
      groupId,
      batchRows: 250,
      flushMs: 200,
      maxBufferedRows,
    });
    const watched = [topics.tapEnriched, topics.decision];
    try {
      // Before the crash: 1,500 taps and their decisions written and committed.
      await publish(topics, 0, 1_500);
      await until('the first 3,000 rows', () => sink.stats().rowsWritten === 3_000);
      await until('the first commit', async () => (await positions(groupId, watched)).committed === 3_000);
      expect(store.dedupTokens).toBe(false); // 18.16: the token setting does not exist there

      await server.stop('SIGKILL');
      // While it is down: six times the bound arrives on Kafka.
      await publish(topics, 1_500, 3_000);
      await until('the sink to retry a few times', () => sink.stats().retries >= 4, 30_000);
      await sleep(2_000);
      const down = sink.stats();
      const during = await positions(groupId, watched);
      expect(down.rowsWritten).toBe(3_000);
      expect(down.pendingRows).toBeGreaterThan(0);
      expect(down.pendingRows).toBeLessThanOrEqual(maxBufferedRows);
      expect(down.maxPendingRows).toBeLessThanOrEqual(maxBufferedRows);
      // Nothing committed past what ClickHouse acknowledged; the backlog waits on Kafka, not in memory.
      expect(during).toEqual({ committed: 3_000, end: 9_000 });

      await server.start();
      await until('the sink to catch up', () => sink.stats().rowsWritten === 9_000, 90_000);
      await until('the last commit', async () => (await positions(groupId, watched)).committed === 9_000);
      const counts = await server.sql(
        `SELECT (SELECT count() FROM ${database}.taps), (SELECT uniqExact(tap_id) FROM ${database}.taps),
                (SELECT count() FROM ${database}.decisions), (SELECT uniqExact(tap_id) FROM ${database}.decisions)
         FORMAT TSV`,
      );
      expect(counts.trim(), privateClickHouseErrors(server)).toBe('4500\t4500\t4500\t4500');
      const final = sink.stats();
      expect(final.maxPendingRows).toBeLessThanOrEqual(maxBufferedRows);
      expect(final.retries).toBeGreaterThanOrEqual(4);
    } finally {
      await sink.stop();
      await store.close();
    }
  }, 180_000);

  it('stops writing and committing at a permanent error, and a run after the fix lands every row', async () => {
    const database = 'tl_permanent';
    await createPlainEventTables(server, database);
    const { topics, group: groupId } = sinkTestNames('permanent');
    await ensureTopics(kafka, Object.values(topics), 2);
    const watched = [topics.tapEnriched, topics.decision];
    const store = await openStore(database);
    const options = {
      config,
      logger: silentLogger,
      store,
      kafka,
      decode: jsonDecoder,
      topics,
      groupId,
      batchRows: 250,
      flushMs: 200,
    };
    try {
      const sink = await startSink(options);
      await publish(topics, 0, 1_000);
      await until('the first commit', async () => (await positions(groupId, watched)).committed === 2_000);

      // The decisions table goes away: its inserts fail with a permanent error, not retried.
      await server.sql(`RENAME TABLE ${database}.decisions TO ${database}.decisions_away`);
      await publish(topics, 1_000, 1_000);
      const failure = await Promise.race([sink.failed, sleep(30_000).then(() => undefined)]);
      expect(failure).toMatchObject({ code: 'CLICKHOUSE_QUERY', canRetry: false });
      expect(failure?.message).toMatch(/^ClickHouse at http:\/\/127\.0\.0\.1:\d+ rejected the query: /);
      // No decision past the failed insert is committed, and nothing at all after the failure.
      expect(await positions(groupId, [topics.decision])).toEqual({ committed: 1_000, end: 2_000 });
      const atFailure = await positions(groupId, watched);
      await publish(topics, 2_000, 500);
      await sleep(1_500);
      expect(await positions(groupId, watched)).toEqual({ ...atFailure, end: 5_000 });
      await expect(sink.stop()).rejects.toBe(failure);

      // Fixed: the next run reads the uncommitted records again and lands every one.
      await server.sql(`RENAME TABLE ${database}.decisions_away TO ${database}.decisions`);
      const next = await startSink(options);
      try {
        await until(
          'the catch-up commit',
          async () => (await positions(groupId, watched)).committed === 5_000,
        );
      } finally {
        await next.stop();
      }
      const counts = await server.sql(
        `SELECT (SELECT uniqExact(tap_id) FROM ${database}.taps),
                (SELECT count() FROM ${database}.decisions), (SELECT uniqExact(tap_id) FROM ${database}.decisions)
         FORMAT TSV`,
      );
      // taps rows of the failed flush that did land are written again (18.16 has no dedup token).
      expect(counts.trim()).toBe('2500\t2500\t2500');
    } finally {
      await store.close();
    }
  }, 120_000);
});
