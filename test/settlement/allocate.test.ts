import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, contractWeights, splitSum } from '../../settlement/allocate.ts';
import { parseDecimal } from '../../settlement/decimal.ts';

const d = (s: string) => parseDecimal(s)!;
const standard = contractWeights(d('0.05'), d('0.03'), d('0.30'));

/** A rate with up to 4 decimals, as text. */
const rateText = (maxTenThousandths: number) =>
  fc.integer({ min: 0, max: maxTenThousandths }).map((n) => (n / 10_000).toFixed(4));
const terms = fc
  .tuple(rateText(5000), rateText(5000), rateText(10_000))
  .map(([c, p, s]) => contractWeights(d(c), d(p), d(s)));
const amounts = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

describe('largest-remainder allocation', () => {
  it('splits a ₩333 tap as computed by hand', () => {
    // exact: carrier 16.65, PG 9.99, platform 0.30 × 306.36 = 91.908, creator 214.452; floors sum to 330;
    // the 3 leftover units go to PG (.99), platform (.908), carrier (.65).
    expect(allocate(333n, standard)).toEqual([17n, 10n, 92n, 214n]);
  });

  it('gives equal remainders to carrier, then PG, then platform, then creator', () => {
    // Four equal weights: 3 split 0.75 each; the three units go to the first three parties in order.
    const equal = { weights: [1n, 1n, 1n, 1n] as const, total: 4n };
    expect(allocate(3n, equal)).toEqual([1n, 1n, 1n, 0n]);
    expect(allocate(1n, equal)).toEqual([1n, 0n, 0n, 0n]);
    expect(allocate(-1n, equal)).toEqual([-1n, 0n, 0n, 0n]);
  });

  it('allocates a negative net as its absolute value, negated', () => {
    expect(allocate(-333n, standard)).toEqual([-17n, -10n, -92n, -214n]);
  });

  it('property: the four shares sum exactly to the amount', () => {
    fc.assert(
      fc.property(amounts, terms, (net, w) => {
        expect(splitSum(allocate(net, w))).toBe(net);
      }),
    );
  });

  it('property: each share is within one unit of its exact value', () => {
    fc.assert(
      fc.property(amounts, terms, (net, w) => {
        const parts = allocate(net, w);
        parts.forEach((part, i) => {
          // |part − net × w_i / total| < 1  ⇔  |part × total − net × w_i| < total
          const diff = part * w.total - net * w.weights[i]!;
          expect(diff < w.total && diff > -w.total).toBe(true);
        });
      }),
    );
  });

  it('property: a negative net mirrors the positive one', () => {
    fc.assert(
      fc.property(amounts, terms, (net, w) => {
        expect(allocate(-net, w).map((x) => -x)).toEqual(allocate(net, w).map((x) => x));
      }),
    );
  });

  it('property: no share is negative for a positive amount, and zero weight gets nothing', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), rateText(5000), (net, c) => {
        const w = contractWeights(d(c), d('0'), d('0'));
        const [carrier, pg, platform, creator] = allocate(net, w);
        expect(pg).toBe(0n);
        expect(platform).toBe(0n);
        expect(carrier >= 0n && creator >= 0n).toBe(true);
      }),
    );
  });
});
