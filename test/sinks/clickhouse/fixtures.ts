/**
 * Hand-written analyst fixture: a small day of traffic whose answers are counted by hand in the
 * tests (docs/ANALYSTS.md, dedup). Times are UTC epoch ms; 2026-11-03 is a Tuesday.
 */
import type { AppliedAdjustment } from '../../../pipeline/topology.ts';
import type { Alert, Decision, EnrichedTap } from '../../../schemas/types.ts';

const base = Date.UTC(2026, 10, 3, 1, 0, 0); // 2026-11-03T01:00:00Z = 10:00 KST

export function tap(id: string, minute: number, fields: Partial<EnrichedTap> = {}): EnrichedTap {
  return {
    tap_id: id,
    occurred_at: base + minute * 60_000,
    account_id: 'acc-1',
    msisdn_hash: 'h1',
    msisdn_key_version: 1,
    carrier: 'SKT',
    device_id: 'dev-1',
    ip: '203.0.113.7',
    platform_id: 'webtoonia',
    creator_id: 'cr-1',
    item_id: null,
    channel: 'APP',
    amount: 1000,
    currency: 'KRW',
    status: 'APPROVED',
    retry_of: null,
    ...fields,
  };
}

export function decision(t: EnrichedTap, outcome: Decision['decision'], rules: string[] = []): Decision {
  return {
    tap_id: t.tap_id,
    decision: outcome,
    rules,
    reasons: rules.map((r) => `${r} fired`),
    rules_version: 'v1',
    geo_db: 'geolite2-test',
    decided_at: t.occurred_at + 15,
  };
}

export function alert(t: EnrichedTap, d: Decision): Alert {
  return {
    ...d,
    account_id: t.account_id,
    platform_id: t.platform_id,
    amount: t.amount,
    currency: t.currency,
    occurred_at: t.occurred_at,
  };
}

export function adjustment(
  id: string,
  t: EnrichedTap,
  kind: AppliedAdjustment['kind'],
  amount: number,
  minutesAfter = 60,
): AppliedAdjustment {
  return {
    adjustment_id: id,
    occurred_at: t.occurred_at + minutesAfter * 60_000,
    tap_id: t.tap_id,
    kind,
    amount,
    reason: null,
    account_id: t.account_id,
    msisdn_hash: t.msisdn_hash,
    platform_id: t.platform_id,
    creator_id: t.creator_id,
    carrier: t.carrier,
    currency: t.currency,
    tap_occurred_at: t.occurred_at,
  };
}
