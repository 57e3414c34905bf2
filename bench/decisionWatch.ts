/**
 * The two ends of an end-to-end measurement: a producer sending taps at a steady rate, and a consumer of
 * the decisions topic noting when each of its taps got its decision.
 *
 * Decisions are matched by tap_id found in the raw record bytes, not by decoding them: tap ids are
 * written as a run-unique prefix and a fixed-width number, which Avro (a length-prefixed UTF-8 string)
 * and JSON both carry verbatim, so the harness does not depend on the decision codec's schema.
 */
import type { Kafka, Message } from 'kafkajs';
import type { Tap } from '../schemas/types.ts';
import { ID_DIGITS, type TapEncoder } from './taps.ts';

export function tapIdPattern(prefix: string): RegExp {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${escaped}-\\d{${ID_DIGITS}}`, 'g');
}

/** Every bench tap id in a record's bytes (latin1 keeps each byte one character, so ASCII ids match). */
export function extractTapIds(value: Buffer, pattern: RegExp): string[] {
  return value.toString('latin1').match(pattern) ?? [];
}

export interface DecisionWatch {
  /** performance.now() at which each tap id's first decision was read. */
  seen: Map<string, number>;
  /** Resolves when every id in `ids` has a decision; rejects after `timeoutMs` saying how many are missing. */
  waitForAll(ids: readonly string[], timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts reading `topic` (read_committed, as the PG would) and resolves once the consumer has joined. */
export async function watchDecisions(
  kafka: Kafka,
  topic: string,
  groupId: string,
  prefix: string,
): Promise<DecisionWatch> {
  const pattern = tapIdPattern(prefix);
  const seen = new Map<string, number>();
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        if (m.value === null) continue;
        for (const id of extractTapIds(m.value, pattern)) if (!seen.has(id)) seen.set(id, now);
      }
    },
  });
  await joined;
  return {
    seen,
    async waitForAll(ids, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      // Polling keeps the consumer's hot path free of bookkeeping; 20 ms is far below any wait here.
      for (let from = 0; ;) {
        while (from < ids.length && seen.has(ids[from]!)) from++;
        if (from === ids.length) return;
        if (performance.now() > deadline) {
          const missing = ids.filter((id) => !seen.has(id)).length;
          throw new Error(`${missing} of ${ids.length} taps got no decision within ${timeoutMs / 1000} s`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}

export interface SteadySend {
  /** performance.now() just before each tap was handed to the producer. */
  sentAt: Map<string, number>;
  sent: number;
}

/**
 * Sends `rate` taps per second for `seconds`, in small batches on a 5 ms tick (what a PG's producers
 * look like to Kafka), event time set to the wall clock at sending. Resolves when all are acknowledged.
 */
export async function produceSteady(
  kafka: Kafka,
  topic: string,
  rate: number,
  seconds: number,
  nextTap: () => Tap,
  encode: TapEncoder,
): Promise<SteadySend> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const result: SteadySend = { sentAt: new Map(), sent: 0 };
  const pending = new Set<Promise<unknown>>();
  let failure: unknown;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
        const messages: Message[] = [];
        const at = performance.now();
        while (result.sent < due) {
          const tap = { ...nextTap(), occurred_at: Date.now() };
          result.sentAt.set(tap.tap_id, at);
          messages.push({ key: tap.account_id, value: encode(tap) });
          result.sent++;
        }
        if (messages.length > 0) {
          const p = producer.send({ topic, messages, acks: -1 }).catch((e: unknown) => (failure ??= e));
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
        if (result.sent >= total || failure !== undefined) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
    return result;
  } finally {
    await producer.disconnect();
  }
}
