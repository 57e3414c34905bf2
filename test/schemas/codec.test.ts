import { describe, expect, it } from 'vitest';
import { createCodec } from '../../schemas/codec.ts';
import type {
  Adjustment,
  Alert,
  AppliedAdjustment,
  Decision,
  DlqRecord,
  EnrichedTap,
  Tap,
} from '../../schemas/types.ts';
import { frame, unframe } from '../../schemas/wireFormat.ts';

const now = Date.UTC(2026, 10, 30);
const codec = createCodec({ now: () => now });
const t0 = Date.UTC(2026, 10, 9, 11); // 1794222000000

const tap: Tap = {
  tap_id: 'ex-01',
  occurred_at: t0,
  account_id: 'acc-jiho',
  msisdn: '+821098760001',
  carrier: 'KT',
  device_id: 'dev-a1',
  ip: '164.124.101.2',
  platform_id: 'toonville',
  creator_id: 'c-mina',
  item_id: null,
  channel: 'APP',
  amount: 1000,
  currency: 'KRW',
  status: 'APPROVED',
  retry_of: null,
};
const decision: Decision = {
  tap_id: 'ex-08',
  decision: 'REVIEW',
  rules: ['account_burst'],
  reasons: ['6 taps within 60 s (limit 5)'],
  rules_version: 'defaults-1',
  geo_db: 'geolite2-city-2026-06-17',
  decided_at: t0 + 12,
};

describe('wire format', () => {
  it('frames with magic byte 0 and a big-endian schema id', () => {
    expect([...frame(0x01020304, Buffer.from([0xaa]))]).toEqual([0, 1, 2, 3, 4, 0xaa]);
    expect(unframe(Buffer.from([0, 0, 0, 1, 0x2d, 7]))).toEqual({
      ok: true,
      schemaId: 301,
      body: Buffer.from([7]),
    });
  });

  it('names a short buffer and a bad magic byte', () => {
    expect(unframe(Buffer.from([0, 0, 0]))).toMatchObject({ ok: false, problem: 'short-buffer' });
    expect(unframe(Buffer.from('{"tap_id":1}'))).toMatchObject({
      ok: false,
      problem: 'bad-magic',
      reason: expect.stringContaining('0x7b'),
    });
  });
});

describe('codec, byte level', () => {
  const adjustment: Adjustment = {
    adjustment_id: 'a1',
    occurred_at: t0,
    tap_id: 't1',
    kind: 'UNPAID',
    amount: 5000,
    reason: null,
  };
  // Built by hand from the Avro spec: zig-zag varints, length-prefixed strings, enum index, union index.
  const expected = Buffer.from([
    ...[0x00, 0x00, 0x00, 0x00, 0xc9], // magic 0, schema id 201 (adjustment v1)
    ...[0x04, 0x61, 0x31], // adjustment_id "a1"
    ...[0x80, 0x9e, 0xb8, 0xff, 0xb7, 0x68], // occurred_at 1794222000000 ms
    ...[0x04, 0x74, 0x31], // tap_id "t1"
    0x04, // kind: symbol 2 = UNPAID
    ...[0x90, 0x4e], // amount 5000
    0x00, // reason: union branch 0 = null
  ]);

  it('encodes an adjustment to exactly the expected bytes', () => {
    expect(codec.encode('adjustment', adjustment).equals(expected)).toBe(true);
  });

  it('decodes the hand-built bytes', () => {
    expect(codec.decode('adjustment', expected)).toEqual({ ok: true, value: adjustment, schemaId: 201 });
  });

  it('encodes a present optional string as union branch 1', () => {
    const bytes = codec.encode('adjustment', { ...adjustment, reason: 'x' });
    expect([...bytes.subarray(-3)]).toEqual([0x02, 0x02, 0x78]);
  });
});

describe('codec round trips', () => {
  const enriched: EnrichedTap = {
    ...tap,
    msisdn_hash: 'ab'.repeat(32),
    msisdn_key_version: 2,
  } as EnrichedTap;
  delete (enriched as Partial<Tap>).msisdn;
  const alert: Alert = {
    ...decision,
    decision: 'BLOCK',
    duplicate: true,
    account_id: 'acc-1',
    platform_id: 'toonville',
    amount: 5000,
    currency: 'KRW',
    occurred_at: t0,
  };
  const dlq: DlqRecord = {
    topic: 'taps',
    partition: 3,
    offset: '9007199254740993',
    code: 'DECODE_FAILED',
    reason: 'not valid',
    failed_at: t0,
    payload: Buffer.from([1, 2, 3, 0]),
  };

  const applied: AppliedAdjustment = {
    adjustment_id: 'adj-9',
    occurred_at: t0 + 86_400_000,
    tap_id: 'ex-10',
    kind: 'REFUND',
    amount: 300,
    reason: 'customer request',
    account_id: 'acc-1',
    msisdn_hash: 'cd'.repeat(32),
    platform_id: 'toonville',
    creator_id: null,
    carrier: 'MVNO',
    currency: 'KRW',
    tap_occurred_at: t0,
  };

  it.each([
    ['tap', tap, 101],
    ['adjustmentApplied', applied, 701],
    ['tapEnriched', enriched, 301],
    ['decision', decision, 401],
    ['decision', { ...decision, late: true }, 401],
    ['alert', alert, 501],
    ['dlq', dlq, 601],
  ] as const)('%s', (kind, value, schemaId) => {
    const bytes = codec.encode(kind, value as never);
    expect(bytes.readUInt32BE(1)).toBe(schemaId);
    expect(codec.decode(kind, bytes)).toEqual({ ok: true, value, schemaId });
  });

  it('keeps false flags out of decoded decisions, like the JSON lines', () => {
    const out = codec.decode('decision', codec.encode('decision', { ...decision, duplicate: false }));
    expect(out.ok && Object.keys(out.value)).not.toContain('duplicate');
  });
});

describe('codec refusals', () => {
  it('refuses to encode a value that does not fit, naming the field', () => {
    expect(() => codec.encode('tap', { ...tap, amount: 1.5 })).toThrow(/invalid amount/);
    expect(() => codec.encode('tap', { ...tap, carrier: 'XX' as never })).toThrow(/invalid carrier/);
    expect(() => codec.encode('tap', { ...tap, occurred_at: new Date(t0) as never })).toThrow(/occurred_at/);
  });

  it('validates decoded taps with the JSON Lines rules', () => {
    const type = codec.encode('tap', { ...tap, currency: 'ZZZ', ip: 'nope' });
    expect(codec.decode('tap', type)).toEqual({
      ok: false,
      code: 'VALIDATION_FAILED',
      reason: expect.stringMatching(/^ip: .*; currency: must be an ISO 4217 code/),
    });
  });

  it('refuses a record framed with another kind or an unknown id', () => {
    const bytes = codec.encode('decision', decision);
    expect(codec.decode('tap', bytes)).toMatchObject({
      ok: false,
      code: 'UNKNOWN_SCHEMA_ID',
      reason: 'schema id 401 is decision v1, not a tap (wrong topic?)',
    });
    bytes.writeUInt32BE(999, 1);
    expect(codec.decode('decision', bytes)).toMatchObject({ ok: false, code: 'UNKNOWN_SCHEMA_ID' });
  });

  it('refuses truncated and padded records', () => {
    const bytes = codec.encode('tap', tap);
    for (let cut = 0; cut < bytes.length; cut += 1) {
      const r = codec.decode('tap', bytes.subarray(0, cut));
      expect(r.ok, `cut at ${cut}`).toBe(false);
    }
    expect(codec.decode('tap', Buffer.concat([bytes, Buffer.from([0])]))).toMatchObject({
      ok: false,
      code: 'DECODE_FAILED',
      reason: expect.stringContaining('1 bytes left over'),
    });
  });

  it('refuses an array count the bytes cannot hold, instead of exhausting memory', () => {
    // decision v1: tap_id "", decision ALLOW, then rules announcing 2^31-1 items.
    const hostile = Buffer.from([0, 0, 0, 0x01, 0x91, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect(codec.decode('decision', hostile)).toMatchObject({
      ok: false,
      code: 'DECODE_FAILED',
      reason: expect.stringContaining('announces 2147483647 items'),
    });
  });
});
