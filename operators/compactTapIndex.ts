/**
 * The memory store's tap index, off the JS heap: every tap of the last 400 days must stay findable by
 * its tap_id (adjustments, duplicates), which at ~500 heap bytes a tap as objects and JSON strings put a
 * 10M-line backtest over Node's heap limit and made the GC trace millions of objects. Here a tap is one
 * slot in columns of typed arrays (~130 bytes, nothing for the GC to trace):
 *
 * - slots are numbered in insertion order and live in chunks of 65,536; eviction walks from the oldest
 *   slot and frees whole chunks, so memory follows the taps inside the retention, not the file;
 * - tap_id and the content hash are kept as bytes (Latin-1, up to 24 and 22 of them), the repeated
 *   strings (account, phone hash, platform, creator, carrier, currency, month, status, rules version
 *   and geo build) as reference-counted interned ids;
 * - what most taps do not have (an adjustment applied, a source position, a decision with rules hit,
 *   a tap_id or hash that does not fit) is kept beside, by slot, as short JSON;
 * - lookup is an open-addressing hash table (linear probing, backward-shift deletion) of slot numbers.
 *
 * What it returns is exactly what the JSON packing returned (same fields, fresh objects every time).
 */
import type { Decision } from '../schemas/types.ts';
import type { TapIndexEntry } from './entityState.ts';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const ID_BYTES = 24;
const HASH_BYTES = 22;
/** idLen of a slot whose tap_id is kept in `extra` (too long, or not Latin-1). */
const ID_ELSEWHERE = 255;
const OUTCOMES = ['ALLOW', 'REVIEW', 'BLOCK'] as const;

interface Chunk {
  id: Uint8Array;
  idLen: Uint8Array;
  idHash: Int32Array;
  h: Uint8Array;
  /** Interned: account, msisdn hash, platform, creator (-1 null), carrier, currency, month, status. */
  strs: Int32Array;
  occurredAt: Float64Array;
  amount: Float64Array;
  expiresAt: Float64Array;
  decidedAt: Float64Array;
  /** 0 no decision yet; else outcome index + 1, | 4 late, | 8 duplicate, | 16 rules in `decisionDetail`. */
  decision: Uint8Array;
  /** Interned `[rules_version, geo_db]` of the decision. */
  decisionMeta: Int32Array;
  /** 1 live, | 2 has `extra`. */
  state: Uint8Array;
}

const STRS = 8;

function newChunk(): Chunk {
  return {
    id: new Uint8Array(CHUNK * ID_BYTES),
    idLen: new Uint8Array(CHUNK),
    idHash: new Int32Array(CHUNK),
    h: new Uint8Array(CHUNK * HASH_BYTES),
    strs: new Int32Array(CHUNK * STRS),
    occurredAt: new Float64Array(CHUNK),
    amount: new Float64Array(CHUNK),
    expiresAt: new Float64Array(CHUNK),
    decidedAt: new Float64Array(CHUNK),
    decision: new Uint8Array(CHUNK),
    decisionMeta: new Int32Array(CHUNK),
    state: new Uint8Array(CHUNK),
  };
}

/** Strings shared by many taps, by id, counted so that one no live tap names is forgotten. */
class Interner {
  private readonly ids = new Map<string, number>();
  private readonly strings: Array<string | undefined> = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  /** `hint`: an id that may name `s` already (its column's last), checked before the map. */
  acquire(s: string, hint = -1): number {
    if (hint >= 0 && this.strings[hint] === s) {
      this.refs[hint]!++;
      return hint;
    }
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.free.pop() ?? this.strings.length;
      this.ids.set(s, id);
      this.strings[id] = s;
      this.refs[id] = 0;
    }
    this.refs[id]!++;
    return id;
  }

  release(id: number): void {
    if (id < 0) return;
    if (--this.refs[id]! === 0) {
      this.ids.delete(this.strings[id]!);
      this.strings[id] = undefined;
      this.free.push(id);
    }
  }

  get(id: number): string {
    return this.strings[id]!;
  }

  get size(): number {
    return this.ids.size;
  }
}

/** FNV-1a over UTF-16 code units. */
function hashId(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function fitsBytes(s: string, max: number): boolean {
  if (s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

interface Extra {
  /** tap_id when it does not fit the slot. */
  tapId?: string;
  /** Content hash when it is not 22 Latin-1 characters. */
  h?: string;
  /** JSON of [v, src, reversed, held, adj] when any differs from a fresh tap's (0, null, 0, 0, {}). */
  mutable?: string;
  /** JSON of [rules, reasons] of the decision when either is not empty. */
  decisionDetail?: string;
}

function anyDefined(patch: Extra): boolean {
  for (const k in patch) if (patch[k as keyof Extra] !== undefined) return true;
  return false;
}

export interface CompactTapIndex {
  /** The slot of a tap, or -1. */
  find(tapId: string): number;
  insert(tapId: string, entry: TapIndexEntry, expiresAt: number): number;
  entry(slot: number): TapIndexEntry;
  /** Replaces the entry of a slot (an adjustment applied). */
  update(slot: number, entry: TapIndexEntry, expiresAt: number): void;
  expiresAt(slot: number): number;
  hasDecision(slot: number): boolean;
  decision(slot: number, tapId: string): Decision | null;
  setDecision(slot: number, d: Decision): void;
  remove(slot: number): void;
  /** Evicts from the oldest slot on while `expired(expiresAt)`; moves adjusted taps out of the way. */
  evict(expired: (expiresAt: number) => boolean): void;
  readonly size: number;
  /** Bytes held in typed arrays (chunks and hash table). */
  bytes(): number;
}

export function createCompactTapIndex(): CompactTapIndex {
  const chunks: Array<Chunk | undefined> = [];
  const extras = new Map<number, Extra>();
  const strings = new Interner();
  let head = 0; // next slot to allocate
  let tail = 0; // oldest slot that may be live
  let count = 0;
  let table = new Int32Array(1 << 16); // slot + 1; 0 empty
  let mask = table.length - 1;
  let lastMeta = { rulesVersion: '', geoDb: '', key: '' };
  // Platform, carrier, currency, month and status repeat from tap to tap: the id the column got last
  // is tried before a lookup by a string fresh from the input (hashed and compared anew every time).
  const lastIds = new Int32Array(STRS).fill(-1);
  const acquireIn = (column: number, value: string): number =>
    (lastIds[column] = strings.acquire(value, lastIds[column]));

  const chunkOf = (slot: number): Chunk => chunks[slot >>> CHUNK_BITS]!;

  const sameId = (slot: number, tapId: string, hv: number): boolean => {
    const c = chunkOf(slot);
    const i = slot & (CHUNK - 1);
    if (c.idHash[i] !== hv) return false;
    const len = c.idLen[i]!;
    if (len === ID_ELSEWHERE) return extras.get(slot)?.tapId === tapId;
    if (len !== tapId.length) return false;
    const base = i * ID_BYTES;
    for (let k = 0; k < len; k++) if (c.id[base + k] !== tapId.charCodeAt(k)) return false;
    return true;
  };

  const place = (slot: number, hv: number) => {
    let p = hv & mask;
    while (table[p] !== 0) p = (p + 1) & mask;
    table[p] = slot + 1;
  };

  const grow = () => {
    const old = table;
    table = new Int32Array(old.length * 2);
    mask = table.length - 1;
    for (const v of old) if (v !== 0) place(v - 1, chunkOf(v - 1).idHash[(v - 1) & (CHUNK - 1)]!);
  };

  const position = (slot: number): number => {
    let p = chunkOf(slot).idHash[slot & (CHUNK - 1)]! & mask;
    while (table[p] !== slot + 1) p = (p + 1) & mask;
    return p;
  };

  const unplace = (pos: number) => {
    let hole = pos;
    let j = pos;
    for (;;) {
      j = (j + 1) & mask;
      const v = table[j]!;
      if (v === 0) break;
      const ideal = chunkOf(v - 1).idHash[(v - 1) & (CHUNK - 1)]! & mask;
      // The entry at j may move into the hole unless its ideal position lies cyclically in (hole, j].
      const stays = hole <= j ? hole < ideal && ideal <= j : hole < ideal || ideal <= j;
      if (stays) continue;
      table[hole] = v;
      hole = j;
    }
    table[hole] = 0;
  };

  const setExtra = (slot: number, patch: Extra) => {
    const c = chunkOf(slot);
    const i = slot & (CHUNK - 1);
    // Most taps have nothing beside their slot: no object built for them.
    if ((c.state[i]! & 2) === 0 && !anyDefined(patch)) return;
    const e = extras.get(slot) ?? {};
    Object.assign(e, patch);
    for (const k of Object.keys(e) as Array<keyof Extra>) if (e[k] === undefined) delete e[k];
    if (Object.keys(e).length > 0) {
      extras.set(slot, e);
      c.state[i] = c.state[i]! | 2;
    } else {
      extras.delete(slot);
      c.state[i] = c.state[i]! & ~2;
    }
  };

  const writeEntry = (slot: number, entry: TapIndexEntry, expiresAt: number) => {
    const c = chunkOf(slot);
    const i = slot & (CHUNK - 1);
    const s = i * STRS;
    const previous = (c.state[i]! & 1) === 0 ? null : c.strs.slice(s, s + STRS);
    c.strs[s] = strings.acquire(entry.account_id);
    c.strs[s + 1] = strings.acquire(entry.msisdn_hash);
    c.strs[s + 2] = acquireIn(2, entry.platform_id);
    c.strs[s + 3] = entry.creator_id === null ? -1 : strings.acquire(entry.creator_id);
    c.strs[s + 4] = acquireIn(4, entry.carrier);
    c.strs[s + 5] = acquireIn(5, entry.currency);
    c.strs[s + 6] = acquireIn(6, entry.month);
    c.strs[s + 7] = acquireIn(7, entry.status);
    if (previous) for (const id of previous) strings.release(id);
    c.occurredAt[i] = entry.occurred_at;
    c.amount[i] = entry.amount;
    c.expiresAt[i] = expiresAt;
    let h: string | undefined;
    if (entry.h.length === HASH_BYTES && fitsBytes(entry.h, HASH_BYTES)) {
      for (let k = 0; k < HASH_BYTES; k++) c.h[i * HASH_BYTES + k] = entry.h.charCodeAt(k);
    } else h = entry.h;
    const plain =
      entry.v === 0 &&
      entry.src === null &&
      entry.reversed === 0 &&
      entry.held === 0 &&
      Object.keys(entry.adj).length === 0;
    c.state[i] = c.state[i]! | 1;
    setExtra(slot, {
      h,
      mutable: plain
        ? undefined
        : JSON.stringify([entry.v, entry.src, entry.reversed, entry.held, entry.adj]),
    });
  };

  const releaseSlot = (slot: number) => {
    const c = chunkOf(slot);
    const i = slot & (CHUNK - 1);
    const s = i * STRS;
    for (let k = 0; k < STRS; k++) strings.release(c.strs[s + k]!);
    if (c.decision[i] !== 0) strings.release(c.decisionMeta[i]!);
    c.state[i] = 0;
    c.decision[i] = 0;
    extras.delete(slot);
    count--;
  };

  const allocate = (): number => {
    const slot = head++;
    if ((slot & (CHUNK - 1)) === 0) chunks[slot >>> CHUNK_BITS] = newChunk();
    return slot;
  };

  const insertAt = (slot: number, tapId: string, hv: number) => {
    const c = chunkOf(slot);
    const i = slot & (CHUNK - 1);
    c.idHash[i] = hv;
    if (fitsBytes(tapId, ID_BYTES)) {
      c.idLen[i] = tapId.length;
      for (let k = 0; k < tapId.length; k++) c.id[i * ID_BYTES + k] = tapId.charCodeAt(k);
    } else {
      c.idLen[i] = ID_ELSEWHERE;
      setExtra(slot, { tapId });
    }
  };

  /** Copies a live slot to the head (its hash table entry follows), so the tail can move past it. */
  const relocate = (from: number) => {
    const to = allocate();
    const a = chunkOf(from);
    const b = chunkOf(to);
    const i = from & (CHUNK - 1);
    const j = to & (CHUNK - 1);
    b.id.set(a.id.subarray(i * ID_BYTES, (i + 1) * ID_BYTES), j * ID_BYTES);
    b.idLen[j] = a.idLen[i]!;
    b.idHash[j] = a.idHash[i]!;
    b.h.set(a.h.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), j * HASH_BYTES);
    b.strs.set(a.strs.subarray(i * STRS, (i + 1) * STRS), j * STRS);
    b.occurredAt[j] = a.occurredAt[i]!;
    b.amount[j] = a.amount[i]!;
    b.expiresAt[j] = a.expiresAt[i]!;
    b.decidedAt[j] = a.decidedAt[i]!;
    b.decision[j] = a.decision[i]!;
    b.decisionMeta[j] = a.decisionMeta[i]!;
    b.state[j] = a.state[i]!;
    const extra = extras.get(from);
    if (extra) {
      extras.set(to, extra);
      extras.delete(from);
    }
    table[position(from)] = to + 1;
    a.state[i] = 0;
  };

  return {
    find(tapId) {
      const hv = hashId(tapId);
      let p = hv & mask;
      for (let v = table[p]!; v !== 0; v = table[p]!) {
        if (sameId(v - 1, tapId, hv)) return v - 1;
        p = (p + 1) & mask;
      }
      return -1;
    },
    insert(tapId, entry, expiresAt) {
      if ((count + 1) * 10 > table.length * 7) grow();
      const slot = allocate();
      const hv = hashId(tapId);
      insertAt(slot, tapId, hv);
      writeEntry(slot, entry, expiresAt);
      place(slot, hv);
      count++;
      return slot;
    },
    entry(slot) {
      const c = chunkOf(slot);
      const i = slot & (CHUNK - 1);
      const s = i * STRS;
      const extra = (c.state[i]! & 2) !== 0 ? extras.get(slot) : undefined;
      const [v, src, reversed, held, adj] = extra?.mutable
        ? (JSON.parse(extra.mutable) as [number, string | null, number, number, TapIndexEntry['adj']])
        : [0, null, 0, 0, {}];
      const creator = c.strs[s + 3]!;
      return {
        v,
        h: extra?.h ?? String.fromCharCode(...c.h.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)),
        src,
        account_id: strings.get(c.strs[s]!),
        msisdn_hash: strings.get(c.strs[s + 1]!),
        platform_id: strings.get(c.strs[s + 2]!),
        creator_id: creator < 0 ? null : strings.get(creator),
        carrier: strings.get(c.strs[s + 4]!),
        currency: strings.get(c.strs[s + 5]!),
        occurred_at: c.occurredAt[i]!,
        month: strings.get(c.strs[s + 6]!),
        amount: c.amount[i]!,
        status: strings.get(c.strs[s + 7]!),
        reversed,
        held,
        adj,
      };
    },
    update(slot, entry, expiresAt) {
      writeEntry(slot, entry, expiresAt);
    },
    expiresAt: (slot) => chunkOf(slot).expiresAt[slot & (CHUNK - 1)]!,
    hasDecision: (slot) => chunkOf(slot).decision[slot & (CHUNK - 1)] !== 0,
    decision(slot, tapId) {
      const c = chunkOf(slot);
      const i = slot & (CHUNK - 1);
      const code = c.decision[i]!;
      if (code === 0) return null;
      const [rulesVersion, geoDb] = JSON.parse(strings.get(c.decisionMeta[i]!)) as [string, string];
      const detail = (code & 16) !== 0 ? extras.get(slot)?.decisionDetail : undefined;
      const [rules, reasons] = detail
        ? (JSON.parse(detail) as [Decision['rules'], string[]])
        : [[] as Decision['rules'], [] as string[]];
      const d: Decision = {
        tap_id: tapId,
        decision: OUTCOMES[(code & 3) - 1]!,
        rules,
        reasons,
        rules_version: rulesVersion,
        geo_db: geoDb,
        decided_at: c.decidedAt[i]!,
      };
      if (code & 4) d.late = true;
      if (code & 8) d.duplicate = true;
      return d;
    },
    setDecision(slot, d) {
      const c = chunkOf(slot);
      const i = slot & (CHUNK - 1);
      if (c.decision[i] !== 0) strings.release(c.decisionMeta[i]!);
      const detailed = d.rules.length > 0 || d.reasons.length > 0;
      c.decision[i] =
        (OUTCOMES.indexOf(d.decision) + 1) |
        (d.late === true ? 4 : 0) |
        (d.duplicate === true ? 8 : 0) |
        (detailed ? 16 : 0);
      c.decidedAt[i] = d.decided_at;
      if (lastMeta.rulesVersion !== d.rules_version || lastMeta.geoDb !== d.geo_db)
        lastMeta = {
          rulesVersion: d.rules_version,
          geoDb: d.geo_db,
          key: JSON.stringify([d.rules_version, d.geo_db]),
        };
      c.decisionMeta[i] = strings.acquire(lastMeta.key);
      setExtra(slot, { decisionDetail: detailed ? JSON.stringify([d.rules, d.reasons]) : undefined });
    },
    remove(slot) {
      unplace(position(slot));
      releaseSlot(slot);
    },
    evict(expired) {
      const end = head; // slots moved to the head during this pass are not visited again
      while (tail < end) {
        const c = chunkOf(tail);
        const i = tail & (CHUNK - 1);
        const state = c.state[i]!;
        if ((state & 1) !== 0) {
          if (expired(c.expiresAt[i]!)) {
            unplace(position(tail));
            releaseSlot(tail);
          } else if ((state & 2) !== 0 && extras.get(tail)?.mutable !== undefined) {
            // An adjusted tap lives longer than its neighbours: move it instead of waiting for it.
            relocate(tail);
          } else break;
        }
        tail++;
        if ((tail & (CHUNK - 1)) === 0) chunks[(tail >>> CHUNK_BITS) - 1] = undefined;
      }
    },
    get size() {
      return count;
    },
    bytes() {
      let n = table.byteLength;
      for (const c of chunks) if (c) for (const a of Object.values(c)) n += (a as Uint8Array).byteLength;
      return n;
    },
  };
}
