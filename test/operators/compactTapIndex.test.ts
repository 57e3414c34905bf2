import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCompactTapIndex } from '../../operators/compactTapIndex.ts';
import type { TapIndexEntry } from '../../operators/entityState.ts';
import type { Decision } from '../../schemas/types.ts';

const entry = (i: number, over: Partial<TapIndexEntry> = {}): TapIndexEntry => ({
  v: 0,
  h: `hash${String(i).padStart(18, '0')}`,
  src: null,
  account_id: `acc-${i % 7}`,
  msisdn_hash: `phone-${i % 5}`,
  platform_id: 'webtoonia',
  creator_id: i % 3 === 0 ? null : `creator-${i % 4}`,
  carrier: 'KT',
  currency: 'KRW',
  occurred_at: 1_700_000_000_000 + i,
  month: '2026-11|KRW',
  amount: 300 + i,
  status: 'APPROVED',
  reversed: 0,
  held: 0,
  adj: {},
  ...over,
});

const decision = (tapId: string, i: number): Decision => ({
  tap_id: tapId,
  decision: (['ALLOW', 'REVIEW', 'BLOCK'] as const)[i % 3]!,
  rules: i % 3 === 0 ? [] : ['account_burst'],
  reasons: i % 3 === 0 ? [] : [`${i} taps`],
  rules_version: 'sha256:abc',
  geo_db: 'geo@1',
  decided_at: 1_800_000_000_000 + i,
  ...(i % 5 === 0 ? { late: true } : {}),
});

describe('compact tap index', () => {
  it('gives back what was stored, for short, long and non-Latin-1 tap_ids and odd hashes', () => {
    const index = createCompactTapIndex();
    const ids = ['tap-1', 'x'.repeat(24), 'y'.repeat(25), 'tap-한국', '', 'tap-é'];
    ids.forEach((id, i) => {
      const e = entry(i, i === 2 ? { h: 'short' } : i === 3 ? { h: '가'.repeat(22) } : {});
      const slot = index.insert(id, e, 10 + i);
      expect(index.entry(slot)).toEqual(e);
      index.setDecision(slot, decision(id, i));
    });
    ids.forEach((id, i) => {
      const slot = index.find(id);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(index.decision(slot, id)).toEqual(decision(id, i));
      expect(index.expiresAt(slot)).toBe(10 + i);
    });
    expect(index.find('tap-2')).toBe(-1);
    expect(index.size).toBe(ids.length);
  });

  it('keeps adjusted entries (version, source, sums, applied ids) and hands out fresh copies', () => {
    const index = createCompactTapIndex();
    const slot = index.insert('t', entry(1), 100);
    const adjusted = entry(1, {
      v: 2,
      src: 'taps/0/7',
      reversed: 100,
      held: 50,
      adj: { a1: 1, a2: 'x/1/2' },
    });
    index.update(slot, adjusted, 500);
    const got = index.entry(slot);
    expect(got).toEqual(adjusted);
    got.adj['a3'] = 1;
    expect(index.entry(slot)).toEqual(adjusted);
    expect(index.expiresAt(slot)).toBe(500);
    index.update(slot, entry(1), 500);
    expect(index.entry(slot)).toEqual(entry(1));
  });

  it('matches a plain Map through random inserts, removals and evictions across chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(75_000)), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 65_000, max: 70_000 }),
        (opsSpec, bulk) => {
          const index = createCompactTapIndex();
          const model = new Map<string, { e: TapIndexEntry; exp: number }>();
          // A bulk of in-order taps first, so that eviction crosses chunk boundaries and the table grows.
          let clock = 0;
          const add = (id: string, i: number, exp: number) => {
            const e = entry(i);
            index.insert(id, e, exp);
            model.set(id, { e, exp });
          };
          for (let i = 0; i < bulk; i++) add(`tap-${i}`, i, ++clock);
          for (const [kind, n] of opsSpec) {
            const id = `tap-${n}`;
            const slot = index.find(id);
            expect(slot >= 0).toBe(model.has(id));
            if (kind === 0 && slot < 0) add(id, n, ++clock + n);
            else if (kind === 1 && slot >= 0) {
              index.remove(slot);
              model.delete(id);
            } else if (kind === 2 && slot >= 0) {
              const e = { ...model.get(id)!.e, v: 1, adj: { [`adj-${n}`]: 1 as const } };
              index.update(slot, e, clock + 200_000);
              model.set(id, { e, exp: clock + 200_000 });
            } else if (kind === 3) {
              const cut = n;
              index.evict((exp) => exp <= cut);
              // Evicted entries must have been expired; the model keeps them until looked up again.
              for (const [k, v] of model)
                if (index.find(k) < 0) {
                  expect(v.exp).toBeLessThanOrEqual(cut);
                  model.delete(k);
                }
            }
          }
          expect(index.size).toBe(model.size);
          for (const [k, v] of model) {
            const slot = index.find(k);
            expect(index.entry(slot)).toEqual(v.e);
            expect(index.expiresAt(slot)).toBe(v.exp);
          }
        },
      ),
      { numRuns: 6, seed: 10 },
    );
  });

  it('frees memory as the oldest taps expire, moving a long-lived adjusted tap out of the way', () => {
    const index = createCompactTapIndex();
    for (let i = 0; i < 300_000; i++) index.insert(`tap-${i}`, entry(i), i);
    const kept = index.find('tap-5');
    index.update(kept, entry(5, { v: 1, adj: { a: 1 } }), 10_000_000);
    const full = index.bytes();
    index.evict((exp) => exp < 290_000);
    expect(index.size).toBe(10_001);
    expect(index.bytes()).toBeLessThan(full / 3);
    expect(index.entry(index.find('tap-5')).adj).toEqual({ a: 1 });
    expect(index.find('tap-289999')).toBe(-1);
    expect(index.find('tap-290000')).toBeGreaterThanOrEqual(0);
    expect(index.find('tap-1000')).toBe(-1);
  });
});
