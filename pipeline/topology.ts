/**
 * The one place where the streaming topology is wired. Every stage has a stable id:
 *
 *   decode ──► enrich ──► detect ──► route ──► (decisions, fraud-alerts, taps-enriched,
 *     │          │          │                   adjustments-enriched, adjustments-retry)
 *     └──────────┴──────────┴──► dlq (original bytes encrypted, position, code, reason)
 *
 * A tap is decoded and enriched inside detect, as the detector reaches it (DetectInput's `prepare`), so
 * that the work overlaps the store's on the taps before it; a tap either refuses still goes to the DLQ.
 * `processBatches` is deterministic given the stages: consumed records in, messages to produce out.
 * The worker (pipeline/worker.ts) produces them in one Kafka transaction with the consumed offsets.
 * Records in = decisions + duplicates + adjustments applied + pending retries + rejects (DLQ).
 */
import type {
  Adjustment,
  Alert,
  AppliedAdjustment,
  Decision,
  EnrichedTap,
  InputRecord,
} from '../schemas/types.ts';

export type { AppliedAdjustment };
import type { ErrorCode } from './errors.ts';
import type { WorkerMetrics } from './metrics.ts';

export const stageIds = ['decode', 'enrich', 'detect', 'route', 'dlq'] as const;
export type StageId = (typeof stageIds)[number];

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka record timestamp (ms): when the producer wrote it. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** For records of the retry topic: when they may be tried again, and when first seen. */
  notBefore: number;
  firstSeen: number;
}

export interface OutputMessage {
  topic: string;
  key: string | null;
  value: Buffer;
  headers?: Record<string, string>;
}

export type Rejection = { ok: false; code: ErrorCode; reason: string };
/** A tap decoded and enriched, or why not. */
export type PreparedTap = { ok: true; tap: EnrichedTap } | Rejection;

export type DetectInput =
  /**
   * A tap decoded (when read from the taps topic) and enriched by `prepare` only when detection reaches
   * it: with a store that takes a batch's parts one at a time, that work overlaps the store's on the
   * taps before it. A tap decode or enrich refuses comes back as a `rejected` outcome with its code and
   * reason.
   */
  | { kind: 'tap'; prepare: () => PreparedTap; source: SourcePosition }
  | { kind: 'adjustment'; adjustment: Adjustment; source: SourcePosition };

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

export type DetectOutcome =
  | { kind: 'decision'; decision: Decision; tap: EnrichedTap; replay: boolean }
  | { kind: 'applied'; adjustment: AppliedAdjustment; duplicate?: boolean }
  | { kind: 'pending'; reason?: string }
  | { kind: 'rejected'; code: ErrorCode; reason: string };

/** The stages, plugged in by pipeline/wiring.ts from schemas/, operators/ and sinks/. */
export interface Stages {
  decode(record: ConsumedRecord): { ok: true; record: InputRecord } | Rejection;
  enrich(tap: InputRecord & { type: 'tap' }): PreparedTap;
  detect(inputs: DetectInput[]): Promise<DetectOutcome[]>;
  encodeDecision(d: Decision): Buffer;
  encodeAlert(a: Alert): Buffer;
  encodeEnrichedTap(t: EnrichedTap): Buffer;
  encodeAppliedAdjustment(a: AppliedAdjustment): Buffer;
  encodeDlq(record: ConsumedRecord, code: ErrorCode, reason: string): Buffer;
}

export interface TopologyTopics {
  taps: string;
  adjustments: string;
  decisions: string;
  alerts: string;
  dlq: string;
  tapsEnriched: string;
  adjustmentsEnriched: string;
  adjustmentsRetry: string;
}

export interface BatchOutput {
  messages: OutputMessage[];
  /** Consumed records that got a (non-duplicate) decision, for latency metrics. */
  decided: ConsumedRecord[];
}

export interface Topology {
  /**
   * Batches decided together: one detect call over their records in order (as if one batch), each
   * batch's messages apart, in the order its records came.
   */
  processBatches(batches: ConsumedRecord[][]): Promise<BatchOutput[]>;
}

export interface TopologyOptions {
  stages: Stages;
  topics: TopologyTopics;
  metrics?: WorkerMetrics;
  /** How long an adjustment waits for its tap before the DLQ (ms). */
  adjustmentWaitMs: number;
  /** Pause between retries of a waiting adjustment (ms). */
  retryIntervalMs?: number;
  clock?: () => number;
}

export function createTopology(options: TopologyOptions): Topology {
  const { stages, topics, metrics } = options;
  const clock = options.clock ?? Date.now;
  const retryInterval = options.retryIntervalMs ?? 1_000;

  return {
    async processBatches(batches) {
      const outputs: BatchOutput[] = batches.map(() => ({ messages: [], decided: [] }));
      const toDlq = (out: BatchOutput, record: ConsumedRecord, code: ErrorCode, reason: string) => {
        metrics?.dlq.inc({ code });
        metrics?.recordsOut.inc({ outcome: 'rejected' });
        out.messages.push({
          topic: topics.dlq,
          key: `${record.topic}/${record.partition}/${record.offset}`,
          value: stages.encodeDlq(record, code, reason),
        });
      };

      // A tap (a record of the taps topic) is decoded and enriched by its `prepare`, when detect
      // reaches it; adjustments are decoded here, as detect looks their taps up before anything else.
      const prepareTap = (record: ConsumedRecord) => (): PreparedTap => {
        const decoded = stages.decode(record);
        if (!decoded.ok) return decoded;
        if (decoded.record.type !== 'tap')
          return { ok: false, code: 'DECODE_FAILED', reason: `an ${decoded.record.type} on the taps topic` };
        return stages.enrich(decoded.record);
      };
      const inputs: DetectInput[] = [];
      const inputRecords: ConsumedRecord[] = [];
      /** The output of each input's batch. */
      const inputOutputs: BatchOutput[] = [];
      batches.forEach((records, b) => {
        const out = outputs[b]!;
        for (const record of records) {
          const source = { topic: record.topic, partition: record.partition, offset: record.offset };
          if (record.topic === topics.taps) inputs.push({ kind: 'tap', prepare: prepareTap(record), source });
          else {
            const decoded = stages.decode(record);
            if (!decoded.ok) {
              toDlq(out, record, decoded.code, decoded.reason);
              continue;
            }
            if (decoded.record.type === 'tap') {
              const tap = decoded.record;
              inputs.push({ kind: 'tap', prepare: () => stages.enrich(tap), source });
            } else {
              const { type: _type, ...adjustment } = decoded.record;
              inputs.push({ kind: 'adjustment', adjustment, source });
            }
          }
          inputRecords.push(record);
          inputOutputs.push(out);
        }
      });

      // detect (one pipelined Redis round trip for all the batches)
      const outcomes = inputs.length > 0 ? await stages.detect(inputs) : [];

      // route
      outcomes.forEach((outcome, i) => {
        const record = inputRecords[i]!;
        const input = inputs[i]!;
        const out = inputOutputs[i]!;
        const { messages, decided } = out;
        switch (outcome.kind) {
          case 'decision': {
            const d = outcome.decision;
            if (d.duplicate) {
              // A producer duplicate: no new decision or alert on Kafka (DESIGN.md).
              metrics?.recordsOut.inc({ outcome: 'duplicate' });
              return;
            }
            const t = outcome.tap;
            metrics?.recordsOut.inc({ outcome: d.decision.toLowerCase() });
            for (const rule of d.rules) metrics?.ruleHits.inc({ rule });
            messages.push({ topic: topics.decisions, key: t.account_id, value: stages.encodeDecision(d) });
            if (d.decision !== 'ALLOW') {
              const alert: Alert = {
                ...d,
                account_id: t.account_id,
                platform_id: t.platform_id,
                amount: t.amount,
                currency: t.currency,
                occurred_at: t.occurred_at,
              };
              messages.push({ topic: topics.alerts, key: t.account_id, value: stages.encodeAlert(alert) });
            }
            messages.push({
              topic: topics.tapsEnriched,
              key: t.account_id,
              value: stages.encodeEnrichedTap(t),
            });
            if (record.topic !== topics.adjustmentsRetry) decided.push(record);
            return;
          }
          case 'applied':
            if (outcome.duplicate) {
              // The same adjustment_id again: already applied and published once.
              metrics?.recordsOut.inc({ outcome: 'duplicate' });
              return;
            }
            metrics?.recordsOut.inc({ outcome: 'adjustment' });
            messages.push({
              topic: topics.adjustmentsEnriched,
              key: outcome.adjustment.tap_id,
              value: stages.encodeAppliedAdjustment(outcome.adjustment),
            });
            return;
          case 'pending': {
            const now = clock();
            const firstSeen =
              record.topic === topics.adjustmentsRetry && record.firstSeen > 0 ? record.firstSeen : now;
            if (now - firstSeen >= options.adjustmentWaitMs) {
              const tapId = input.kind === 'adjustment' ? input.adjustment.tap_id : '?';
              toDlq(
                out,
                record,
                'TAP_UNKNOWN',
                `adjustment's tap ${tapId} is unknown after waiting ${options.adjustmentWaitMs} ms ` +
                  `(TAPLINE_ADJUSTMENT_WAIT_MS); replay it once the tap is in the taps topic`,
              );
              return;
            }
            metrics?.recordsOut.inc({ outcome: 'pending' });
            messages.push({
              topic: topics.adjustmentsRetry,
              key: record.key?.toString() ?? null,
              value: record.value!,
              headers: {
                'tapline-first-seen': String(firstSeen),
                'tapline-not-before': String(now + retryInterval),
              },
            });
            return;
          }
          case 'rejected':
            toDlq(out, record, outcome.code, outcome.reason);
            return;
        }
      });
      return outputs;
    },
  };
}
