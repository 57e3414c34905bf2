/**
 * Every record's field list with whether it is required or optional, typed against the TypeScript
 * interfaces: `satisfies Record<keyof T, Presence>` fails to compile when a field is added to or
 * removed from an interface without being listed here. Order is the Avro field order. test/schemas/drift.test.ts then checks these
 * lists against the .avsc files, so types, validation and Avro schemas cannot drift apart.
 */
import type { Adjustment, Alert, AppliedAdjustment, Decision, DlqRecord, EnrichedTap, Tap } from './types.ts';

/** `optional`: null or absent in JSON, ["null", T] with default null in Avro (or a false default for flags). */
export type Presence = 'required' | 'optional';

export const tapFields = {
  tap_id: 'required',
  occurred_at: 'required',
  account_id: 'required',
  msisdn: 'required',
  carrier: 'required',
  device_id: 'required',
  ip: 'required',
  platform_id: 'required',
  creator_id: 'optional',
  item_id: 'optional',
  channel: 'optional',
  amount: 'required',
  currency: 'required',
  status: 'required',
  retry_of: 'optional',
} as const satisfies Record<keyof Tap, Presence>;

export const adjustmentFields = {
  adjustment_id: 'required',
  occurred_at: 'required',
  tap_id: 'required',
  kind: 'required',
  amount: 'required',
  reason: 'optional',
} as const satisfies Record<keyof Adjustment, Presence>;

/** The tap's fields in Avro order, the raw msisdn replaced by its hash and key version. */
export const tapEnrichedFields = {
  tap_id: 'required',
  occurred_at: 'required',
  account_id: 'required',
  msisdn_hash: 'required',
  msisdn_key_version: 'required',
  carrier: 'required',
  device_id: 'required',
  ip: 'required',
  platform_id: 'required',
  creator_id: 'optional',
  item_id: 'optional',
  channel: 'optional',
  amount: 'required',
  currency: 'required',
  status: 'required',
  retry_of: 'optional',
} as const satisfies Record<keyof EnrichedTap, Presence>;

export const adjustmentAppliedFields = {
  ...adjustmentFields,
  account_id: 'required',
  msisdn_hash: 'required',
  platform_id: 'required',
  creator_id: 'optional',
  carrier: 'required',
  currency: 'required',
  tap_occurred_at: 'required',
} as const satisfies Record<keyof AppliedAdjustment, Presence>;

export const decisionFields = {
  tap_id: 'required',
  decision: 'required',
  rules: 'required',
  reasons: 'required',
  rules_version: 'required',
  geo_db: 'required',
  decided_at: 'required',
  duplicate: 'optional',
  late: 'optional',
} as const satisfies Record<keyof Decision, Presence>;

export const alertFields = {
  ...decisionFields,
  account_id: 'required',
  platform_id: 'required',
  amount: 'required',
  currency: 'required',
  occurred_at: 'required',
} as const satisfies Record<keyof Alert, Presence>;

export const dlqFields = {
  topic: 'required',
  partition: 'required',
  offset: 'required',
  code: 'required',
  reason: 'required',
  failed_at: 'required',
  payload: 'required',
} as const satisfies Record<keyof DlqRecord, Presence>;
