/**
 * The Redis store's value layout, Node side (the Lua side is operators/redisScripts.ts, which
 * describes it): events packed as RS-separated records of US-separated fields, an entity header
 * before them, and the tap index entry followed by its first decision. Ids, currencies and countries
 * are validated free of control characters (schemas/validate.ts), so the separators cannot collide.
 */
import type {
  AccountEvent,
  DeviceEvent,
  EntityEvent,
  EntityState,
  EntityType,
  Hold,
  MonthTap,
  MsisdnEvent,
  TapIndexEntry,
} from '../entityState.ts';
import { unpackEntry } from '../tapIndexEntry.ts';

export const RS = '\x1e';
export const US = '\x1f';
/** A phone's month sums: GS key FS amount, one entry per month key. */
export const GS = '\x1d';
export const FS = '\x1c';

const orEmpty = (v: string | number | null) => (v === null ? '' : String(v));

/** One event as the scripts append it: RS, then tap_id and occurred_at first (the scripts read those). */
export function packEvent(type: EntityType, ev: EntityEvent): string {
  switch (type) {
    case 'a': {
      const [id, t, flags, device, country, lat, lon] = ev as AccountEvent;
      return `${RS}${id}${US}${t}${US}${flags}${US}${device}${US}${orEmpty(country)}${US}${orEmpty(lat)}${US}${orEmpty(lon)}`;
    }
    case 'm': {
      const [id, t, account, amount, currency] = ev as MsisdnEvent;
      return `${RS}${id}${US}${t}${US}${account}${US}${amount}${US}${currency}`;
    }
    case 'd': {
      const [id, t, account] = ev as DeviceEvent;
      return `${RS}${id}${US}${t}${US}${account}`;
    }
  }
}

const nullable = (s: string) => (s === '' ? null : s);
const nullableNumber = (s: string) => (s === '' ? null : Number(s));

/** End of the field starting at `from`: the next US before `end`, or `end`. */
function fieldEnd(raw: string, from: number, end: number): number {
  const u = raw.indexOf(US, from);
  return u < 0 || u > end ? end : u;
}

/**
 * The event whose record runs from `id` (after its RS) to `end`; its tap_id ends at `a`, its time
 * (`t`, already read) at `b`. Fields are read in place: no record string, no array of fields.
 */
export function unpackEvent(
  type: EntityType,
  raw: string,
  id: number,
  a: number,
  b: number,
  end: number,
  t: number,
): EntityEvent {
  const tapId = raw.slice(id, a);
  const c = fieldEnd(raw, b + 1, end);
  switch (type) {
    case 'd':
      return [tapId, t, raw.slice(b + 1, c)];
    case 'm': {
      const d = fieldEnd(raw, c + 1, end);
      return [tapId, t, raw.slice(b + 1, c), Number(raw.slice(c + 1, d)), raw.slice(d + 1, end)];
    }
    case 'a': {
      const d = fieldEnd(raw, c + 1, end);
      const e = fieldEnd(raw, d + 1, end);
      const f = fieldEnd(raw, e + 1, end);
      const g = fieldEnd(raw, f + 1, end);
      return [
        tapId,
        t,
        Number(raw.slice(b + 1, c)),
        raw.slice(c + 1, d),
        nullable(raw.slice(d + 1, e)),
        nullableNumber(raw.slice(e + 1, f)),
        nullableNumber(raw.slice(f + 1, g)),
      ];
    }
  }
}

/**
 * The entity's state as the in-memory store would hold it: only events later than the header's cut
 * (dead events may still sit in the string behind a live one), in the order they were applied. A
 * phone's `mt` is not in the string: pass the month taps the script returned (`later`). The string is
 * scanned in place (this runs three times per tap in the worker): a dead event costs one time read.
 */
export function parseEntity(type: EntityType, raw: string, later?: readonly string[]): EntityState {
  const { state, cut, eventsAt } = parseHead(type, raw, later);
  forEachEvent(raw, eventsAt, (at, t, a, b, end) => {
    if (t > cut) state.e.push(unpackEvent(type, raw, at + 1, a, b, end, t));
  });
  return state;
}

/**
 * The header of an entity string: the state without its events (`e` empty; a phone's month sums,
 * holds, adjustment ids and, from `later`, its month taps), the cut, and where the events start.
 */
export function parseHead(
  type: EntityType,
  raw: string,
  later?: readonly string[],
): { state: EntityState; cut: number; eventsAt: number } {
  const first = raw.indexOf(RS);
  const headEnd = first < 0 ? raw.length : first;
  const h1 = fieldEnd(raw, 0, headEnd);
  const h2 = fieldEnd(raw, h1 + 1, headEnd);
  const state: EntityState = { m: Number(raw.slice(0, h1)), e: [] };
  const cut = Number(raw.slice(h1 + 1, h2));
  if (type === 'm') {
    const h3 = fieldEnd(raw, h2 + 1, headEnd);
    const h4 = fieldEnd(raw, h3 + 1, headEnd);
    const h5 = fieldEnd(raw, h4 + 1, headEnd);
    const mo = raw.slice(h2 + 1, h3);
    const holds = raw.slice(h3 + 1, h4);
    const ad = raw.slice(h4 + 1, h5);
    if (mo) state.mo = parseMonths(mo);
    if (holds) state.h = JSON.parse(holds) as Record<string, Hold>;
    if (ad) state.ad = JSON.parse(ad) as Record<string, number>;
    if (later && later.length > 0) {
      state.mt = {};
      for (let i = 0; i + 1 < later.length; i += 2) state.mt[later[i]!] = parseMonthTap(later[i + 1]!);
    }
  }
  return { state, cut, eventsAt: headEnd };
}

/**
 * Every event record of `raw` from `from` (an RS, or the end) on, in order: where it starts (its RS),
 * its time, where its tap_id and time end (`a`, `b`) and where it ends, for unpackEvent.
 */
export function forEachEvent(
  raw: string,
  from: number,
  visit: (at: number, t: number, a: number, b: number, end: number) => void,
): void {
  const n = raw.length;
  for (let p = from; p < n;) {
    let next = raw.indexOf(RS, p + 1);
    if (next < 0) next = n;
    const a = fieldEnd(raw, p + 1, next);
    const b = fieldEnd(raw, a + 1, next);
    visit(p, Number(raw.slice(a + 1, b)), a, b, next);
    p = next;
  }
}

/** A phone's month sums (a cjson object when an earlier version wrote them and no tap came since). */
export function parseMonths(text: string): Record<string, number> {
  if (text.startsWith('{')) return JSON.parse(text) as Record<string, number>;
  const mo: Record<string, number> = {};
  for (let p = text.indexOf(GS); p >= 0;) {
    const next = text.indexOf(GS, p + 1);
    const end = next < 0 ? text.length : next;
    const f = text.indexOf(FS, p + 1);
    mo[text.slice(p + 1, f)] = Number(text.slice(f + 1, end));
    p = next;
  }
  return mo;
}

/** A phone's counted tap as `{m:…}:t` keeps it: month key US occurred_at US amount. */
export function parseMonthTap(value: string): MonthTap {
  const [key, t, amount] = value.split(US);
  return [key!, Number(t), Number(amount)];
}

/** A tap index value: the packed entry, then NL and the first decision's JSON once recorded. */
export function parseTapIndex(raw: string): { entry: TapIndexEntry; decision: string | null } {
  const nl = raw.indexOf('\n');
  if (nl < 0) return { entry: unpackEntry(raw), decision: null };
  const next = raw.indexOf('\n', nl + 1);
  return {
    entry: unpackEntry(raw.slice(0, nl)),
    decision: raw.slice(nl + 1, next < 0 ? undefined : next),
  };
}
