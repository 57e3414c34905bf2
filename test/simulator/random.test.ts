import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Random, Weighted, deriveSeed, zipfWeights } from '../../simulator/random.ts';
import { EventQueue } from '../../simulator/eventQueue.ts';

describe('Random (sfc32)', () => {
  it('repeats its sequence for the same seed and departs from it for another', () => {
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 50 }, () => r.uint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(new Set(draw(42)).size).toBe(50);
  });

  it('derives distinct stream seeds', () => {
    const seeds = new Set([0, 1, 2, 3].flatMap((s) => [0, 1, 2, 3].map((i) => deriveSeed(s, i))));
    expect(seeds.size).toBe(16);
  });

  it('is uniform enough: mean, inclusive integer bounds, bucket counts', () => {
    const r = new Random(7);
    const n = 100_000;
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
      buckets[Math.floor(x * 10)]!++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 100);
    const ints = new Set(Array.from({ length: 2000 }, () => r.int(3, 6)));
    expect([...ints].sort()).toEqual([3, 4, 5, 6]);
  });

  it('samples weighted items in proportion', () => {
    const r = new Random(1);
    const w = new Weighted([
      ['a', 1],
      ['b', 3],
      ['c', 6],
    ] as const);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 60_000; i++) counts[w.sample(r)]!++;
    expect(counts['a']! / 60_000).toBeCloseTo(0.1, 1);
    expect(counts['b']! / 60_000).toBeCloseTo(0.3, 1);
    expect(counts['c']! / 60_000).toBeCloseTo(0.6, 1);
  });

  it('gives Zipf weights that fall with rank', () => {
    const w = zipfWeights(100);
    expect(w[0]).toBe(1);
    expect(w[0]! / w[9]!).toBeGreaterThan(10);
  });
});

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const out: Array<[number, number]> = [];
        for (let e = q.pop(); e; e = q.pop()) out.push([e.at, e.item]);
        const expected = times
          .map((t, i) => [t, i] as [number, number])
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
    );
  });
});
