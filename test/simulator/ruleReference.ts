/**
 * A brute-force reading of DESIGN.md's default rules over a finished list of taps, for judging the
 * simulator's traffic in tests (not the production detectors, which are stateful and streaming).
 * It answers which taps a rule would fire on, so tests can check that fraud has its shape and honest
 * users stay clean.
 */
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { seoulHour } from '../../simulator/koreanTime.ts';

export interface Geo {
  country: string | null;
  lat: number | null;
  lon: number | null;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export function normalizeMsisdn(m: string): string {
  return m.startsWith('010-') ? `+8210${m.slice(4).replace('-', '')}` : m;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Taps in (t − w, t] before and including index i, for a time-sorted list. */
function windowOf(list: readonly Tap[], i: number, w: number): Tap[] {
  const t = list[i]!.occurred_at;
  const out: Tap[] = [];
  for (let j = i; j >= 0 && list[j]!.occurred_at > t - w; j--) out.push(list[j]!);
  return out;
}

function distanceKm(a: Geo, b: Geo): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat! - a.lat!) * rad;
  const dLon = (b.lon! - a.lon!) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat! * rad) * Math.cos(b.lat! * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** tap_id → ids of the default rules that fire on it (taps in event-time order). */
export function firedRules(
  taps: readonly Tap[],
  adjustments: readonly Adjustment[],
  geo: (ip: string) => Geo,
): Map<string, Set<string>> {
  const fired = new Map<string, Set<string>>();
  const fire = (tap: Tap, rule: string) => {
    let s = fired.get(tap.tap_id);
    if (!s) fired.set(tap.tap_id, (s = new Set()));
    s.add(rule);
  };

  for (const list of groupBy(taps, (t) => t.account_id).values()) {
    for (let i = 0; i < list.length; i++) {
      const tap = list[i]!;
      const minute = windowOf(list, i, MIN).filter((t) => t.retry_of === null);
      if (minute.length > 5) fire(tap, 'account_burst');
      const fails = windowOf(list, i, 10 * MIN).filter((t) => t.retry_of === null && t.status !== 'APPROVED');
      if (fails.length >= 3) fire(tap, 'account_declines');
      if (new Set(windowOf(list, i, DAY).map((t) => t.device_id)).size >= 4)
        fire(tap, 'account_many_devices');
      const prev = list
        .slice(0, i)
        .reverse()
        .find((p) => p.occurred_at < tap.occurred_at);
      if (prev && tap.occurred_at - prev.occurred_at <= 6 * HOUR) {
        const a = geo(prev.ip);
        const b = geo(tap.ip);
        if (a.country && b.country && a.country !== b.country) fire(tap, 'ip_jump');
        else if (a.lat !== null && b.lat !== null) {
          const km = distanceKm(a, b);
          const hours = (tap.occurred_at - prev.occurred_at) / HOUR;
          if (km > 500 && (hours === 0 || km / hours > 900)) fire(tap, 'ip_jump');
        }
      }
    }
  }

  const unpaidByMsisdn = new Map<string, number[]>();
  const tapById = new Map(taps.map((t) => [t.tap_id, t]));
  for (const adj of adjustments) {
    if (adj.kind !== 'UNPAID') continue;
    const tap = tapById.get(adj.tap_id);
    if (!tap) continue;
    const m = normalizeMsisdn(tap.msisdn);
    unpaidByMsisdn.set(m, [...(unpaidByMsisdn.get(m) ?? []), adj.occurred_at]);
  }

  for (const [msisdn, list] of groupBy(taps, (t) => normalizeMsisdn(t.msisdn))) {
    const monthly = new Map<number, number>();
    for (let i = 0; i < list.length; i++) {
      const tap = list[i]!;
      const day = windowOf(list, i, DAY);
      const dayAmount = day.filter((t) => t.status === 'APPROVED').reduce((s, t) => s + t.amount, 0);
      if (dayAmount > 300_000) fire(tap, 'msisdn_daily_amount');
      if (new Set(day.map((t) => t.account_id)).size >= 3) fire(tap, 'msisdn_many_accounts');
      // Refunds are ignored here: an upper bound, stricter than the real rule.
      const month = seoulHour(tap.occurred_at).monthKey;
      if (tap.status === 'APPROVED') monthly.set(month, (monthly.get(month) ?? 0) + tap.amount);
      if ((monthly.get(month) ?? 0) > 1_000_000) fire(tap, 'monthly_cap');
      // Stricter than the rule too: any UNPAID within 30 days before, collected or not.
      if (
        (unpaidByMsisdn.get(msisdn) ?? []).some(
          (u) => u <= tap.occurred_at && tap.occurred_at - u <= 30 * DAY,
        )
      )
        fire(tap, 'blocklist');
    }
  }

  for (const list of groupBy(taps, (t) => t.device_id).values()) {
    for (let i = 0; i < list.length; i++) {
      if (new Set(windowOf(list, i, DAY).map((t) => t.account_id)).size >= 3)
        fire(list[i]!, 'device_many_accounts');
    }
  }
  return fired;
}
