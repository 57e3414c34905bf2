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

const nullable = (s: string | undefined) => (s === undefined || s === '' ? null : s);
const nullableNumber = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));

function unpackEvent(type: EntityType, f: string[], t: number): EntityEvent {
  switch (type) {
    case 'a':
      return [f[0]!, t, Number(f[2]), f[3]!, nullable(f[4]), nullableNumber(f[5]), nullableNumber(f[6])];
    case 'm':
      return [f[0]!, t, f[2]!, Number(f[3]), f[4]!];
    case 'd':
      return [f[0]!, t, f[2]!];
  }
}

/**
 * The entity's state as the in-memory store would hold it: only events later than the header's cut
 * (dead events may still sit in the string behind a live one), in the order they were applied. A
 * phone's `mt` is not in the string: pass the month taps the script returned (`later`).
 */
export function parseEntity(type: EntityType, raw: string, later?: readonly string[]): EntityState {
  const start = raw.indexOf(RS);
  const head = (start < 0 ? raw : raw.slice(0, start)).split(US);
  const state: EntityState = { m: Number(head[0]), e: [] };
  const cut = Number(head[1]);
  if (start >= 0) {
    const records = raw.slice(start + 1).split(RS);
    for (const rec of records) {
      const f = rec.split(US);
      const t = Number(f[1]);
      if (t > cut) state.e.push(unpackEvent(type, f, t));
    }
  }
  if (type === 'm') {
    if (head[2]) state.mo = JSON.parse(head[2]) as Record<string, number>;
    if (head[3]) state.h = JSON.parse(head[3]) as Record<string, Hold>;
    if (head[4]) state.ad = JSON.parse(head[4]) as Record<string, number>;
    if (later && later.length > 0) {
      state.mt = {};
      for (let i = 0; i + 1 < later.length; i += 2) state.mt[later[i]!] = parseMonthTap(later[i + 1]!);
    }
  }
  return state;
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
