/** Invariants of whole settlement runs over random histories (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceItem } from '../../settlement/offline.ts';
import { lineColumns, type Statement } from '../../settlement/statement.ts';
import { adj, settle, tap } from './builders.ts';

const start = Date.parse('2026-10-20T00:00:00Z');
const kinds = ['REFUND', 'CHARGEBACK', 'UNPAID', 'COLLECTED', 'WRITE_OFF'] as const;

/**
 * Taps over a few lines around October/November; adjustments at random times, some in the same
 * millisecond as the one before on the same tap (ties apply in adjustment_id order, whatever the input order).
 */
const history = fc
  .record({
    taps: fc.array(
      fc.record({
        amount: fc.integer({ min: 1, max: 50_000 }),
        minute: fc.integer({ min: 0, max: 60 * 24 * 30 }),
        carrier: fc.constantFrom('SKT', 'KT', 'MVNO' as const),
        platform: fc.constantFrom('toonville', 'p2'),
        creator: fc.constantFrom('c-a', 'c-b', null),
        status: fc.constantFrom('APPROVED', 'APPROVED', 'APPROVED', 'DECLINED' as const),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    adjustments: fc.array(
      fc.record({
        tap: fc.nat(),
        kind: fc.constantFrom(...kinds),
        amount: fc.integer({ min: 1, max: 30_000 }),
        minute: fc.integer({ min: 0, max: 60 * 24 * 40 }),
        tiedWithPrevious: fc.boolean(),
      }),
      { maxLength: 12 },
    ),
  })
  .map(({ taps, adjustments }) => {
    const items: SourceItem[] = taps.map((t, i) =>
      tap({
        id: `t${i}`,
        at: new Date(start + t.minute * 60_000).toISOString(),
        amount: t.amount,
        carrier: t.carrier as 'SKT',
        platform: t.platform,
        creator: t.creator,
        status: t.status as 'APPROVED',
      }),
    );
    let previous: { at: number; tap: number } | undefined;
    adjustments.forEach((a, i) => {
      // A tie takes the previous adjustment's millisecond and tap, so its order decides what applies.
      const tie =
        a.tiedWithPrevious && previous ? previous : { at: start + a.minute * 60_000 + i, tap: a.tap };
      previous = tie;
      // Ids that do not follow generation order: `a${i}` would make ties sort as generated.
      const id = `a${(i * 7) % 12}-${i}`;
      items.push(adj(id, `t${tie.tap % taps.length}`, a.kind, a.amount, new Date(tie.at).toISOString()));
    });
    return items;
  });

function withoutSource(s: Statement): Omit<Statement, 'generated_from'> {
  const { generated_from: _ignored, ...rest } = s;
  return rest;
}

describe('settlement properties', () => {
  it('every line: the four shares sum exactly to net, and net = gross − reversals; totals sum the lines', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (items) => {
        const { statement } = await settle('2026-11', items);
        for (const l of statement.lines) {
          expect(l.carrier_fee + l.pg_fee + l.platform_share + l.creator_share).toBe(l.net);
          expect(l.net).toBe(l.gross - l.reversals);
          if (l.creator_id === null) expect(l.creator_share).toBe(0n);
        }
        for (const c of lineColumns) {
          const sum = statement.lines.reduce((acc, l) => acc + l[c], 0n);
          expect(statement.totals['KRW']?.[c] ?? 0n).toBe(sum);
        }
        for (const p of statement.payouts) {
          expect(p.payable).toBe(p.carried_in + p.earned - p.held + p.released);
          expect(p.paid + p.carried_forward).toBe(p.payable);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('permuting the input lines changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        history.chain((items) =>
          fc.tuple(
            fc.constant(items),
            fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
          ),
        ),
        async ([items, shuffled]) => {
          const a = await settle('2026-11', items);
          const b = await settle('2026-11', shuffled);
          expect(withoutSource(b.statement)).toEqual(withoutSource(a.statement));
          expect(b.rejects.map((r) => r.id).sort()).toEqual(a.rejects.map((r) => r.id).sort());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a tap with its full refund in one period moves no money: only gross and reversals of its line grow', async () => {
    await fc.assert(
      fc.asyncProperty(
        history,
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('SKT', 'LGU' as const),
        fc.constantFrom('c-a', null),
        fc.constantFrom('REFUND', 'CHARGEBACK' as const),
        async (items, amount, carrier, creator, kind) => {
          const extra = [
            tap({
              id: 'x',
              at: '2026-11-03T00:00:00Z',
              amount,
              carrier: carrier as 'SKT',
              creator,
              platform: 'toonville',
            }),
            adj('xr', 'x', kind, amount, '2026-11-20T00:00:00Z'),
          ];
          const without = await settle('2026-11', items);
          const withPair = await settle('2026-11', [...items, ...extra]);
          expect(withPair.statement.payouts).toEqual(without.statement.payouts);
          const key = (l: { creator_id: string | null; carrier: string; platform_id: string }) =>
            `${l.platform_id}/${l.creator_id}/${l.carrier}`;
          const target = `toonville/${creator}/${carrier}`;
          const before = new Map(without.statement.lines.map((l) => [key(l), l]));
          for (const l of withPair.statement.lines) {
            const b = before.get(key(l));
            if (key(l) !== target) {
              expect(l).toEqual(b);
              continue;
            }
            const expected = { ...(b ?? { ...l, ...Object.fromEntries(lineColumns.map((c) => [c, 0n])) }) };
            expect(l).toEqual({
              ...expected,
              gross: expected.gross + BigInt(amount),
              reversals: expected.reversals + BigInt(amount),
            });
          }
          expect(withPair.rejects).toEqual(without.rejects);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a negative net (refunds of earlier months beyond this month sales) is split as a mirror', async () => {
    const { statement } = await settle('2026-11', [
      tap({ id: 'oct', at: '2026-10-10T00:00:00Z', amount: 5000, platform: 'p2' }),
      tap({ id: 'nov', at: '2026-11-10T00:00:00Z', amount: 333, platform: 'p2' }),
      adj('r', 'oct', 'REFUND', 5000, '2026-11-11T00:00:00Z'),
    ]);
    const l = statement.lines[0]!;
    expect(l.net).toBe(-4667n);
    // Same terms version, so one allocation of −4667: −(233.35, 140.01, 0.30 × 4293.64 = 1288.092, 3005.548)
    // floors 233 + 140 + 1288 + 3005 = 4666; the unit goes to .548 (creator) → −233, −140, −1288, −3006.
    expect([l.carrier_fee, l.pg_fee, l.platform_share, l.creator_share]).toEqual([
      -233n,
      -140n,
      -1288n,
      -3006n,
    ]);
    const creator = statement.payouts.find((p) => p.party_type === 'creator')!;
    expect(creator).toMatchObject({ payable: -3006n, paid: 0n, carried_forward: -3006n });
  });
});
