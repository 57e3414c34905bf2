/**
 * What every rule sees and returns. A rule is pure: (tap, the state views of its entities as they are
 * after the tap was applied, its config) → a hit with a human reason naming the measured value and the
 * threshold, or null.
 */
import type { EnrichedTap } from '../schemas/types.ts';
import type { Action, RuleId } from './defaultRules.ts';
import type { EntityView } from './entityState.ts';
import type { GeoLocation } from './geo.ts';
import type { EntityLists } from './rulesFile.ts';

export interface TapContext {
  tap: EnrichedTap;
  geo: GeoLocation | null;
  /** `${YYYY-MM}|${currency}`: the tap's calendar month in the cap's zone. */
  monthKey: string;
}

export interface EntityViews {
  account: EntityView;
  msisdn: EntityView;
  device: EntityView;
}

export interface RuleHit {
  rule: RuleId;
  action: Action;
  reason: string;
}

export interface Lists {
  blocklist: EntityLists;
}

/** "60 s", "10 min", "24 h", "30 days": windows as people write them. */
export function formatWindow(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 2 * 86_400_000) return `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0 && ms >= 600_000) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** Minor units shown to people: ₩ for KRW (no minor unit), else the amount and code. */
export function formatAmount(amount: number, currency: string): string {
  const digits = amount.toLocaleString('en-US');
  return currency === 'KRW' ? `₩${digits}` : `${digits} ${currency} (minor units)`;
}
