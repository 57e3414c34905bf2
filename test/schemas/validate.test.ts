import { describe, expect, it } from 'vitest';
import { validateAdjustment, validateTap } from '../../schemas/validate.ts';

const now = Date.UTC(2026, 10, 10, 0, 0, 0);
const goodTap = {
  tap_id: 'ex-01',
  occurred_at: '2026-11-09T11:00:00.000Z',
  account_id: 'acc-jiho',
  msisdn: '+821098760001',
  carrier: 'KT',
  device_id: 'dev-a1',
  ip: '164.124.101.2',
  platform_id: 'toonville',
  creator_id: 'c-mina',
  amount: 1000,
  currency: 'KRW',
  status: 'APPROVED',
};
const goodAdjustment = {
  adjustment_id: 'adj-1',
  occurred_at: '2026-11-09T20:00:00+09:00',
  tap_id: 'ex-01',
  kind: 'REFUND',
  amount: 500,
};

function reasonFor(patch: Record<string, unknown>): string {
  const r = validateTap({ ...goodTap, ...patch }, { now });
  if (r.ok) throw new Error(`expected a refusal for ${JSON.stringify(patch)}`);
  expect(r.code).toBe('VALIDATION_FAILED');
  return r.reason;
}

describe('validateTap', () => {
  it('accepts a good tap and fills absent optional fields with null', () => {
    expect(validateTap(goodTap, { now })).toEqual({
      ok: true,
      value: {
        ...goodTap,
        occurred_at: Date.UTC(2026, 10, 9, 11),
        item_id: null,
        channel: null,
        retry_of: null,
      },
    });
  });

  it('reads offsets and Avro epoch ms to the same instant', () => {
    const a = validateTap({ ...goodTap, occurred_at: '2026-11-09T20:00:00.000+09:00' }, { now });
    const b = validateTap({ ...goodTap, occurred_at: Date.UTC(2026, 10, 9, 11) }, { now });
    const c = validateTap({ ...goodTap, occurred_at: '2026-11-09T06:00:00-05:00' }, { now });
    expect(a.ok && a.value.occurred_at).toBe(Date.UTC(2026, 10, 9, 11));
    expect(b.ok && b.value.occurred_at).toBe(Date.UTC(2026, 10, 9, 11));
    expect(c.ok && c.value.occurred_at).toBe(Date.UTC(2026, 10, 9, 11));
  });

  it.each<[Record<string, unknown>, string]>([
    [{ amount: 12.5 }, 'amount: must be a positive integer of minor units, got 12.5'],
    [{ amount: 0 }, 'amount: must be a positive integer of minor units, got 0'],
    [{ amount: -300 }, 'amount: must be a positive integer of minor units, got -300'],
    [{ amount: '1000' }, 'amount: must be a positive integer of minor units, got "1000"'],
    [{ amount: 2 ** 53 }, 'amount: must be a positive integer of minor units, got 9007199254740992'],
    [{ amount: 1e15 + 1 }, 'amount: must be at most 1000000000000000 minor units, got 1000000000000001'],
    [{ amount: undefined }, 'amount: is required, got nothing'],
    [{ amount: null }, 'amount: is required, got null'],
    [{ tap_id: '' }, 'tap_id: must be 1–64 characters long, got 0'],
    [{ tap_id: 'x'.repeat(65) }, 'tap_id: must be 1–64 characters long, got 65'],
    [{ account_id: 'a'.repeat(129) }, 'account_id: must be 1–128 characters long, got 129'],
    [{ account_id: 42 }, 'account_id: must be a string, got 42'],
    [{ account_id: 'acc\u0000x' }, 'account_id: contains control characters, got "acc\\u0000x"'],
    [{ device_id: 'd\ud800' }, 'device_id: contains broken Unicode (a lone surrogate)'],
    [{ currency: 'krw' }, 'currency: must be an ISO 4217 code such as KRW (upper case), got "krw"'],
    [{ currency: 'XYZ' }, 'currency: must be an ISO 4217 code such as KRW (upper case), got "XYZ"'],
    [{ currency: 'KRWW' }, 'currency: must be 3–3 characters long, got 4'],
    [{ carrier: 'skt' }, 'carrier: must be one of SKT, KT, LGU, MVNO, got "skt"'],
    [{ carrier: 'LG U+' }, 'carrier: must be one of SKT, KT, LGU, MVNO, got "LG U+"'],
    [{ status: 'OK' }, 'status: must be one of APPROVED, DECLINED, FAILED, got "OK"'],
    [{ channel: 'SMS' }, 'channel: must be one of APP, WEB, TV, VOICE, IOT, got "SMS"'],
    [{ channel: '' }, 'channel: must be one of APP, WEB, TV, VOICE, IOT, got ""'],
    [{ creator_id: '' }, 'creator_id: must be 1–128 characters long, got 0'],
    [{ retry_of: 'ex-01' }, 'retry_of: names the tap itself'],
    [{ occurred_at: '2026-11-09T11:00:00' }, 'occurred_at: has no zone; add Z or an offset such as +09:00'],
    [{ occurred_at: '2026-11-09 11:00:00Z' }, 'occurred_at: must be an ISO-8601 timestamp with a zone'],
    [{ occurred_at: '2026-02-30T11:00:00Z' }, 'occurred_at: is not a real date and time'],
    [{ occurred_at: '2026-11-09T24:00:00Z' }, 'occurred_at: is not a real date and time'],
    [{ occurred_at: '2026-11-09T11:00:00+19:00' }, 'occurred_at: has an impossible zone offset +19:00'],
    [{ occurred_at: '1999-12-31T23:59:59.999Z' }, 'occurred_at: is before 2000-01-01'],
    [{ occurred_at: '2026-11-11T00:00:00.001Z' }, 'occurred_at: is more than a day in the future'],
    [{ occurred_at: 1.5 }, 'occurred_at: must be an ISO-8601 timestamp with a zone, got 1.5'],
    [{ creater_id: 'c-mina' }, '"creater_id": is not a field of this record (check the spelling)'],
  ])('refuses %j', (patch, reason) => {
    expect(reasonFor(patch)).toContain(reason);
  });

  it('accepts exactly one day ahead of now, and 2000-01-01T00:00Z', () => {
    expect(validateTap({ ...goodTap, occurred_at: '2026-11-11T00:00:00.000Z' }, { now }).ok).toBe(true);
    expect(validateTap({ ...goodTap, occurred_at: '2000-01-01T00:00:00Z' }, { now }).ok).toBe(true);
  });

  it('accepts IPv6 and refuses unparseable addresses without echoing them', () => {
    expect(validateTap({ ...goodTap, ip: '2001:db8::1' }, { now }).ok).toBe(true);
    for (const ip of ['164.124.101.256', '10.0.0', 'localhost', '2001:db8:::1']) {
      const reason = reasonFor({ ip });
      expect(reason).toMatch(/^ip: is not a parseable IPv4 or IPv6 address/);
      expect(reason).not.toContain(ip);
    }
  });

  it('refuses a bad phone number without echoing it', () => {
    const reason = reasonFor({ msisdn: '010-5555-12' });
    expect(reason).toBe('msisdn: is not a Korean national (010-…) or E.164 (+…) phone number');
    expect(reasonFor({ msisdn: 1012345678 })).toBe('msisdn: must be a string, got number');
  });

  it('lists every problem of a record, not just the first', () => {
    const reason = reasonFor({ amount: 1.5, currency: 'won', carrier: undefined });
    expect(reason.split('; ').map((p) => p.split(':')[0])).toEqual(['carrier', 'amount', 'currency']);
  });

  it.each([null, 'tap', 42, [goodTap]])('refuses a non-object %j', (v) => {
    const r = validateTap(v, { now });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^tap: must be an object/);
  });

  it('checks the future against the clock by default', () => {
    const farFuture = new Date(Date.now() + 2 * 86_400_000).toISOString();
    expect(validateTap({ ...goodTap, occurred_at: farFuture }).ok).toBe(false);
    expect(validateTap({ ...goodTap, occurred_at: new Date().toISOString() }).ok).toBe(true);
  });
});

describe('validateAdjustment', () => {
  it('accepts a good adjustment', () => {
    expect(validateAdjustment({ ...goodAdjustment, reason: 'user asked\tfor a refund\n' }, { now })).toEqual({
      ok: true,
      value: {
        ...goodAdjustment,
        occurred_at: Date.UTC(2026, 10, 9, 11),
        reason: 'user asked\tfor a refund\n',
      },
    });
  });

  it.each<[Record<string, unknown>, string]>([
    [
      { kind: 'refund' },
      'kind: must be one of REFUND, CHARGEBACK, UNPAID, COLLECTED, WRITE_OFF, got "refund"',
    ],
    [{ amount: 0.1 }, 'amount: must be a positive integer of minor units, got 0.1'],
    [{ reason: 'r'.repeat(513) }, 'reason: must be 1–512 characters long, got 513'],
    [{ reason: 'bell\u0007' }, 'reason: contains control characters'],
    [{ tap_id: undefined }, 'tap_id: is required, got nothing'],
    [{ adjustment_id: 'a'.repeat(129) }, 'adjustment_id: must be 1–128 characters long, got 129'],
    [{ occurred_at: '2026-11-09' }, 'occurred_at: must be an ISO-8601 timestamp with a zone'],
    [{ msisdn: '01012345678' }, '"msisdn": is not a field of this record'],
  ])('refuses %j', (patch, reason) => {
    const r = validateAdjustment({ ...goodAdjustment, ...patch }, { now });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });
});
