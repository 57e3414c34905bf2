/**
 * Benchmark workloads: deterministic synthetic taps (a seeded population of accounts, phones and
 * devices with event time moving forward) and their Avro encoding in the Confluent wire format.
 *
 * Encoding goes through the project's codec (schemas/codec.ts) when it exports `encodeTap`, so the
 * pipeline benchmarks feed the worker exactly what producers send; until then a local Avro schema with
 * the same fields as DESIGN.md stands in, which is enough for the passthrough baseline (it never decodes).
 */
import { existsSync } from 'node:fs';
import avro from 'avsc';
import type { Carrier, Tap, TapStatus } from '../schemas/types.ts';

/** Schema id written in the Confluent header by the stand-in encoder (not a registered id). */
export const BENCH_SCHEMA_ID = 9_001;

const benchTapType = avro.Type.forSchema({
  type: 'record',
  name: 'Tap',
  namespace: 'tapline.bench',
  fields: [
    { name: 'tap_id', type: 'string' },
    { name: 'occurred_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'account_id', type: 'string' },
    { name: 'msisdn', type: 'string' },
    { name: 'carrier', type: { type: 'enum', name: 'Carrier', symbols: ['SKT', 'KT', 'LGU', 'MVNO'] } },
    { name: 'device_id', type: 'string' },
    { name: 'ip', type: 'string' },
    { name: 'platform_id', type: 'string' },
    { name: 'creator_id', type: ['null', 'string'], default: null },
    { name: 'item_id', type: ['null', 'string'], default: null },
    {
      name: 'channel',
      type: ['null', { type: 'enum', name: 'Channel', symbols: ['APP', 'WEB', 'TV', 'VOICE', 'IOT'] }],
      default: null,
    },
    { name: 'amount', type: 'long' },
    { name: 'currency', type: 'string' },
    {
      name: 'status',
      type: { type: 'enum', name: 'TapStatus', symbols: ['APPROVED', 'DECLINED', 'FAILED'] },
    },
    { name: 'retry_of', type: ['null', 'string'], default: null },
  ],
});

/** Magic byte 0, 4-byte big-endian schema id, then the Avro body. */
export function confluentFrame(schemaId: number, body: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + body.length);
  framed.writeUInt8(0, 0);
  framed.writeUInt32BE(schemaId, 1);
  body.copy(framed, 5);
  return framed;
}

export function encodeBenchTap(tap: Tap): Buffer {
  return confluentFrame(BENCH_SCHEMA_ID, benchTapType.toBuffer(tap));
}

export function decodeBenchTap(framed: Buffer): Tap {
  return benchTapType.fromBuffer(framed.subarray(5)) as Tap;
}

export type TapEncoder = (tap: Tap) => Buffer;

export interface LoadedEncoder {
  encode: TapEncoder;
  /** 'schemas/codec.ts' or 'bench stand-in schema', for the report. */
  source: string;
}

/** The project's tap encoder (schemas/codec.ts `createCodec().encode('tap', …)`) if it has landed, else the stand-in. */
export async function loadTapEncoder(): Promise<LoadedEncoder> {
  const codecUrl = new URL('../schemas/codec.ts', import.meta.url);
  if (existsSync(codecUrl)) {
    const mod = (await import(codecUrl.href)) as Record<string, unknown>;
    const createCodec = mod['createCodec'];
    if (typeof createCodec === 'function') {
      const codec = (createCodec as () => { encode(kind: 'tap', tap: Tap): Buffer })();
      return { encode: (tap) => codec.encode('tap', tap), source: 'schemas/codec.ts' };
    }
  }
  return { encode: encodeBenchTap, source: 'bench stand-in schema' };
}

/** mulberry32: small, fast and seedable, so every run of a benchmark sends the same workload. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface WorkloadOptions {
  /** Distinct accounts; each has its own phone and device, with a few shared ones for realism. */
  accounts: number;
  seed?: number;
  /** Event time of the first tap (epoch ms). @default 2026-11-03T00:00:00Z */
  startMs?: number;
  /** Mean event-time gap between consecutive taps (ms). @default 20 */
  meanGapMs?: number;
  /** Prefix of tap ids, so a consumer can recognise its own taps among others. */
  idPrefix: string;
}

/** Tap ids are a run-unique prefix and a fixed-width number, so they can be found in any record's bytes. */
export const ID_DIGITS = 9;

export function benchTapId(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(ID_DIGITS, '0')}`;
}

const carrierList: Carrier[] = ['SKT', 'KT', 'LGU', 'MVNO'];
const amounts = [300, 500, 1_000, 1_100, 2_200, 3_300, 5_000];

/**
 * An endless, deterministic stream of taps. Accounts are drawn with a skew (a few heavy users), 5% of
 * taps are declined, 3% use a second device and 2% bill a shared phone, so every default rule has state
 * to keep.
 */
export function* syntheticTaps(options: WorkloadOptions): Generator<Tap> {
  const random = seededRandom(options.seed ?? 42);
  const start = options.startMs ?? Date.UTC(2026, 10, 3);
  const meanGap = options.meanGapMs ?? 20;
  let time = start;
  for (let i = 0; ; i++) {
    time += Math.floor(random() * 2 * meanGap);
    // Square of a uniform: lower account numbers tap more often.
    const account = Math.floor(random() * random() * options.accounts);
    const r = random();
    const phone = r < 0.02 ? (account + 1) % options.accounts : account;
    const device = random() < 0.03 ? `dev-${account}-b` : `dev-${account}`;
    const status: TapStatus = random() < 0.05 ? 'DECLINED' : 'APPROVED';
    yield {
      tap_id: benchTapId(options.idPrefix, i),
      occurred_at: time,
      account_id: `acct-${account}`,
      msisdn: `+8210${String(10_000_000 + phone).slice(-8)}`,
      carrier: carrierList[phone % carrierList.length]!,
      device_id: device,
      ip: `211.234.${(account >> 8) & 255}.${account & 255}`,
      platform_id: account % 3 === 0 ? 'webtoonia' : 'coinplay',
      creator_id: account % 2 === 0 ? `creator-${account % 97}` : null,
      item_id: `item-${Math.floor(random() * 500)}`,
      channel: 'APP',
      amount: amounts[Math.floor(random() * amounts.length)]!,
      currency: 'KRW',
      status,
      retry_of: null,
    };
  }
}

export function takeTaps(options: WorkloadOptions, count: number): Tap[] {
  const out: Tap[] = [];
  for (const tap of syntheticTaps(options)) {
    if (out.length === count) break;
    out.push(tap);
  }
  return out;
}
