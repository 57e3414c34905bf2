/**
 * The event contracts of DESIGN.md as TypeScript types. Field names are snake_case everywhere
 * (Avro, JSON Lines, ClickHouse). Timestamps are epoch milliseconds (UTC) in memory; the codecs
 * turn them into ISO-8601 text or Avro `timestamp-millis`. Amounts are integer minor units.
 */

export const carriers = ['SKT', 'KT', 'LGU', 'MVNO'] as const;
export type Carrier = (typeof carriers)[number];

export const tapStatuses = ['APPROVED', 'DECLINED', 'FAILED'] as const;
export type TapStatus = (typeof tapStatuses)[number];

export const channels = ['APP', 'WEB', 'TV', 'VOICE', 'IOT'] as const;
export type Channel = (typeof channels)[number];

export const adjustmentKinds = ['REFUND', 'CHARGEBACK', 'UNPAID', 'COLLECTED', 'WRITE_OFF'] as const;
export type AdjustmentKind = (typeof adjustmentKinds)[number];

export const decisionOutcomes = ['ALLOW', 'REVIEW', 'BLOCK'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];

/** One payment attempt, as producers send it (msisdn still raw). */
export interface Tap {
  tap_id: string;
  /** Event time at the PG, epoch milliseconds. */
  occurred_at: number;
  account_id: string;
  msisdn: string;
  carrier: Carrier;
  device_id: string;
  ip: string;
  platform_id: string;
  creator_id: string | null;
  item_id: string | null;
  channel: Channel | null;
  amount: number;
  currency: string;
  status: TapStatus;
  retry_of: string | null;
}

/** A later adjustment of an approved tap. */
export interface Adjustment {
  adjustment_id: string;
  occurred_at: number;
  tap_id: string;
  kind: AdjustmentKind;
  amount: number;
  reason: string | null;
}

/** A tap after validation: the phone number normalized to E.164 and replaced by its keyed hash. */
export interface EnrichedTap extends Omit<Tap, 'msisdn'> {
  /** HMAC-SHA256 of the E.164 number, hex. */
  msisdn_hash: string;
  /** Version of the key that made msisdn_hash, so keys can rotate. */
  msisdn_key_version: number;
}

export interface Decision {
  tap_id: string;
  decision: DecisionOutcome;
  rules: string[];
  reasons: string[];
  rules_version: string;
  geo_db: string;
  /** Epoch milliseconds. */
  decided_at: number;
  duplicate?: boolean;
  late?: boolean;
}

export interface Alert extends Decision {
  account_id: string;
  platform_id: string;
  amount: number;
  currency: string;
  occurred_at: number;
}

/** One input record of the CLI's JSON Lines format or of a Kafka topic. */
export type InputRecord = ({ type: 'tap' } & Tap) | ({ type: 'adjustment' } & Adjustment);

/**
 * An adjustment the pipeline applied, with its tap's context (topic adjustments-enriched), so the
 * sink and settlement need no join. pipeline/topology.ts declares the same shape; a type test keeps
 * the two equal.
 */
export interface AppliedAdjustment extends Adjustment {
  account_id: string;
  msisdn_hash: string;
  platform_id: string;
  creator_id: string | null;
  carrier: string;
  currency: string;
  /** The original tap's event time, epoch ms: it selects the contract terms. */
  tap_occurred_at: number;
}

/**
 * A record that could not be processed, as published to the DLQ topic. The original bytes are
 * encrypted with the data key (see sinks/dlq.ts) so they can be replayed after a fix without raw
 * personal data sitting in a topic.
 */
export interface DlqRecord {
  /** Where the record was read: topic, partition and offset (a decimal string, as Kafka clients give it). */
  topic: string;
  partition: number;
  offset: string;
  /** An ErrorCode of pipeline/errors.ts, e.g. DECODE_FAILED. */
  code: string;
  /** What is wrong, for a person; never contains a raw phone number. */
  reason: string;
  /** Epoch milliseconds. */
  failed_at: number;
  /** Version byte, nonce, tag and ciphertext of the original record bytes (AES-256-GCM). */
  payload: Buffer;
}

/** A decoded or validated value, or the reason it was refused. */
export type Validated<T> = { ok: true; value: T } | { ok: false; code: 'VALIDATION_FAILED'; reason: string };
