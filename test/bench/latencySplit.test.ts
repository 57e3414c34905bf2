// The latency benchmark's split of a rate's taps into its ramp and its steady window.
import { describe, expect, it } from 'vitest';
import { splitAtStart } from '../../bench/latency.ts';

describe('splitAtStart', () => {
  const sentAt = new Map([
    ['a', 100],
    ['b', 199.5],
    ['c', 200],
    ['d', 250],
  ]);
  const seen = new Map([
    ['a', 180],
    ['b', 210],
    ['c', 205],
    ['d', 300],
  ]);

  it('puts taps sent before the window in the ramp and the rest, from its start on, in the window', () => {
    const { steady, rampLatencies } = splitAtStart(sentAt, seen, 200);
    expect(rampLatencies).toEqual([80, 10.5]);
    expect(steady).toEqual([5, 50]);
  });

  it('refuses a tap without a decision rather than leaving it out', () => {
    const partial = new Map(seen);
    partial.delete('c');
    expect(() => splitAtStart(sentAt, partial, 0)).toThrow('tap c has no decision');
  });
});
