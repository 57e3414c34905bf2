import { describe, expect, it } from 'vitest';
import type { Statement } from '../../settlement/statement.ts';
import { adj, baseTerms, contractsOf, settle, tap } from './builders.ts';

function line(s: Statement, creator: string | null, carrier = 'SKT') {
  const l = s.lines.find((x) => x.creator_id === creator && x.carrier === carrier);
  if (!l) throw new Error(`no line for ${creator}/${carrier}`);
  return l;
}
function payout(s: Statement, type: string, id: string) {
  const p = s.payouts.find((x) => x.party_type === type && x.party_id === id);
  if (!p) throw new Error(`no payout for ${type}/${id}`);
  return p;
}

const octoberTerms = { ...baseTerms, effective_from: '2026-10-01' };
const novemberTerms = {
  effective_from: '2026-11-01',
  carrier_fee: { SKT: '0.04', KT: '0.04', LGU: '0.04', MVNO: '0.05' },
  pg_fee: '0.025',
  platform_share: { default: '0.40' },
};

describe('period ledger, hand-computed', () => {
  it('settles a ₩333 tap', async () => {
    const { statement } = await settle('2026-11', [
      tap({ id: 't', at: '2026-11-05T00:00:00Z', amount: 333, platform: 'p' }),
    ]);
    expect(line(statement, 'c-mina')).toMatchObject({
      gross: 333n,
      net: 333n,
      carrier_fee: 17n,
      pg_fee: 10n,
      platform_share: 92n,
      creator_share: 214n,
    });
  });

  it('reverses an October tap refunded in November under October terms, beside November terms', async () => {
    const contracts = contractsOf({ terms: [octoberTerms, novemberTerms] });
    const items = [
      tap({ id: 'oct', at: '2026-10-20T03:00:00Z', amount: 1000, platform: 'p' }),
      tap({ id: 'nov', at: '2026-11-05T03:00:00Z', amount: 1000, platform: 'p' }),
      adj('r', 'oct', 'REFUND', 400, '2026-11-10T03:00:00Z'),
    ];
    const { statement } = await settle('2026-11', items, contracts);
    // November terms on +1000: 40, 25, 0.40 × 935 = 374, 561.
    // October terms on −400: 20, 12, 0.30 × 368 = 110.4, 257.6 → floors 399, the unit to the creator → −20, −12, −110, −258.
    expect(line(statement, 'c-mina')).toMatchObject({
      gross: 1000n,
      reversals: 400n,
      net: 600n,
      carrier_fee: 20n,
      pg_fee: 13n,
      platform_share: 264n,
      creator_share: 303n,
    });
    expect(payout(statement, 'carrier', 'SKT').earned).toBe(20n);
  });

  it('settles a tap at 2026-11-30T15:30Z in December, not November', async () => {
    const items = [tap({ id: 'late', at: '2026-11-30T15:30:00Z', amount: 1000, creator: null })];
    const nov = await settle('2026-11', items);
    expect(nov.statement.lines).toEqual([]);
    const dec = await settle('2026-12', items);
    // No creator: the platform keeps the creator's share. 50, 30, 0.35 × 920 = 322, 598 → platform 920.
    expect(dec.statement.lines).toEqual([
      {
        currency: 'KRW',
        platform_id: 'toonville',
        creator_id: null,
        carrier: 'SKT',
        gross: 1000n,
        reversals: 0n,
        net: 1000n,
        carrier_fee: 50n,
        pg_fee: 30n,
        platform_share: 920n,
        creator_share: 0n,
        held: 0n,
        released: 0n,
        written_off: 0n,
      },
    ]);
    expect(payout(dec.statement, 'platform', 'toonville').paid).toBe(920n);
    expect(dec.statement.payouts.some((p) => p.party_type === 'creator')).toBe(false);
  });

  it('holds an UNPAID in October and releases it on COLLECTED in November, through the opening balance', async () => {
    const history = [
      tap({ id: 't', at: '2026-10-10T03:00:00Z', amount: 20000, platform: 'p' }),
      adj('u', 't', 'UNPAID', 5000, '2026-10-25T03:00:00Z'),
    ];
    const oct = await settle('2026-10', history);
    // earned 1000, 600, 0.30 × 18400 = 5520, 12880; held 250, 150, 0.30 × 4600 = 1380, 3220.
    expect(payout(oct.statement, 'creator', 'c-mina')).toMatchObject({
      earned: 12880n,
      held: 3220n,
      payable: 9660n,
      paid: 0n, // below the creator minimum of 10,000
      carried_forward: 9660n,
    });
    expect(payout(oct.statement, 'platform', 'p')).toMatchObject({ earned: 5520n, held: 1380n, paid: 4140n });
    expect(line(oct.statement, 'c-mina').held).toBe(5000n);

    const opening = oct.statement.payouts.map((p) => ({ ...p }));
    const nov = await settle(
      '2026-11',
      [...history, adj('c', 't', 'COLLECTED', 5000, '2026-11-15T03:00:00Z')],
      contractsOf(),
      opening,
    );
    expect(line(nov.statement, 'c-mina')).toMatchObject({ gross: 0n, net: 0n, held: 0n, released: 5000n });
    expect(payout(nov.statement, 'creator', 'c-mina')).toMatchObject({
      carried_in: 9660n,
      earned: 0n,
      released: 3220n,
      payable: 12880n,
      paid: 12880n,
      carried_forward: 0n,
    });
    expect(payout(nov.statement, 'carrier', 'SKT')).toMatchObject({ released: 250n, paid: 250n });
    expect(payout(nov.statement, 'pg', 'pg')).toMatchObject({ released: 150n, paid: 150n });
  });

  it('releases part of a hold in its own proportions, writes off the rest, then refuses more', async () => {
    const items = [
      tap({ id: 't', at: '2026-11-01T03:00:00Z', amount: 20000, platform: 'p' }),
      adj('u', 't', 'UNPAID', 5000, '2026-11-02T03:00:00Z'),
      adj('c', 't', 'COLLECTED', 3000, '2026-11-03T03:00:00Z'),
      adj('w', 't', 'WRITE_OFF', 2000, '2026-11-04T03:00:00Z'),
      adj('c2', 't', 'COLLECTED', 1, '2026-11-05T03:00:00Z'),
      adj('r', 't', 'REFUND', 18001, '2026-11-06T03:00:00Z'),
    ];
    const { statement, rejects } = await settle('2026-11', items);
    expect(line(statement, 'c-mina')).toMatchObject({ held: 5000n, released: 3000n, written_off: 2000n });
    // held (250, 150, 1380, 3220); 3/5 of it released: (150, 90, 828, 1932); the written-off 2/5 stays held.
    expect(payout(statement, 'creator', 'c-mina')).toMatchObject({ held: 3220n, released: 1932n });
    expect(payout(statement, 'platform', 'p')).toMatchObject({ held: 1380n, released: 828n });
    expect(payout(statement, 'carrier', 'SKT')).toMatchObject({ held: 250n, released: 150n });
    // Nothing is still held; collected money is open again, written-off is not: 18000 is open, 18001 refused whole.
    expect(rejects.map((r) => [r.id, r.code])).toEqual([
      ['c2', 'ADJUSTMENT_REJECTED'],
      ['r', 'ADJUSTMENT_REJECTED'],
    ]);
    expect(rejects[1]!.reason).toMatch(/exceeds the 18000 still open on tap t/);
    expect(line(statement, 'c-mina').reversals).toBe(0n);
  });

  it('rejects adjustments of unknown, declined or later taps and amounts beyond what is open', async () => {
    const items = [
      tap({ id: 'a', at: '2026-11-05T00:00:00Z', amount: 1000 }),
      tap({ id: 'd', at: '2026-11-05T00:00:00Z', amount: 1000, status: 'DECLINED' }),
      adj('x1', 'missing', 'REFUND', 100, '2026-11-06T00:00:00Z'),
      adj('x2', 'd', 'REFUND', 100, '2026-11-06T00:00:00Z'),
      adj('x3', 'a', 'REFUND', 100, '2026-11-04T00:00:00Z'),
      adj('x4', 'a', 'UNPAID', 700, '2026-11-06T00:00:00Z'),
      adj('x5', 'a', 'CHARGEBACK', 400, '2026-11-07T00:00:00Z'),
      adj('x6', 'a', 'REFUND', 300, '2026-11-08T00:00:00Z'),
    ];
    const { statement, rejects, counts } = await settle('2026-11', items);
    expect(rejects.map((r) => [r.id, r.code])).toEqual([
      ['x1', 'TAP_UNKNOWN'],
      ['x2', 'ADJUSTMENT_REJECTED'],
      ['x3', 'ADJUSTMENT_REJECTED'],
      ['x5', 'ADJUSTMENT_REJECTED'],
    ]);
    expect(rejects[1]!.reason).toMatch(/DECLINED, not APPROVED/);
    expect(rejects[2]!.reason).toMatch(/before its tap/);
    expect(rejects[3]!.reason).toMatch(/exceeds the 300 still open/);
    expect(line(statement, 'c-mina')).toMatchObject({ gross: 1000n, reversals: 300n, net: 700n, held: 700n });
    expect(counts.adjustmentsApplied).toBe(2);
  });

  it('ignores a repeated tap with the same content and rejects one with different content', async () => {
    const t = tap({ id: 'a', at: '2026-11-05T00:00:00Z', amount: 1000 });
    const { statement, rejects, counts } = await settle('2026-11', [
      t,
      t,
      tap({ id: 'a', at: '2026-11-05T00:00:00Z', amount: 9000 }),
    ]);
    expect(line(statement, 'c-mina').gross).toBe(1000n);
    expect(counts.duplicates).toBe(1);
    expect(rejects).toMatchObject([{ line: 3, id: 'a', code: 'DUPLICATE_CONFLICT' }]);
  });

  it('fails loudly when no terms are in force for a tap of the period', async () => {
    await expect(
      settle(
        '2026-11',
        [tap({ id: 'a', at: '2026-11-05T00:00:00Z', amount: 1 })],
        contractsOf({ terms: [novemberTerms] }),
      ),
    ).resolves.toBeDefined();
    await expect(
      settle(
        '2026-10',
        [tap({ id: 'a', at: '2026-10-05T00:00:00Z', amount: 1 })],
        contractsOf({ terms: [novemberTerms] }),
      ),
    ).rejects.toMatchObject({ code: 'CONTRACTS_INVALID' });
  });
});
