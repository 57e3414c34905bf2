/**
 * Splitting an amount between carrier, PG, platform and creator by largest remainder (DESIGN.md,
 * Settlement): each party gets the integer part of its exact share, and the units left over go to the
 * largest fractional remainders; equal remainders take them in the order carrier, PG, platform,
 * creator. Everything is BigInt over integer weights, so the split is exact.
 */
import { numeratorAt, type DecimalRate } from './decimal.ts';

/** Amounts per party, always in this order: carrier, PG, platform, creator. */
export type Split = readonly [carrier: bigint, pg: bigint, platform: bigint, creator: bigint];

export const zeroSplit: Split = [0n, 0n, 0n, 0n];

/**
 * Integer weights proportional to each party's share; the share of party i of an amount A is exactly
 * A × weights[i] / total.
 */
export interface SplitWeights {
  weights: Split;
  total: bigint;
}

/**
 * Weights of the contract proportions: carrier rate, PG rate, (1 − carrier − PG) × platform rate, and
 * the rest to the creator. Over 10^(2K), K the largest number of decimals, all four are integers.
 */
export function contractWeights(carrier: DecimalRate, pg: DecimalRate, platform: DecimalRate): SplitWeights {
  const scale = Math.max(carrier.scale, pg.scale, platform.scale);
  const one = 10n ** BigInt(scale);
  const c = numeratorAt(carrier, scale);
  const p = numeratorAt(pg, scale);
  const s = numeratorAt(platform, scale);
  const total = one * one;
  const rest = one - c - p;
  if (rest < 0n || s > one) {
    throw new RangeError('carrier + PG rates exceed 1, or the platform rate exceeds 1');
  }
  const carrierW = c * one;
  const pgW = p * one;
  const platformW = rest * s;
  return { weights: [carrierW, pgW, platformW, total - carrierW - pgW - platformW], total };
}

/**
 * Largest-remainder split of `amount` by `weights`. The four parts sum exactly to `amount`, and each is
 * within one unit of its exact value. A negative amount is split as its absolute value, then negated,
 * so a reversal mirrors the sale it undoes.
 */
export function allocate(amount: bigint, { weights, total }: SplitWeights): Split {
  if (total <= 0n) throw new RangeError('split weights must have a positive total');
  if (amount < 0n) {
    const [a, b, c, d] = allocate(-amount, { weights, total });
    return [-a, -b, -c, -d];
  }
  const parts = weights.map((w) => (amount * w) / total);
  const remainders = weights.map((w) => (amount * w) % total);
  let leftover = amount - parts.reduce((sum, x) => sum + x, 0n);
  // Stable sort by remainder, largest first: equal remainders keep the party order.
  const order = [0, 1, 2, 3].sort((i, j) => {
    const ri = remainders[i]!;
    const rj = remainders[j]!;
    return ri === rj ? i - j : ri > rj ? -1 : 1;
  });
  for (const i of order) {
    if (leftover === 0n) break;
    parts[i] = parts[i]! + 1n;
    leftover -= 1n;
  }
  return [parts[0]!, parts[1]!, parts[2]!, parts[3]!];
}

export function addSplits(a: Split, b: Split): Split {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

export function subtractSplits(a: Split, b: Split): Split {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]];
}

export function splitSum(s: Split): bigint {
  return s[0] + s[1] + s[2] + s[3];
}
