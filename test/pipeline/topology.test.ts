/**
 * The topology's routing of batches decided together: one detect call over every batch's records in
 * order, and each batch's messages kept apart. Stages are small stand-ins (JSON values, an
 * outcome chosen by tap_id), so what is tested is the topology's bookkeeping, not the detectors.
 */
import { describe, expect, it } from 'vitest';
import {
  createTopology,
  type ConsumedRecord,
  type DetectInput,
  type DetectOutcome,
  type Stages,
} from '../../pipeline/topology.ts';
import type { EnrichedTap } from '../../schemas/types.ts';

const topics = {
  taps: 'taps',
  adjustments: 'adjustments',
  decisions: 'decisions',
  alerts: 'alerts',
  dlq: 'dlq',
  tapsEnriched: 'taps-enriched',
  adjustmentsEnriched: 'adjustments-enriched',
  adjustmentsRetry: 'adjustments-retry',
};

function record(partition: number, offset: number, value: string, topic = 'taps'): ConsumedRecord {
  return {
    topic,
    partition,
    offset: String(offset),
    timestamp: 0,
    key: null,
    value: Buffer.from(value),
    notBefore: 0,
    firstSeen: 0,
  };
}

const tapJson = (id: string) => JSON.stringify({ tap_id: id, account_id: `acc-${id}` });

function stagesWith(detectCalls: DetectInput[][]): Stages {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  return {
    decode(r) {
      try {
        return { ok: true, record: { type: 'tap', ...JSON.parse(r.value!.toString()) } as never };
      } catch {
        return { ok: false, code: 'DECODE_FAILED', reason: 'not JSON' };
      }
    },
    enrich(tap) {
      const { type: _type, ...rest } = tap as unknown as { type: string; tap_id: string };
      if (rest.tap_id.startsWith('invalid'))
        return { ok: false, code: 'VALIDATION_FAILED', reason: 'invalid tap' };
      return { ok: true, tap: rest as unknown as EnrichedTap };
    },
    async detect(inputs) {
      detectCalls.push(inputs);
      return inputs.map((input): DetectOutcome => {
        const prepared = (input as Extract<DetectInput, { kind: 'tap' }>).prepare();
        if (!prepared.ok) return { kind: 'rejected', code: prepared.code, reason: prepared.reason };
        const tap = prepared.tap;
        if (tap.tap_id.startsWith('conflict'))
          return { kind: 'rejected', code: 'DUPLICATE_CONFLICT', reason: 'conflict' };
        const decision = tap.tap_id.startsWith('block') ? 'BLOCK' : 'ALLOW';
        return {
          kind: 'decision',
          decision: {
            tap_id: tap.tap_id,
            decision,
            rules: [],
            reasons: [],
            rules_version: 'v',
            geo_db: 'g',
            decided_at: 0,
          },
          tap,
          replay: false,
        };
      });
    },
    encodeDecision: (d) => json({ decision: d.tap_id }),
    encodeAlert: (a) => json({ alert: a.tap_id }),
    encodeEnrichedTap: (t) => json({ enriched: t.tap_id }),
    encodeAppliedAdjustment: (a) => json({ applied: a.adjustment_id }),
    encodeDlq: (r) => json({ dlq: `${r.partition}/${r.offset}` }),
  };
}

describe('topology: batches decided together', () => {
  it('makes one detect call over every batch in order, and gives each batch its own messages', async () => {
    const detectCalls: DetectInput[][] = [];
    const topology = createTopology({ stages: stagesWith(detectCalls), topics, adjustmentWaitMs: 60_000 });
    const batches = [
      [record(0, 10, tapJson('a1')), record(0, 11, 'garbage'), record(0, 12, tapJson('block-a3'))],
      [record(1, 20, tapJson('invalid-b1')), record(1, 21, tapJson('b2'))],
      [record(2, 30, tapJson('conflict-c1'))],
    ];
    const outputs = await topology.processBatches(batches);

    expect(detectCalls).toHaveLength(1);
    // Every record of the taps topic goes to detect, which decodes and enriches it (`prepare`): the
    // ones decode or enrich refuses too, and they come back rejected, to the DLQ in their place.
    const tapIds = detectCalls[0]!.map((i) => {
      const prepared = (i as Extract<DetectInput, { kind: 'tap' }>).prepare();
      return prepared.ok ? prepared.tap.tap_id : `refused: ${prepared.reason}`;
    });
    expect(tapIds).toEqual([
      'a1',
      'refused: not JSON',
      'block-a3',
      'refused: invalid tap',
      'b2',
      'conflict-c1',
    ]);
    const shown = outputs.map((o) => o.messages.map((m) => `${m.topic} ${m.value.toString()}`));
    expect(shown).toEqual([
      [
        'decisions {"decision":"a1"}',
        'taps-enriched {"enriched":"a1"}',
        'dlq {"dlq":"0/11"}',
        'decisions {"decision":"block-a3"}',
        'alerts {"alert":"block-a3"}',
        'taps-enriched {"enriched":"block-a3"}',
      ],
      ['dlq {"dlq":"1/20"}', 'decisions {"decision":"b2"}', 'taps-enriched {"enriched":"b2"}'],
      ['dlq {"dlq":"2/30"}'],
    ]);
    expect(outputs.map((o) => o.decided.map((r) => `${r.partition}/${r.offset}`))).toEqual([
      ['0/10', '0/12'],
      ['1/21'],
      [],
    ]);
  });

  it('answers batches with nothing to detect without calling detect', async () => {
    const detectCalls: DetectInput[][] = [];
    const topology = createTopology({ stages: stagesWith(detectCalls), topics, adjustmentWaitMs: 60_000 });
    // An adjustment is decoded before detect (detect looks its tap up first): this one never gets there.
    const outputs = await topology.processBatches([[record(0, 1, 'garbage', 'adjustments')], []]);
    expect(detectCalls).toHaveLength(0);
    expect(outputs.map((o) => o.messages.length)).toEqual([1, 0]);
  });
});
