import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { enrichTap, hashMsisdn, normalizeMsisdn } from '../../schemas/msisdn.ts';
import type { Tap } from '../../schemas/types.ts';

describe('normalizeMsisdn', () => {
  it.each([
    ['010-1234-5678', '+821012345678'],
    ['01012345678', '+821012345678'],
    ['+82 10 1234 5678', '+821012345678'],
    ['+821012345678', '+821012345678'],
    ['+82 (0)10-1234-5678', '+821012345678'],
    ['+82-010-1234-5678', '+821012345678'],
    ['821012345678', '+821012345678'],
    ['010.1234.5678', '+821012345678'],
    ['011-123-4567', '+82111234567'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['+44 20 7946 0958', '+442079460958'],
  ])('%s → %s', (raw, e164) => {
    expect(normalizeMsisdn(raw)).toBe(e164);
  });

  it.each([
    '',
    'abc',
    '010-1234-567',
    '010-1234-56789',
    '02-123-4567',
    '+0 123 4567 89',
    '+1234567',
    '+1234567890123456',
    '12345678',
    '010 1234 5678 ext 9',
    '++821012345678',
    '0'.repeat(40),
    "01012345678' OR 1=1 --",
  ])('%j is not a phone number', (raw) => {
    expect(normalizeMsisdn(raw)).toBeNull();
  });
});

describe('hashMsisdn', () => {
  it('is HMAC-SHA256 hex under the key, and the same phone gives the same hash in every form', () => {
    const expected = createHmac('sha256', 'k-0123456789abcdef').update('+821012345678').digest('hex');
    expect(hashMsisdn('+821012345678', 'k-0123456789abcdef')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    // Known vector, computed with openssl, not by this code:
    // printf %s +821012345678 | openssl dgst -sha256 -hmac k-0123456789abcdef
    expect(hashMsisdn('+821012345678', 'k-0123456789abcdef')).toBe(
      '2be55abc5621da91ddc388e9f83c265b1d2f7d100b2a4637ffbb6cb77ca790b2',
    );
    expect(hashMsisdn('+821012345678', 'another-key-0123456')).not.toBe(expected);
  });
});

const tap: Tap = {
  tap_id: 't-1',
  occurred_at: Date.UTC(2026, 10, 9, 11),
  account_id: 'acc-1',
  msisdn: '010-1234-5678',
  carrier: 'SKT',
  device_id: 'dev-1',
  ip: '164.124.101.2',
  platform_id: 'toonville',
  creator_id: null,
  item_id: 'ep-3',
  channel: 'APP',
  amount: 1000,
  currency: 'KRW',
  status: 'APPROVED',
  retry_of: null,
};

describe('enrichTap', () => {
  it('replaces the raw number by the hash of its E.164 form and records the key version', () => {
    const enriched = enrichTap(tap, { key: 'k-0123456789abcdef', version: 3 });
    if ('error' in enriched) throw new Error(enriched.error);
    expect(enriched.msisdn_hash).toBe(hashMsisdn('+821012345678', 'k-0123456789abcdef'));
    expect(enriched.msisdn_key_version).toBe(3);
    expect('msisdn' in enriched).toBe(false);
    expect(JSON.stringify(enriched)).not.toContain('1234');
    const { msisdn: _m, ...rest } = tap;
    const { msisdn_hash: _h, msisdn_key_version: _v, ...same } = enriched;
    expect(same).toEqual(rest);
  });

  it('gives the same hash for the national and the international form', () => {
    const a = enrichTap(tap, { key: 'k-0123456789abcdef', version: 1 });
    const b = enrichTap({ ...tap, msisdn: '+82 10 1234 5678' }, { key: 'k-0123456789abcdef', version: 1 });
    expect(a).toEqual(b);
  });

  it('refuses a number it cannot read, without repeating it', () => {
    const out = enrichTap({ ...tap, msisdn: '010-9999-88' }, { key: 'k-0123456789abcdef', version: 1 });
    expect(out).toEqual({ error: expect.stringContaining('msisdn:') });
    expect(JSON.stringify(out)).not.toContain('9999');
  });
});
