/**
 * DESIGN.md's default rules table as data. Windows in ms, thresholds as the table words them
 * ("more than" vs "or more"). Amount thresholds are per currency: only KRW has defaults, so taps in
 * another currency are decided by the rules that do not depend on amounts until a rules file adds it.
 */
import type { DecisionOutcome } from '../schemas/types.ts';

export type Action = Exclude<DecisionOutcome, 'ALLOW'>;

export const ruleIds = [
  'account_burst',
  'account_declines',
  'msisdn_daily_amount',
  'msisdn_many_accounts',
  'device_many_accounts',
  'account_many_devices',
  'ip_jump',
  'monthly_cap',
  'blocklist',
] as const;
export type RuleId = (typeof ruleIds)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const defaultRules = {
  /** Events this far behind the newest event time of their entity still count exactly. */
  lateness_ms: 10 * MINUTE,
  allowlist: {
    accounts: [] as string[],
    msisdns: [] as string[],
    msisdn_hashes: [] as string[],
    devices: [] as string[],
  },
  blocklist: {
    accounts: [] as string[],
    msisdns: [] as string[],
    msisdn_hashes: [] as string[],
    devices: [] as string[],
  },
  rules: {
    account_burst: { enabled: true, action: 'REVIEW' as Action, window_ms: MINUTE, more_than: 5 },
    account_declines: { enabled: true, action: 'REVIEW' as Action, window_ms: 10 * MINUTE, at_least: 3 },
    msisdn_daily_amount: {
      enabled: true,
      action: 'REVIEW' as Action,
      window_ms: DAY,
      more_than: { KRW: 300_000 } as Record<string, number>,
    },
    msisdn_many_accounts: { enabled: true, action: 'REVIEW' as Action, window_ms: DAY, at_least: 3 },
    device_many_accounts: {
      enabled: true,
      window_ms: DAY,
      tiers: [
        { at_least: 3, action: 'REVIEW' as Action },
        { at_least: 5, action: 'BLOCK' as Action },
      ],
    },
    account_many_devices: { enabled: true, action: 'REVIEW' as Action, window_ms: DAY, at_least: 4 },
    ip_jump: {
      enabled: true,
      action: 'REVIEW' as Action,
      window_ms: 6 * HOUR,
      min_distance_km: 500,
      min_speed_kmh: 900,
    },
    monthly_cap: {
      enabled: true,
      action: 'BLOCK' as Action,
      timezone: 'Asia/Seoul',
      more_than: { KRW: 1_000_000 } as Record<string, number>,
    },
    blocklist: { enabled: true, action: 'BLOCK' as Action, unpaid_block_ms: 30 * DAY },
  },
};
