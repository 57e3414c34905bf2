/**
 * What every fraud scenario provides: a name, how often it occurs among attack instances, how many
 * taps an instance has, and how to build one instance's records. An instance is small (at most a few
 * hundred taps), so it is built whole when it starts and merged into the stream by event time.
 */
import type { Carrier, InputRecord, Tap } from '../../schemas/types.ts';
import type { Random } from '../random.ts';
import type { CarrierNat } from '../network.ts';
import type { ScenarioName } from '../records.ts';

export interface FraudIdentity {
  account_id: string;
  /** 8 subscriber digits after 010. */
  digits: string;
  carrier: Carrier;
  device_id: string;
}

export interface ScenarioContext {
  rng: Random;
  /** Event time of the instance's first tap, epoch ms. */
  start: number;
  nat: CarrierNat;
  tapId(): string;
  adjustmentId(): string;
  /** A fresh account, phone number and device that no honest user or other instance uses. */
  identity(): FraudIdentity;
}

export interface Scenario {
  name: ScenarioName;
  /** Relative frequency among attack instances. */
  weight: number;
  minTaps: number;
  /** How many taps the next instance has (at least minTaps). */
  sampleTaps(rng: Random): number;
  /**
   * Moves a planned start earlier when the instance would not fit where it was drawn (a month's cap
   * needs days inside one Korean month); never before `earliest`.
   */
  placeStart?(start: number, earliest: number, rng: Random): number;
  /** Exactly `taps` taps (plus any later adjustments), every record at or after ctx.start. */
  build(ctx: ScenarioContext, taps: number): InputRecord[];
}

export type TapFields = Omit<Tap, 'tap_id' | 'currency' | 'retry_of' | 'item_id' | 'creator_id' | 'channel'> &
  Partial<Pick<Tap, 'retry_of' | 'item_id' | 'creator_id' | 'channel'>>;

export function fraudTap(ctx: ScenarioContext, fields: TapFields): InputRecord {
  return {
    type: 'tap',
    tap_id: ctx.tapId(),
    currency: 'KRW',
    creator_id: null,
    item_id: null,
    channel: 'APP',
    retry_of: null,
    ...fields,
    occurred_at: Math.round(fields.occurred_at),
  };
}

export function fraudAdjustment(
  ctx: ScenarioContext,
  tap: InputRecord & { type: 'tap' },
  at: number,
  kind: 'REFUND' | 'CHARGEBACK' | 'UNPAID' | 'COLLECTED' | 'WRITE_OFF',
  reason: string,
): InputRecord {
  return {
    type: 'adjustment',
    adjustment_id: ctx.adjustmentId(),
    occurred_at: Math.round(at),
    tap_id: tap.tap_id,
    kind,
    amount: tap.amount,
    reason,
  };
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
