import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCodec } from '../../schemas/codec.ts';
import { decryptPayload, encryptPayload, scrubReason, toDlqRecord } from '../../sinks/dlq.ts';

const key = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const otherKey = 'ff'.repeat(32);
const original = Buffer.from('{"type":"tap","msisdn":"010-1234-5678","ip":"164.124.101.2"}');

describe('DLQ payload encryption', () => {
  it('lays out version, nonce, tag, ciphertext, and decrypts with plain AES-256-GCM', () => {
    const payload = encryptPayload(original, key);
    expect(payload[0]).toBe(1);
    expect(payload.length).toBe(1 + 12 + 16 + original.length);
    expect(payload.includes(Buffer.from('010-1234-5678'))).toBe(false);
    // Decrypt with node:crypto directly from the documented layout, not through decryptPayload.
    const d = createDecipheriv('aes-256-gcm', Buffer.from(key, 'hex'), payload.subarray(1, 13));
    d.setAAD(payload.subarray(0, 1));
    d.setAuthTag(payload.subarray(13, 29));
    expect(Buffer.concat([d.update(payload.subarray(29)), d.final()]).equals(original)).toBe(true);
  });

  it('round-trips, with a fresh nonce each time', () => {
    const a = encryptPayload(original, key);
    const b = encryptPayload(original, key);
    expect(a.equals(b)).toBe(false);
    expect(decryptPayload(a, key).equals(original)).toBe(true);
    expect(decryptPayload(encryptPayload(Buffer.alloc(0), key), key).length).toBe(0);
  });

  it('refuses the wrong key, any altered byte, a short payload and an unknown version', () => {
    const payload = encryptPayload(original, key);
    expect(() => decryptPayload(payload, otherKey)).toThrow(/another TAPLINE_DATA_KEY, or altered/);
    for (const i of [1, 13, 29, payload.length - 1]) {
      const altered = Buffer.from(payload);
      altered[i]! ^= 0x01;
      expect(() => decryptPayload(altered, key), `byte ${i}`).toThrow(/cannot be decrypted/);
    }
    expect(() => decryptPayload(payload.subarray(0, 20), key)).toThrow(/shorter than its 29-byte header/);
    const v2 = Buffer.from(payload);
    v2[0] = 2;
    expect(() => decryptPayload(v2, key)).toThrow(/version 2 is unknown/);
  });

  it('refuses a malformed key', () => {
    expect(() => encryptPayload(original, 'abc')).toThrow(/64 hex characters/);
  });
});

describe('scrubReason', () => {
  it.each([
    ['bad msisdn 010-1234-5678 here', 'bad msisdn [phone] here'],
    ['from +82 10 1234 5678.', 'from [phone].'],
    ['ip 164.124.101.2 jumped', 'ip [ip] jumped'],
    ['ip 2001:db8::1 jumped', 'ip [ip] jumped'],
    [
      'amount: must be a positive integer of minor units, got 12.5',
      'amount: must be a positive integer of minor units, got 12.5',
    ],
    [
      'occurred_at: is before 2000-01-01, got "1999-12-31T23:59:59Z"',
      'occurred_at: is before 2000-01-01, got "1999-12-31T23:59:59Z"',
    ],
  ])('%s', (reason, scrubbed) => {
    expect(scrubReason(reason)).toBe(scrubbed);
  });

  it('masks a phone inside a long digit run, and stays fast on a hostile one', () => {
    expect(scrubReason(`${'9'.repeat(40)}01012345678${'9'.repeat(40)}`)).not.toContain('01012345678');
    expect(scrubReason('7'.repeat(1_000_000))).toBe('[a long run of digits]');
  });

  it('drops a phone number cut in two by the length cap', () => {
    // 120 phones of 17 characters fill 2,040; the 121st is cut at 2,048 and masking shrinks the rest below 1,024.
    const many = '+82 10 1234 5678 '.repeat(121);
    const out = scrubReason(many);
    expect(out).not.toMatch(/\d/);
    expect(out.endsWith('[phone] ')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(1024);
  });

  it('caps the length', () => {
    expect(scrubReason('x'.repeat(5000))).toHaveLength(1024);
  });
});

describe('toDlqRecord', () => {
  it('builds a dlq.v1 value that the codec carries, and the bytes come back', () => {
    const rec = toDlqRecord(
      {
        topic: 'taps',
        partition: 2,
        offset: 9_007_199_254_740_993n,
        code: 'VALIDATION_FAILED',
        reason: 'msisdn 01012345678 is blocked',
        bytes: original,
        failedAt: Date.UTC(2026, 10, 9),
      },
      key,
    );
    expect(rec).toMatchObject({
      topic: 'taps',
      partition: 2,
      offset: '9007199254740993',
      code: 'VALIDATION_FAILED',
      reason: 'msisdn [phone] is blocked',
      failed_at: Date.UTC(2026, 10, 9),
    });
    const codec = createCodec();
    const decoded = codec.decode('dlq', codec.encode('dlq', rec));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decryptPayload(decoded.value.payload, key).equals(original)).toBe(true);
  });
});

describe('DLQ payload properties', () => {
  it('any bytes round-trip, and any tampered or random payload is refused with DECODE_FAILED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 200 }), (bytes, junk) => {
        const payload = encryptPayload(Buffer.from(bytes), key);
        expect(decryptPayload(payload, key).equals(Buffer.from(bytes))).toBe(true);
        expect(() => decryptPayload(Buffer.from(junk), key)).toThrow(
          expect.objectContaining({ code: 'DECODE_FAILED' }) as unknown as Error,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('reasons never keep a phone number, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }),
        fc.integer({ min: 10_000_000, max: 99_999_999 }),
        fc.constantFrom('', ' ', '-', '0', '5 ', '1'.repeat(30)),
        (before, after, n, sep) => {
          const phone = `010-${String(n).slice(0, 4)}-${String(n).slice(4)}`;
          const scrubbed = scrubReason(`${before}${sep}${phone}${sep}${after}`);
          expect(scrubbed.includes(phone)).toBe(false);
          expect(scrubbed.includes(String(n))).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
