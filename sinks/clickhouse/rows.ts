/**
 * Event → ClickHouse row, one function per table. Serialisation is its own step so the writer and
 * tests share it. Times go in as 'YYYY-MM-DD hh:mm:ss.mmm' UTC text, which DateTime64(3, 'UTC')
 * parses exactly on every ClickHouse version.
 */
import type { AppliedAdjustment } from '../../pipeline/topology.ts';
import type { Alert, Decision, EnrichedTap } from '../../schemas/types.ts';

export type TableName = 'taps' | 'adjustments' | 'decisions' | 'fraud_alerts';

/** Epoch milliseconds → DateTime64(3) text in UTC. */
export function chTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');
}

export function tapRow(t: EnrichedTap): Record<string, unknown> {
  return {
    tap_id: t.tap_id,
    occurred_at: chTime(t.occurred_at),
    account_id: t.account_id,
    msisdn_hash: t.msisdn_hash,
    msisdn_key_version: t.msisdn_key_version,
    carrier: t.carrier,
    device_id: t.device_id,
    ip: t.ip,
    platform_id: t.platform_id,
    creator_id: t.creator_id,
    item_id: t.item_id,
    channel: t.channel,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    retry_of: t.retry_of,
  };
}

export function adjustmentRow(a: AppliedAdjustment): Record<string, unknown> {
  return {
    adjustment_id: a.adjustment_id,
    occurred_at: chTime(a.occurred_at),
    tap_id: a.tap_id,
    kind: a.kind,
    amount: a.amount,
    reason: a.reason,
    account_id: a.account_id,
    msisdn_hash: a.msisdn_hash,
    platform_id: a.platform_id,
    creator_id: a.creator_id,
    carrier: a.carrier,
    currency: a.currency,
    tap_occurred_at: chTime(a.tap_occurred_at),
  };
}

export function decisionRow(d: Decision): Record<string, unknown> {
  return {
    tap_id: d.tap_id,
    decision: d.decision,
    rules: d.rules,
    reasons: d.reasons,
    rules_version: d.rules_version,
    geo_db: d.geo_db,
    decided_at: chTime(d.decided_at),
    late: d.late ? 1 : 0,
  };
}

export function alertRow(a: Alert): Record<string, unknown> {
  return {
    ...decisionRow(a),
    account_id: a.account_id,
    platform_id: a.platform_id,
    amount: a.amount,
    currency: a.currency,
    occurred_at: chTime(a.occurred_at),
  };
}
