import { describe, expect, it } from 'vitest';
import { parseContracts, termsInForce } from '../../settlement/contracts.ts';
import { parseDecimal } from '../../settlement/decimal.ts';
import { baseTerms } from './builders.ts';

const october = { ...baseTerms, effective_from: '2026-10-01' };
const november = {
  effective_from: '2026-11-01',
  carrier_fee: { SKT: '0.04', KT: '0.04', LGU: '0.04', MVNO: '0.05' },
  pg_fee: '0.025',
  platform_share: { default: '0.40' },
};

function invalid(document: unknown): string {
  try {
    parseContracts(document, 'c.json');
  } catch (e) {
    expect((e as { code?: string }).code).toBe('CONTRACTS_INVALID');
    return (e as Error).message;
  }
  throw new Error('expected CONTRACTS_INVALID');
}

describe('contracts', () => {
  it('parses rates exactly', () => {
    expect(parseDecimal('0.035')).toMatchObject({ numerator: 35n, scale: 3 });
    expect(parseDecimal('1')).toMatchObject({ numerator: 1n, scale: 0 });
    expect(parseDecimal('1e-2')).toBeUndefined();
    expect(parseDecimal('-0.1')).toBeUndefined();
    expect(parseDecimal('.5')).toBeUndefined();
  });

  it('applies the latest version not after the tap local date in Seoul', () => {
    const c = parseContracts({ terms: [november, october] });
    expect(termsInForce(c, Date.parse('2026-10-31T14:59:59.999Z'))?.effectiveFrom).toBe('2026-10-01');
    // 2026-10-31T15:00Z is midnight of November 1st in Seoul.
    expect(termsInForce(c, Date.parse('2026-10-31T15:00:00Z'))?.effectiveFrom).toBe('2026-11-01');
    expect(termsInForce(c, Date.parse('2026-09-30T14:59:59Z'))).toBeUndefined();
  });

  it('defaults the minimum payouts: creators 10,000, others 0', () => {
    expect(parseContracts({ terms: [baseTerms] }).minPayout).toEqual({
      carrier: 0n,
      creator: 10_000n,
      pg: 0n,
      platform: 0n,
    });
    expect(parseContracts({ min_payout: { platform: 500 }, terms: [baseTerms] }).minPayout.platform).toBe(
      500n,
    );
  });

  it('names the path and field that is wrong', () => {
    expect(invalid({ terms: [{ ...baseTerms, pg_fee: 0.03 }] })).toMatch(
      /terms\[0\]\.pg_fee: .*decimal string/,
    );
    expect(invalid({ terms: [{ ...baseTerms, carrier_fee: { SKT: '0.05' } }] })).toMatch(
      /terms\[0\]\.carrier_fee\.KT/,
    );
    expect(invalid({ terms: [{ ...baseTerms, platform_share: { toonville: '0.3' } }] })).toMatch(
      /terms\[0\]\.platform_share: .*default/,
    );
    expect(invalid({ terms: [{ ...baseTerms, effective_from: '2026-02-30' }] })).toMatch(
      /terms\[0\]\.effective_from: is not a real calendar date/,
    );
    expect(invalid({ terms: [{ ...baseTerms, pg_fee: '1.5' }] })).toMatch(/pg_fee: must be between 0 and 1/);
    expect(invalid({ terms: [{ ...baseTerms, pg_fee: '0.96' }] })).toMatch(
      /carrier_fee\.SKT \+ pg_fee exceed 1/,
    );
    expect(invalid({ terms: [baseTerms, baseTerms] })).toMatch(/two versions take effect on 2026-01-01/);
    expect(invalid({ terms: [] })).toMatch(/terms: needs at least one version/);
    expect(invalid({ min_payout: { creator: 10.5 }, terms: [baseTerms] })).toMatch(/min_payout\.creator/);
  });
});
