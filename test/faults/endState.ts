// The end state of a faulted run against the no-fault run of the same stream (issue 11): every tap
// decided once, every window count, every ClickHouse row, every settlement figure identical. Four
// checks, the same for every fault test:
// 1. Kafka: each tap decided once (read_committed) with the reference's decision, each refund applied
//    once with its amount;
// 2. Redis: the state the worker left (windows, month sums, tap index, first decisions) equal, key by
//    key, to the same stream run without faults through the Redis store (test/support/redisState.ts);
// 3. ClickHouse: after a sink drained the run's topics (the run's own, or storeDrain.ts's in-process
//    one on chDB), each tap, decision, alert and refund stored once as analysts count them, and every
//    stored decision and refund equal to the reference;
// 4. settlement: every month the stream covers, settled from ClickHouse, equal figure for figure to
//    the offline settlement of the same taps and refunds (settleRecords, no store at all).
import { readFileSync } from 'node:fs';
import { inspect, isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';
import type { Adjustment, InputRecord, Tap } from '../../schemas/types.ts';
import { settleFromStore } from '../../settlement/clickhouseSource.ts';
import { parseContracts } from '../../settlement/contracts.ts';
import { settleRecords, type SourceItem } from '../../settlement/offline.ts';
import { periodOf } from '../../settlement/period.ts';
import type { AnalystStore } from '../../sinks/clickhouse/store.ts';
import { configFor } from '../support/pipelineEnv.ts';
import { outcomeOf, referenceDecisions, tallyDecisions } from '../support/referenceDecisions.ts';
import { deleteByPrefix } from '../../bench/redisKeys.ts';
import { redisState, referenceRedisState } from '../support/redisState.ts';
import { decodeAll, kafka, readAll } from './harness.ts';
import { drainIntoEmbeddedStore, storedCounts, type StoredCounts } from './storeDrain.ts';

/** What a fault test streamed: taps, then refunds of some of them (harness.ts `safeRefunds`). */
export interface FaultStream {
  env: Record<string, string>;
  taps: readonly Tap[];
  refunds: readonly Adjustment[];
  /** Each tap's `topic/partition/offset`; by default one partition holding the taps from offset 0. */
  tapSources?: readonly string[];
}

export interface NoFaultReference {
  /** By tap_id, "DECISION:rule,rule". */
  decisions: Map<string, string>;
  /** Redis keys (prefix removed) and values as test/support/redisState.ts reads them. */
  redis: Map<string, unknown>;
}

/**
 * The no-fault run of a stream: decisions of the detector in memory over the taps in order, and the
 * state the same stream leaves through the Redis store, run on `scratch` under a prefix of its own
 * (deleted once read). Cheap enough to run while the faults are injected.
 */
export async function noFaultReference(stream: FaultStream, scratch: Redis): Promise<NoFaultReference> {
  const config = configFor(stream.env);
  const pii = { key: config.secrets.piiKey!, version: config.secrets.piiKeyVersion };
  // Not under the worker's prefix, which a SCAN of the worker's state would match.
  const prefix = `${config.redis.keyPrefix.replace(/:$/, '')}-ref:`;
  const decisions = await referenceDecisions(stream.taps, pii);
  try {
    const redis = await referenceRedisState(scratch, prefix, stream.taps, pii, stream.env['TOPIC_TAPS']!, {
      ...(stream.tapSources ? { tapSources: stream.tapSources } : {}),
      adjustments: stream.refunds,
    });
    return { decisions, redis };
  } finally {
    await deleteByPrefix(scratch, prefix);
  }
}

export interface EndStateFigures {
  decided: number;
  lost: number;
  duplicates: number;
  refundsApplied: number;
  redisKeysCompared: number;
  stored: StoredCounts;
  settlementLines: number;
}

/** What the stream leaves in ClickHouse: each tap and decision, the reference's alerts, each refund. */
export function expectedCounts(stream: FaultStream, reference: NoFaultReference): StoredCounts {
  return {
    taps: stream.taps.length,
    decisions: stream.taps.length,
    fraud_alerts: [...reference.decisions.values()].filter((v) => !v.startsWith('ALLOW:')).length,
    adjustments: stream.refunds.length,
  };
}

const contracts = parseContracts(
  JSON.parse(readFileSync(new URL('../../pipeline/demo/contracts.json', import.meta.url), 'utf8')),
);

/**
 * Checks the four parts of the end state against the reference. `redis` is the worker's Redis, `client`
 * the run's broker (default the shared one). `store` is where a sink of the run drained the topics:
 * a store (the caller's to close), or a function giving one once the Kafka checks have shown the
 * topics complete (closed here, as is the chDB store the topics are drained into when `store` is
 * unset). `log`, the worker's log, goes with a failure of the Kafka checks.
 */
export async function expectNoFaultEndState(
  stream: FaultStream,
  pending: NoFaultReference | Promise<NoFaultReference>,
  where: {
    redis: Redis;
    client?: Kafka;
    store?: AnalystStore | (() => Promise<AnalystStore>);
    log?: () => string;
  },
): Promise<EndStateFigures> {
  const { env, taps, refunds } = stream;
  const client = where.client ?? kafka;

  // 1. Kafka.
  const decisions = decodeAll(
    'decision',
    await readAll(env['TOPIC_DECISIONS']!, taps.length, 3000, 240_000, client),
  );
  const applied = decodeAll(
    'adjustmentApplied',
    await readAll(env['TOPIC_ADJUSTMENTS_ENRICHED']!, refunds.length, 2000, 180_000, client),
  );
  const reference = await pending;
  const { outcomes: seen, duplicates } = tallyDecisions(decisions);
  expect(duplicates).toBe(0);
  const log = where.log?.() ?? '';
  expect(seen.size, log).toBe(taps.length);
  expect(seen).toEqual(reference.decisions);
  const refundAmounts = new Map(refunds.map((a) => [a.adjustment_id, a.amount]));
  const appliedIds = applied.map((a) => a.adjustment_id);
  const appliedOnce = new Set(appliedIds);
  expect(appliedIds.length - appliedOnce.size, 'refunds applied twice').toBe(0);
  const missing = refunds.filter((a) => !appliedOnce.has(a.adjustment_id));
  expect(
    missing.map((a) => a.adjustment_id),
    `refunds never applied; ${log}`,
  ).toEqual([]);
  expect(new Map(applied.map((a) => [a.adjustment_id, a.amount]))).toEqual(refundAmounts);

  // 2. Redis, once the worker has published everything (its Redis writes come before its commits).
  const config = configFor(env);
  const state = await redisState(where.redis, config.redis.keyPrefix);
  // A failure names the keys that differ: vitest's diff of two maps of ~17,000 keys is cut.
  const differing = [...new Set([...state.keys(), ...reference.redis.keys()])]
    .filter((k) => !isDeepStrictEqual(state.get(k), reference.redis.get(k)))
    .slice(0, 10)
    .map((k) => ({ key: k, worker: state.get(k), reference: reference.redis.get(k) }));
  expect(state.size).toBe(reference.redis.size);
  expect(state, `keys that differ (first 10): ${inspect(differing, { depth: 6 })}`).toEqual(reference.redis);

  // 3. ClickHouse.
  const expected = expectedCounts(stream, reference);
  const given = typeof where.store === 'object' ? where.store : undefined;
  const store =
    given ??
    (typeof where.store === 'function' ? await where.store() : await drainIntoEmbeddedStore(env, expected));
  try {
    const stored = await storedCounts(store);
    expect(stored).toEqual(expected);
    const storedDecisions = await store.query<{ tap_id: string; decision: string; rules: string[] }>(
      'SELECT tap_id, decision, rules FROM decisions_unique',
    );
    expect(new Map(storedDecisions.map((d) => [d.tap_id, outcomeOf(d)]))).toEqual(reference.decisions);
    const storedAlerts = await store.query<{ tap_id: string; decision: string; rules: string[] }>(
      'SELECT tap_id, decision, rules FROM fraud_alerts_unique',
    );
    for (const a of storedAlerts) expect(outcomeOf(a), a.tap_id).toBe(reference.decisions.get(a.tap_id));
    const storedRefunds = await store.query<{ adjustment_id: string; amount: number }>(
      'SELECT adjustment_id, amount FROM adjustments_unique',
    );
    expect(new Map(storedRefunds.map((a) => [a.adjustment_id, Number(a.amount)]))).toEqual(refundAmounts);
    const storedTaps = await store.query<{ tap_id: string }>('SELECT tap_id FROM taps_unique');
    expect(new Set(storedTaps.map((t) => t.tap_id))).toEqual(new Set(taps.map((t) => t.tap_id)));

    // 4. Settlement of every month the stream covers.
    const records: InputRecord[] = [
      ...taps.map((t): InputRecord => ({ type: 'tap', ...t })),
      ...refunds.map((a): InputRecord => ({ type: 'adjustment', ...a })),
    ];
    const items: SourceItem[] = records.map((record, i) => ({ lineNo: i + 1, record }));
    const periods = new Map(records.map((r) => [periodOf(r.occurred_at).id, periodOf(r.occurred_at)]));
    let settlementLines = 0;
    let settledTaps = 0;
    let settledRefunds = 0;
    for (const period of periods.values()) {
      const fromStore = await settleFromStore(store, { period, contracts, opening: [] });
      const fromFile = await settleRecords(items, { period, contracts, opening: [], generatedFrom: 'file' });
      expect({ ...fromStore.statement, generated_from: '' }, period.id).toEqual({
        ...fromFile.statement,
        generated_from: '',
      });
      settlementLines += fromStore.statement.lines.length;
      settledTaps += fromStore.counts.taps;
      settledRefunds += fromStore.counts.adjustmentsApplied;
    }
    // Every approved tap and every refund moved money in some month (declined and failed ones do not).
    expect(settledTaps).toBe(taps.filter((t) => t.status === 'APPROVED').length);
    expect(settledRefunds).toBe(refunds.length);
    expect(settlementLines).toBeGreaterThan(0);
    return {
      decided: seen.size,
      lost: taps.length - seen.size + refunds.length - appliedOnce.size,
      duplicates,
      refundsApplied: applied.length,
      redisKeysCompared: state.size,
      stored,
      settlementLines,
    };
  } finally {
    if (!given) await store.close();
  }
}
