// Hostile input at every decoder: nothing throws, and every input comes back either accepted or
// refused with a code and a reason (so every record can be accounted for).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCodec, type DecodeOutcome } from '../../schemas/codec.ts';
import { schemaKinds } from '../../schemas/catalog.ts';
import { formatInputLine, parseInputLine, type ParseOutcome } from '../../schemas/jsonLines.ts';
import { carriers, channels, tapStatuses, type Tap } from '../../schemas/types.ts';
import { validateAdjustment, validateTap } from '../../schemas/validate.ts';
import { frame } from '../../schemas/wireFormat.ts';

const now = Date.UTC(2026, 10, 30);
const codec = createCodec({ now: () => now });
const knownIds = [101, 201, 301, 401, 501, 601, 701];
const codes = new Set(['DECODE_FAILED', 'VALIDATION_FAILED', 'UNKNOWN_SCHEMA_ID']);

function accounted(r: DecodeOutcome<unknown> | ParseOutcome): void {
  if (r.ok) return;
  expect(codes.has(r.code)).toBe(true);
  expect(typeof r.reason).toBe('string');
  expect(r.reason.length).toBeGreaterThan(0);
}

// Printable ASCII only: control characters are refused by validation and fuzzed separately below.
const id = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme-ascii' });
const tapArb: fc.Arbitrary<Tap> = fc.record({
  tap_id: id(64),
  occurred_at: fc.integer({ min: Date.UTC(2000, 0, 1), max: now }),
  account_id: id(128),
  msisdn: fc
    .integer({ min: 10_000_000, max: 99_999_999 })
    .map((n) => `010-${String(n).slice(0, 4)}-${String(n).slice(4)}`),
  carrier: fc.constantFrom(...carriers),
  device_id: id(128),
  ip: fc.oneof(fc.ipV4(), fc.ipV6()),
  platform_id: id(128),
  creator_id: fc.option(id(128)),
  item_id: fc.option(id(128)),
  channel: fc.option(fc.constantFrom(...channels)),
  amount: fc.integer({ min: 1, max: 1_000_000_000_000_000 }),
  currency: fc.constantFrom('KRW', 'USD', 'JPY', 'EUR'),
  status: fc.constantFrom(...tapStatuses),
  retry_of: fc.constant(null),
});

const hostileText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    "'; DROP TABLE taps; --",
    '1 OR 1=1',
    "Robert'); INSERT INTO decisions VALUES ('x'",
    '\u0000\u0001\u001b[31m',
    '\ud800',
    '__proto__',
    'constructor',
    '010-1234-5678',
    '\u202e\u2066',
    'x'.repeat(100_000),
  ),
);

describe('fuzz: Avro decoding', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...schemaKinds), (bytes, kind) => {
        accounted(codec.decode(kind, Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bodies under every known schema id', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.constantFrom(...knownIds),
        fc.constantFrom(...schemaKinds),
        (body, schemaId, kind) => {
          accounted(codec.decode(kind, frame(schemaId, Buffer.from(body))));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('valid taps round-trip; truncated, bit-flipped and re-labelled ones are refused or still valid', () => {
    fc.assert(
      fc.property(
        tapArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (tap, cut, flip, schemaId) => {
          const bytes = codec.encode('tap', tap);
          expect(codec.decode('tap', bytes)).toEqual({ ok: true, value: tap, schemaId: 101 });
          const truncated = codec.decode('tap', bytes.subarray(0, cut % bytes.length));
          expect(truncated.ok).toBe(false);
          accounted(truncated);
          const flipped = Buffer.from(bytes);
          const at = 5 + (flip % (bytes.length - 5));
          flipped[at]! ^= 1 << (flip % 8);
          const f = codec.decode('tap', flipped);
          accounted(f);
          if (f.ok) expect(validateTap(f.value, { now }).ok).toBe(true);
          const relabelled = Buffer.from(bytes);
          relabelled.writeUInt32BE(schemaId, 1);
          const r = codec.decode('tap', relabelled);
          accounted(r);
          if (schemaId !== 101) expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('oversize strings announced in a header are refused without allocating them', () => {
    // tap v1: tap_id announcing 2^40 bytes.
    const body = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    const r = codec.decode('tap', frame(101, body));
    expect(r).toMatchObject({ ok: false, code: 'DECODE_FAILED' });
  });
});

describe('fuzz: JSON Lines and validation', () => {
  it('arbitrary text lines', () => {
    fc.assert(
      fc.property(hostileText, (text) => accounted(parseInputLine(text, { now }))),
      { numRuns: 2000 },
    );
  });

  it('arbitrary JSON values, with and without a type', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 'tap', 'adjustment'), (value, type) => {
        const v =
          type && typeof value === 'object' && value !== null && !Array.isArray(value)
            ? { ...value, type }
            : value;
        accounted(parseInputLine(JSON.stringify(v) ?? 'null', { now }));
      }),
      { numRuns: 2000 },
    );
  });

  it('hostile values in every field of a good tap', () => {
    const fields = Object.keys(validTapLine());
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.oneof(hostileText, fc.anything()), (field, value) => {
        const line = JSON.stringify({ ...validTapLine(), [field]: value });
        if (line === undefined) return;
        const r = parseInputLine(line, { now });
        accounted(r);
        // A refused phone number or IP is never repeated in the reason.
        if (
          !r.ok &&
          (field === 'msisdn' || field === 'ip') &&
          typeof value === 'string' &&
          value.length >= 4
        ) {
          expect(r.reason.includes(value)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('anything at all given to the validators', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true }),
        (v) => {
          for (const r of [validateTap(v, { now }), validateAdjustment(v, { now })]) {
            if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('valid taps round-trip through JSON Lines', () => {
    fc.assert(
      fc.property(tapArb, (tap) => {
        expect(parseInputLine(formatInputLine({ type: 'tap', ...tap }), { now })).toEqual({
          ok: true,
          record: { type: 'tap', ...tap },
        });
      }),
      { numRuns: 500 },
    );
  });
});

function validTapLine(): Record<string, unknown> {
  return {
    type: 'tap',
    tap_id: 't-1',
    occurred_at: '2026-11-09T11:00:00Z',
    account_id: 'a',
    msisdn: '01012345678',
    carrier: 'SKT',
    device_id: 'd',
    ip: '10.0.0.1',
    platform_id: 'p',
    amount: 300,
    currency: 'KRW',
    status: 'APPROVED',
  };
}
