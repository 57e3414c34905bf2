/**
 * Exact decimal rates. A contract rate such as "0.035" is parsed into an integer numerator over a power
 * of ten, so allocation works on BigInt only: no float ever touches money.
 */

export interface DecimalRate {
  /** The rate is numerator / 10^scale exactly. */
  numerator: bigint;
  scale: number;
  /** The text it was parsed from, kept for messages and the statement. */
  text: string;
}

const decimalPattern = /^(0|[1-9]\d*)(?:\.(\d+))?$/;

/** Parses a non-negative decimal string; returns undefined when it is not one (no exponent, no sign). */
export function parseDecimal(text: string): DecimalRate | undefined {
  const m = decimalPattern.exec(text);
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  return { numerator: BigInt(`${m[1]}${fraction}`), scale: fraction.length, text };
}

/** The numerator of `rate` over 10^scale (scale at least the rate's own). */
export function numeratorAt(rate: DecimalRate, scale: number): bigint {
  if (scale < rate.scale) throw new RangeError(`scale ${scale} is below the rate's ${rate.scale}`);
  return rate.numerator * 10n ** BigInt(scale - rate.scale);
}

/** Compares a rate with one (the whole): -1, 0 or 1. */
export function compareToOne(rate: DecimalRate): number {
  const one = 10n ** BigInt(rate.scale);
  return rate.numerator < one ? -1 : rate.numerator === one ? 0 : 1;
}
