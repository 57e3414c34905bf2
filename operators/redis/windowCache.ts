/**
 * The windows the Redis store last read, parsed, so that an insert into a long window parses only
 * what changed. An insert script answers the entity's whole string (operators/redisScripts.ts); the
 * usual change from the previous answer is a new header, some dead events dropped from the front and
 * one event appended. When the new string is exactly that, the events already parsed are reused and
 * only the appended one is read. Anything else (a removal, another worker's insert between, a cut that
 * moved back) gives a string that does not match, and it is parsed whole, as parseEntity does. The
 * match is checked on the text itself, so the state is always what parseEntity would give.
 *
 * Parsing a window of N events per insert made the worker's CPU per insert linear in N, most of it in
 * garbage collection (bench/windowCost.ts: 424 µs at 1,000 events, 4.5 ms at 5,000). Events are
 * tuples the store never changes, so states may share them.
 *
 * A kept account or device window also has a version (operators/redisScripts.ts): the store sends
 * it with the next insert into that window, and when Redis still holds that version the script only
 * appends the event and answers the new header. `appended` then builds the window from the one kept,
 * so neither side reads the whole window (windowCost.ts: Redis CPU per insert ~19 µs at 5,000 events,
 * against ~1.5 ms when it answers the window).
 *
 * Only windows of at least `minChars` are kept (short ones cost little to parse, and the script's
 * whole write costs less than its append there), at most `maxChars` of them in all; the oldest read
 * goes first.
 */
import type { EntityEvent, EntityState, EntityType } from '../entityState.ts';
import { forEachEvent, parseEntity, parseHead, RS, unpackEvent } from './layout.ts';

/** A window as kept: hold it from an insert's sending to its answer (appended). */
export type Held = Readonly<Parsed>;

/** An answer's state, and its window when it was parsed into one (null: short, parsed by parseEntity). */
export interface Read {
  state: EntityState;
  window: Held | null;
}

interface Parsed {
  type: EntityType;
  raw: string;
  /** Where the events start in `raw` (the first RS), and the cut they were parsed under. */
  eventsAt: number;
  cut: number;
  /** An account's or device's window version ('' for phones and windows written before versions). */
  version: string;
  /** Every event record in `raw`, dead ones too: its start (relative to eventsAt), time and tuple. */
  offsets: number[];
  times: number[];
  /** null for an event not later than `cut` when parsed (it never becomes live again but by a full parse). */
  events: Array<EntityEvent | null>;
}

export interface WindowCacheOptions {
  /** Windows shorter than this are parsed every time. @default 2048 */
  minChars?: number;
  /** Characters of windows kept in all (their parsed events take ~2-3 times as much heap). @default 4 MiB */
  maxChars?: number;
}

export class WindowCache {
  private readonly windows = new Map<string, Parsed>();
  private chars = 0;
  /** Windows shorter than this are not kept (and the insert script writes them without a version). */
  readonly minChars: number;
  private readonly maxChars: number;
  /**
   * Answers that reused the parsed events, those parsed whole, and the appends answered without the
   * window (for tests and benchmarks).
   */
  reused = 0;
  parsed = 0;
  appends = 0;

  constructor(options: WindowCacheOptions = {}) {
    this.minChars = options.minChars ?? 2048;
    this.maxChars = options.maxChars ?? 4 * 2 ** 20;
  }

  /** The state in `raw`, the answer of an insert into the entity `key`; as parseEntity(type, raw, later). */
  state(key: string, type: EntityType, raw: string, later?: readonly string[]): EntityState {
    return this.read(key, type, raw, later).state;
  }

  /** As `state`, with the window read (to append to while its answer is not yet kept). */
  read(key: string, type: EntityType, raw: string, later?: readonly string[]): Read {
    const before = this.windows.get(key);
    if (!before && raw.length < this.minChars) {
      // Most windows: short, and not kept.
      this.parsed++;
      return { state: parseEntity(type, raw, later), window: null };
    }
    const { state, cut, eventsAt, version } = parseHead(type, raw, later);
    let now = before && before.type === type ? extend(before, { type, raw, eventsAt, cut, version }) : null;
    if (now) this.reused++;
    else {
      now = scan(type, raw, eventsAt, cut, version);
      this.parsed++;
    }
    return this.settle(key, before, now, state, cut);
  }

  /**
   * The window kept for `key` if it has a version: the insert script appends to the stored window
   * without answering it when that version is still the stored one. Hold on to it until the answer.
   */
  held(key: string): Held | undefined {
    const w = this.windows.get(key);
    return w && w.version !== '' ? w : undefined;
  }

  /**
   * The state after the script appended `packed` to the window `base` (the one held when the insert
   * was sent, or the answer to the insert before it in the same pipeline) and wrote the new header
   * `head` over the old one, of the same length.
   */
  appended(key: string, base: Held, head: string, packed: string): Read {
    const raw = head + base.raw.slice(base.eventsAt) + packed;
    const { state, cut, eventsAt, version } = parseHead(base.type, raw);
    if (eventsAt !== base.eventsAt)
      throw new Error(`window ${key}: the new header is not the old one's length`);
    const now: Parsed = {
      ...base,
      raw,
      cut,
      version,
      offsets: [...base.offsets],
      times: [...base.times],
      events: [...base.events],
    };
    forEachEvent(raw, base.raw.length, (at, t, a, b, end) => {
      now.offsets.push(at - eventsAt);
      now.times.push(t);
      now.events.push(t > cut ? unpackEvent(base.type, raw, at + 1, a, b, end, t) : null);
    });
    this.appends++;
    return this.settle(key, this.windows.get(key), now, state, cut);
  }

  /** Forgets every window: answers from here on may come from another Redis life. */
  clear(): void {
    this.windows.clear();
    this.chars = 0;
  }

  /** `state` with `now`'s events later than `cut`, and `now` kept in place of `before`. */
  private settle(
    key: string,
    before: Parsed | undefined,
    now: Parsed,
    state: EntityState,
    cut: number,
  ): Read {
    for (let i = 0; i < now.events.length; i++) {
      const ev = now.events[i];
      if (ev && now.times[i]! > cut) state.e.push(ev);
    }
    this.keep(key, before, now);
    return { state, window: now };
  }

  private keep(key: string, before: Parsed | undefined, now: Parsed): void {
    if (before) {
      this.windows.delete(key);
      this.chars -= before.raw.length;
    }
    if (now.raw.length < this.minChars || now.raw.length > this.maxChars) return;
    this.windows.set(key, now);
    this.chars += now.raw.length;
    for (const [k, w] of this.windows) {
      if (this.chars <= this.maxChars) break;
      this.windows.delete(k);
      this.chars -= w.raw.length;
    }
  }
}

/** Every event of `raw` from `eventsAt`, those later than `cut` read. */
function scan(type: EntityType, raw: string, eventsAt: number, cut: number, version: string): Parsed {
  const parsed: Parsed = { type, raw, eventsAt, cut, version, offsets: [], times: [], events: [] };
  forEachEvent(raw, eventsAt, (at, t, a, b, end) => {
    parsed.offsets.push(at - eventsAt);
    parsed.times.push(t);
    parsed.events.push(t > cut ? unpackEvent(type, raw, at + 1, a, b, end, t) : null);
  });
  return parsed;
}

/** An answer: its text, the type of its entity, and what its header says. */
interface Answer {
  type: EntityType;
  raw: string;
  eventsAt: number;
  cut: number;
  version: string;
}

/**
 * The answer as `before`'s events less a dead prefix (or none: a write that did not trim, a removal's
 * header left as it was), plus at most one appended event, parsed from `before`; null when it is
 * anything else.
 */
function extend(before: Parsed, answer: Answer): Parsed | null {
  // A cut that moved back revives dead events: only a whole parse knows them.
  if (answer.cut < before.cut) return null;
  // The whole-window write drops the events not later than the cut from the front, up to the first
  // live one; the append leaves them.
  let live = 0;
  while (live < before.times.length && before.times[live]! <= answer.cut) live++;
  return after(before, answer, live) ?? (live > 0 ? after(before, answer, 0) : null);
}

/** The answer as `before`'s events from its `first` on, plus at most one appended event; null if not. */
function after(before: Parsed, answer: Answer, first: number): Parsed | null {
  const { type, raw, eventsAt, cut } = answer;
  const oldEvents = before.raw.length - before.eventsAt;
  const dropped = first < before.offsets.length ? before.offsets[first]! : oldEvents;
  const kept = oldEvents - dropped;
  const tailAt = eventsAt + kept;
  if (tailAt > raw.length) return null;
  if (kept > 0 && !raw.startsWith(before.raw.slice(before.eventsAt + dropped), eventsAt)) return null;
  const next: Parsed = {
    ...answer,
    offsets: before.offsets.slice(first).map((o) => o - dropped),
    times: before.times.slice(first),
    events: before.events.slice(first),
  };
  if (tailAt === raw.length) return next;
  // The rest must be one event record: an RS and no other.
  if (raw[tailAt] !== RS || raw.indexOf(RS, tailAt + 1) >= 0) return null;
  forEachEvent(raw, tailAt, (at, t, a, b, end) => {
    next.offsets.push(at - eventsAt);
    next.times.push(t);
    next.events.push(t > cut ? unpackEvent(type, raw, at + 1, a, b, end, t) : null);
  });
  return next;
}
