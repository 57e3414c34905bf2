/** The calendar month of an instant in Asia/Seoul (a tap at 2026-11-30T15:30Z is in December). */
import { Instant, ZoneId } from '@js-joda/core';
import '../pipeline/timeZones.ts';

const zones = new Map<string, ZoneId>();

/** `YYYY-MM` of the epoch-ms instant in the zone. */
export function calendarMonth(epochMs: number, zone = 'Asia/Seoul'): string {
  let z = zones.get(zone);
  if (!z) {
    z = ZoneId.of(zone);
    zones.set(zone, z);
  }
  const d = Instant.ofEpochMilli(epochMs).atZone(z);
  return `${String(d.year()).padStart(4, '0')}-${String(d.monthValue()).padStart(2, '0')}`;
}

/**
 * The cap's month of a tap, cached per quarter hour of UTC: zone offsets in use since the 1970s
 * are multiples of 15 minutes, so a month boundary never falls inside one of these slots.
 */
const cache = new Map<string, string>();
export function capMonth(epochMs: number, zone = 'Asia/Seoul'): string {
  const key = `${zone}|${Math.floor(epochMs / 900_000)}`;
  let m = cache.get(key);
  if (m === undefined) {
    m = calendarMonth(epochMs, zone);
    if (cache.size > 100_000) cache.clear();
    cache.set(key, m);
  }
  return m;
}
