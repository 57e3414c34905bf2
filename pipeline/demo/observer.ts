/**
 * Watches a demo run from the outside, as a downstream consumer would: a codec wrapper notes when each
 * tap is handed to the producer, and a read-committed consumer of the decisions and DLQ topics notes
 * when its decision becomes visible. Their difference is the produce → decision latency a client of
 * the decisions topic really sees (transactions included).
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { EventCodec } from '../../schemas/codec.ts';
import type { DecisionOutcome, Decision } from '../../schemas/types.ts';
import type { ScoredTap } from './quality.ts';

export interface ObservedDecisions {
  /** First decision per tap. */
  outcomes: Map<string, DecisionOutcome>;
  /** Decisions read, including duplicates and copies. */
  messages: number;
  /** Decisions flagged duplicate by the worker (a repeated tap). */
  duplicates: number;
  /** Taps decided more than once (not flagged duplicate): should stay 0 under exactly-once. */
  decidedTwice: number;
  dlq: number;
  latenciesMs: number[];
  firstSentAt: number | null;
  lastDecidedAt: number | null;
  rulesVersion: string | null;
}

export interface DemoObserver {
  /** The codec to hand to produceTraffic. */
  codec: EventCodec;
  taps: ScoredTap[];
  observed: ObservedDecisions;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function createDemoObserver(
  kafka: Kafka,
  inner: EventCodec,
  topics: { decisions: string; dlq: string },
  groupId: string,
  clock: () => number = Date.now,
): DemoObserver {
  const sentAt = new Map<string, number>();
  const taps: ScoredTap[] = [];
  const observed: ObservedDecisions = {
    outcomes: new Map(),
    messages: 0,
    duplicates: 0,
    decidedTwice: 0,
    dlq: 0,
    latenciesMs: [],
    firstSentAt: null,
    lastDecidedAt: null,
    rulesVersion: null,
  };
  const codec: EventCodec = {
    encode(kind, value) {
      const bytes = inner.encode(kind, value);
      if (kind === 'tap') {
        const tap = value as { tap_id: string; account_id: string; occurred_at: number };
        const now = clock();
        observed.firstSentAt ??= now;
        // Encoding happens right before the batch is sent (batches are rate/20 taps at most).
        sentAt.set(tap.tap_id, now);
        taps.push({ tap_id: tap.tap_id, account_id: tap.account_id, occurred_at: tap.occurred_at });
      }
      return bytes;
    },
    decode: (kind, buf) => inner.decode(kind, buf),
    prefetch: (bufs) => inner.prefetch(bufs),
  };

  let consumer: Consumer | null = null;
  return {
    codec,
    taps,
    observed,
    async start() {
      consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.decisions, topics.dlq], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const now = clock();
          if (batch.topic === topics.dlq) {
            observed.dlq += batch.messages.length;
            return;
          }
          for (const message of batch.messages) {
            if (!message.value) continue;
            const decoded = inner.decode('decision', message.value);
            if (!decoded.ok) continue;
            const d = decoded.value as Decision;
            observed.messages++;
            if (d.duplicate) {
              observed.duplicates++;
              continue;
            }
            if (observed.outcomes.has(d.tap_id)) {
              observed.decidedTwice++;
              continue;
            }
            observed.outcomes.set(d.tap_id, d.decision);
            observed.rulesVersion = d.rules_version;
            observed.lastDecidedAt = now;
            const sent = sentAt.get(d.tap_id);
            if (sent !== undefined) observed.latenciesMs.push(now - sent);
          }
        },
      });
    },
    async stop() {
      await consumer?.disconnect();
      consumer = null;
    },
  };
}

/** p50/p99/max of the observed latencies, or null when nothing was decided. */
export function latencySummary(
  latencies: readonly number[],
): { p50: number; p99: number; max: number } | null {
  if (latencies.length === 0) return null;
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
}
