/**
 * The windows the Redis store last read, parsed, so that an insert into a long window parses only
 * what changed. An insert script answers the entity's whole string (operators/redisScripts.ts); the
 * usual change from the previous answer is a new header, some dead events dropped from the front and
 * one event appended. When the new string is exactly that, the events already parsed are reused and
 * only the appended one is read. Anything else (a removal from the middle, another worker's insert
 * between, a cut that moved back) gives a string that does not match, and it is parsed whole, as
 * parseEntity does. The match is checked on the text itself, so the state is always what parseEntity
 * would give.
 *
 * Parsing a window of N events per insert made the worker's CPU per insert linear in N, most of it in
 * garbage collection (bench/windowCost.ts: 424 µs at 1,000 events, 4.5 ms at 5,000). Events are
 * tuples the store never changes, so states may share them.
 *
 * Only windows of at least `minChars` are kept (short ones cost little to parse), at most `maxChars`
 * of them in all; the oldest read goes first.
 */
import type { EntityEvent, EntityState, EntityType } from '../entityState.ts';
import { forEachEvent, parseEntity, parseHead, RS, unpackEvent } from './layout.ts';

interface Parsed {
  type: EntityType;
  raw: string;
  /** Where the events start in `raw` (the first RS), and the cut they were parsed under. */
  eventsAt: number;
  cut: number;
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
  private readonly minChars: number;
  private readonly maxChars: number;
  /** Answers that reused the parsed events, and those parsed whole (for tests and benchmarks). */
  reused = 0;
  parsed = 0;

  constructor(options: WindowCacheOptions = {}) {
    this.minChars = options.minChars ?? 2048;
    this.maxChars = options.maxChars ?? 4 * 2 ** 20;
  }

  /** The state in `raw`, the answer of an insert into the entity `key`; as parseEntity(type, raw, later). */
  state(key: string, type: EntityType, raw: string, later?: readonly string[]): EntityState {
    const before = this.windows.get(key);
    if (!before && raw.length < this.minChars) {
      // Most windows: short, and not kept.
      this.parsed++;
      return parseEntity(type, raw, later);
    }
    const { state, cut, eventsAt } = parseHead(type, raw, later);
    let now = before && before.type === type ? extend(before, { type, raw, eventsAt, cut }) : null;
    if (now) this.reused++;
    else {
      now = scan({ type, raw, eventsAt, cut });
      this.parsed++;
    }
    for (let i = 0; i < now.events.length; i++) {
      const ev = now.events[i];
      if (ev && now.times[i]! > cut) state.e.push(ev);
    }
    this.keep(key, before, now);
    return state;
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

/** An answer: its text, the type of its entity, and what its header says. */
type Answer = Pick<Parsed, 'type' | 'raw' | 'eventsAt' | 'cut'>;

/** Every event of the answer, those later than its cut read. */
function scan(answer: Answer): Parsed {
  const parsed: Parsed = { ...answer, offsets: [], times: [], events: [] };
  readEvents(parsed, answer.eventsAt);
  return parsed;
}

/** Adds the event records of `into.raw` from `from` (an RS) on to `into`, those later than its cut read. */
function readEvents(into: Parsed, from: number): void {
  const { type, raw, eventsAt, cut } = into;
  forEachEvent(raw, from, (at, t, a, b, end) => {
    into.offsets.push(at - eventsAt);
    into.times.push(t);
    into.events.push(t > cut ? unpackEvent(type, raw, at + 1, a, b, end, t) : null);
  });
}

/**
 * The answer as `before`'s events less a dead prefix (or none: a removal leaves the front as it
 * was), plus at most one appended event, parsed from `before`; null when it is anything else.
 */
function extend(before: Parsed, answer: Answer): Parsed | null {
  // A cut that moved back revives dead events: only a whole parse knows them.
  if (answer.cut < before.cut) return null;
  // The script drops the events not later than the cut from the front, up to the first live one.
  let live = 0;
  while (live < before.times.length && before.times[live]! <= answer.cut) live++;
  return after(before, answer, live) ?? (live > 0 ? after(before, answer, 0) : null);
}

/** The answer as `before`'s events from its `first` on, plus at most one appended event; null if not. */
function after(before: Parsed, answer: Answer, first: number): Parsed | null {
  const { raw, eventsAt } = answer;
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
  readEvents(next, tailAt);
  return next;
}
