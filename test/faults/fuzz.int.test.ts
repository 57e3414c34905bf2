// Hostile records on the input topics through a real worker (Kafka + Redis): it neither crashes nor
// stalls, and every record is accounted for: each valid tap decided exactly once, each producer
// duplicate publishes nothing, and every other record reaches the DLQ with a code, a reason and its
// original bytes (encrypted). FUZZ_RECORDS sets the size (default 100,000; FUZZ_SEED the seed).
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../pipeline/logger.ts';
import { startWorkerFromConfig } from '../../pipeline/wiring.ts';
import { decryptPayload } from '../../sinks/dlq.ts';
import { configFor, uniqueEnv } from '../support/pipelineEnv.ts';
import {
  createTopics,
  decodeAll,
  hostileAdjustments,
  hostileTaps,
  readAll,
  sendAll,
  sha,
  simulatedTaps,
} from './harness.ts';
import { fuzzFigures } from './figures.ts';

const records = Number(process.env['FUZZ_RECORDS'] ?? 100_000);
const seed = Number(process.env['FUZZ_SEED'] ?? 20261123);
const knownCodes = new Set(['DECODE_FAILED', 'VALIDATION_FAILED', 'UNKNOWN_SCHEMA_ID', 'TAP_UNKNOWN']);

describe('fuzz: hostile records on the topics through a real worker', () => {
  afterAll(() => fuzzFigures.print());

  it(`accounts for every one of ${records} hostile records`, async () => {
    // Adjustments whose tap never comes go to the DLQ at once instead of waiting 30 s each.
    const env = uniqueEnv('fuzz', { TAPLINE_ADJUSTMENT_WAIT_MS: '0' });
    await createTopics(env, 2);
    const config = configFor(env);
    const adjustmentCount = Math.floor(records / 20);
    const taps = hostileTaps(records - adjustmentCount, simulatedTaps(Math.ceil(records / 15), seed), seed);
    const adjustments = hostileAdjustments(adjustmentCount, seed + 1);
    const validTapIds = new Set(taps.filter((r) => r.kind === 'valid-sql-text').map((r) => r.tapId!));
    const duplicates = taps.filter((r) => r.kind === 'producer-duplicate').length;
    // Every record that is not a valid tap, a duplicate of one, or a valid adjustment of a missing tap
    // is refused; adjustments of missing taps are refused too (TAP_UNKNOWN), so all adjustments go.
    const refused = [...taps.filter((r) => r.tapId === undefined), ...adjustments];
    expect(validTapIds.size).toBeGreaterThan(records / 100);
    expect(duplicates).toBeGreaterThan(0);

    const started = Date.now();
    const worker = await startWorkerFromConfig(
      config,
      process.env['FUZZ_LOG'] ? createLogger('warn') : silentLogger,
    );
    try {
      await worker.started;
      await Promise.all([
        sendAll(
          env['TOPIC_TAPS']!,
          taps.map((r) => ({ key: r.key, value: r.value })),
        ),
        sendAll(
          env['TOPIC_ADJUSTMENTS']!,
          adjustments.map((r) => ({ key: r.key, value: r.value })),
        ),
      ]);
      const dlq = decodeAll('dlq', await readAll(env['TOPIC_DLQ']!, refused.length, 3000, 240_000));
      const decisions = decodeAll('decision', await readAll(env['TOPIC_DECISIONS']!, validTapIds.size));
      const seconds = (Date.now() - started) / 1000;
      // Still alive and in its group after all of it: no crash, no stall.
      expect(worker.ready()).toBe(true);

      // each valid tap decided exactly once; duplicates add nothing
      const decided = decisions.map((d) => d.tap_id);
      expect(new Set(decided).size).toBe(decided.length);
      expect(new Set(decided)).toEqual(validTapIds);

      // every refused record in the DLQ exactly once, with a reason and its own original bytes
      expect(dlq.length).toBe(refused.length);
      const wanted = new Map<string, number>();
      const adjustmentSet = new Set(adjustments);
      for (const r of refused) {
        const k = `${adjustmentSet.has(r) ? 'a' : 't'}:${sha(r.value)}`;
        wanted.set(k, (wanted.get(k) ?? 0) + 1);
      }
      const positions = new Set<string>();
      for (const d of dlq) {
        expect(knownCodes.has(d.code), d.code).toBe(true);
        expect(d.reason.length).toBeGreaterThan(0);
        positions.add(`${d.topic}/${d.partition}/${d.offset}`);
        const side = d.topic === env['TOPIC_TAPS'] ? 't' : 'a';
        const k = `${side}:${sha(decryptPayload(d.payload, config.secrets.dataKey!))}`;
        const left = wanted.get(k) ?? 0;
        expect(
          left,
          `DLQ payload of ${d.topic}/${d.offset} (${d.code}) matches no refused record`,
        ).toBeGreaterThan(0);
        wanted.set(k, left - 1);
      }
      expect(positions.size).toBe(dlq.length);

      // the worker's own counters agree: records in = decisions + duplicates + DLQ
      const metrics = await worker.metrics.registry.getMetricsAsJSON();
      const sum = (name: string, label?: [string, string]) =>
        metrics
          .find((m) => m.name === name)!
          .values.filter((v) => !label || v.labels[label[0]] === label[1])
          .reduce((a, v) => a + v.value, 0);
      const recordsIn = sum('tapline_records_in_total');
      const outDecided = ['allow', 'review', 'block'].reduce(
        (a, o) => a + sum('tapline_records_out_total', ['outcome', o]),
        0,
      );
      const outDuplicate = sum('tapline_records_out_total', ['outcome', 'duplicate']);
      const outRejected = sum('tapline_records_out_total', ['outcome', 'rejected']);
      expect(recordsIn).toBe(records);
      expect(outDecided).toBe(validTapIds.size);
      expect(outDuplicate).toBe(duplicates);
      expect(outRejected).toBe(refused.length);
      expect(outDecided + outDuplicate + outRejected).toBe(recordsIn);

      const byCode: Record<string, number> = {};
      for (const d of dlq) byCode[d.code] = (byCode[d.code] ?? 0) + 1;
      fuzzFigures.add('topics (worker)', {
        records,
        decisions: decided.length,
        duplicates,
        dlq: dlq.length,
        lost: records - decided.length - duplicates - dlq.length,
        seconds,
        byCode,
      });
    } finally {
      await worker.stop();
    }
  }, 420_000);
});
