// A fault run's topics drained into ClickHouse after the fault, by the sink of `tapline sink` running
// in this process on embedded chDB: one sink per run, started once the worker has decided everything,
// so the ClickHouse and settlement checks of the end state add seconds to a fault test, not a process
// per kill. chDB binds one data directory per process, so every run of a test file shares one path
// and gets a database of its own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecDecoder } from '../../pipeline/commands/sink.ts';
import { createKafka } from '../../pipeline/kafka.ts';
import { silentLogger } from '../../pipeline/logger.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { startSink } from '../../sinks/clickhouse/sink.ts';
import { openEmbeddedStore, type AnalystStore } from '../../sinks/clickhouse/store.ts';
import { configFor } from '../support/pipelineEnv.ts';

/** How many events of each kind a run must leave in ClickHouse, each once. */
export interface StoredCounts {
  taps: number;
  decisions: number;
  fraud_alerts: number;
  adjustments: number;
}

let chdbPath: string | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each event counted once, as analysts count them (the `_unique` views fold a replay's copies). */
export async function storedCounts(store: AnalystStore): Promise<StoredCounts> {
  const [row] = await store.query<Record<keyof StoredCounts, number>>(
    `SELECT (SELECT count() FROM taps_unique) AS taps, (SELECT count() FROM decisions_unique) AS decisions,
            (SELECT count() FROM fraud_alerts_unique) AS fraud_alerts,
            (SELECT count() FROM adjustments_unique) AS adjustments`,
  );
  return {
    taps: Number(row!.taps),
    decisions: Number(row!.decisions),
    fraud_alerts: Number(row!.fraud_alerts),
    adjustments: Number(row!.adjustments),
  };
}

/**
 * Runs the sink over the run's four output topics (a consumer group of its own, from the beginning)
 * into a fresh chDB database until every expected event is stored and nothing more arrives, then
 * stops it. The caller closes the store. A sink that stalls short of `expected` fails with the counts
 * it reached.
 */
export async function drainIntoEmbeddedStore(
  env: Record<string, string>,
  expected: StoredCounts,
  timeoutMs = 180_000,
): Promise<AnalystStore> {
  const config = configFor(env);
  chdbPath ??= join(mkdtempSync(join(tmpdir(), 'tapline-endstate-')), 'data');
  const store = await openEmbeddedStore(chdbPath, `endstate_${randomBytes(4).toString('hex')}`);
  try {
    await migrate(store, { retentionYears: config.clickhouse.retentionYears });
    const sink = await startSink({
      config,
      logger: silentLogger,
      store,
      kafka: createKafka(config, silentLogger, 'endstate-sink'),
      decode: codecDecoder(),
      flushMs: 300,
      groupId: `${config.kafka.sinkGroup}.endstate`,
    });
    try {
      const since = Date.now();
      let counts = await storedCounts(store);
      const complete = (c: StoredCounts) =>
        (Object.keys(expected) as (keyof StoredCounts)[]).every((k) => c[k] >= expected[k]);
      while (!complete(counts)) {
        if (Date.now() - since > timeoutMs)
          throw new Error(
            `the sink stored ${JSON.stringify(counts)} of ${JSON.stringify(expected)} in ${timeoutMs / 1000} s`,
          );
        await sleep(300);
        counts = await storedCounts(store);
      }
      // A late extra row (a duplicate the views would not fold) would land now.
      let written = sink.stats().rowsWritten;
      while (Date.now() - since < timeoutMs) {
        await sleep(1000);
        const now = sink.stats();
        if (now.rowsWritten === written && now.pendingRows === 0) break;
        written = now.rowsWritten;
      }
    } finally {
      await sink.stop();
    }
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}
