/**
 * The settlement statement of DESIGN.md: lines, payouts per party and totals per currency, computed
 * from a period's ledger and the previous statement's carried-forward balances. Amounts are BigInt in
 * memory; the JSON writes integers, or decimal strings past 2^53, with arrays sorted by their keys so
 * the same inputs give the same bytes.
 */
import { allocate, zeroSplit, type Split } from './allocate.ts';
import { splitWeightsFor, type PartyType } from './contracts.ts';
import { lineId, type LineKey, type PeriodLedger } from './ledger.ts';
import { SETTLEMENT_ZONE } from './period.ts';

export const lineColumns = [
  'gross',
  'reversals',
  'net',
  'carrier_fee',
  'pg_fee',
  'platform_share',
  'creator_share',
  'held',
  'released',
  'written_off',
] as const;
export type LineColumn = (typeof lineColumns)[number];

export type StatementLine = LineKey & Record<LineColumn, bigint>;

export const payoutColumns = [
  'carried_in',
  'earned',
  'held',
  'released',
  'payable',
  'paid',
  'carried_forward',
] as const;
export type PayoutColumn = (typeof payoutColumns)[number];

export interface PayoutKey {
  party_type: PartyType;
  party_id: string;
  currency: string;
}
export type Payout = PayoutKey & Record<PayoutColumn, bigint>;

export interface Statement {
  period: string;
  timezone: string;
  generated_from: string;
  lines: StatementLine[];
  payouts: Payout[];
  totals: Record<string, Record<LineColumn, bigint>>;
}

/** A carried-forward balance brought in from the previous statement. */
export type OpeningBalance = PayoutKey & { carried_forward: bigint };

export function buildStatement(
  ledger: PeriodLedger,
  opening: readonly OpeningBalance[],
  generatedFrom: string,
): Statement {
  const lines = new Map<string, StatementLine>();
  const lineOf = (key: LineKey): StatementLine => {
    const id = lineId(key);
    let l = lines.get(id);
    if (!l) {
      l = { ...key, ...zeroColumns(lineColumns) };
      lines.set(id, l);
    }
    return l;
  };
  const parties = new Map<string, Payout>();
  const partyOf = (party_type: PartyType, party_id: string, currency: string): Payout => {
    const id = JSON.stringify([party_type, party_id, currency]);
    let p = parties.get(id);
    if (!p) {
      p = { party_type, party_id, currency, ...zeroColumns(payoutColumns) };
      parties.set(id, p);
    }
    return p;
  };
  // Each split lands on the line's four parties; with no creator, the platform takes the creator's part.
  const credit = (line: LineKey, split: Split, column: 'earned' | 'held' | 'released') => {
    const platformPart = line.creator_id === null ? split[2] + split[3] : split[2];
    partyOf('carrier', line.carrier, line.currency)[column] += split[0];
    partyOf('pg', 'pg', line.currency)[column] += split[1];
    partyOf('platform', line.platform_id, line.currency)[column] += platformPart;
    if (line.creator_id !== null) partyOf('creator', line.creator_id, line.currency)[column] += split[3];
  };

  for (const g of ledger.groups.values()) {
    const net = g.gross - g.reversals;
    const split = allocate(
      net,
      splitWeightsFor(ledger.contracts, g.terms, g.line.carrier, g.line.platform_id),
    );
    const l = lineOf(g.line);
    l.gross += g.gross;
    l.reversals += g.reversals;
    l.net += net;
    l.carrier_fee += split[0];
    l.pg_fee += split[1];
    if (g.line.creator_id === null) {
      l.platform_share += split[2] + split[3];
    } else {
      l.platform_share += split[2];
      l.creator_share += split[3];
    }
    credit(g.line, split, 'earned');
  }
  for (const a of ledger.adjustments.values()) {
    const l = lineOf(a.line);
    l.held += a.held;
    l.released += a.released;
    l.written_off += a.writtenOff;
    if (a.heldSplit !== zeroSplit) credit(a.line, a.heldSplit, 'held');
    if (a.releasedSplit !== zeroSplit) credit(a.line, a.releasedSplit, 'released');
  }
  for (const o of opening) {
    partyOf(o.party_type, o.party_id, o.currency).carried_in += o.carried_forward;
  }

  const minPayout = ledger.contracts.minPayout;
  for (const p of parties.values()) {
    p.payable = p.carried_in + p.earned - p.held + p.released;
    const pays = p.payable >= 0n && p.payable >= minPayout[p.party_type];
    p.paid = pays ? p.payable : 0n;
    p.carried_forward = p.payable - p.paid;
  }

  const sortedLines = [...lines.values()]
    .filter((l) => lineColumns.some((c) => l[c] !== 0n))
    .sort((a, b) =>
      compareKeys(
        [a.currency, a.platform_id, a.creator_id, a.carrier],
        [b.currency, b.platform_id, b.creator_id, b.carrier],
      ),
    );
  const totals: Record<string, Record<LineColumn, bigint>> = {};
  for (const l of sortedLines) {
    const t = (totals[l.currency] ??= zeroColumns(lineColumns));
    for (const c of lineColumns) t[c] += l[c];
  }
  const payouts = [...parties.values()]
    .filter((p) => payoutColumns.some((c) => p[c] !== 0n))
    .sort((a, b) =>
      compareKeys([a.party_type, a.party_id, a.currency], [b.party_type, b.party_id, b.currency]),
    );
  return {
    period: ledger.period.id,
    timezone: SETTLEMENT_ZONE,
    generated_from: generatedFrom,
    lines: sortedLines,
    payouts,
    totals: sortObject(totals),
  };
}

function zeroColumns<C extends string>(columns: readonly C[]): Record<C, bigint> {
  return Object.fromEntries(columns.map((c) => [c, 0n])) as Record<C, bigint>;
}

/** Code-unit order (never locale order, which differs between machines); null sorts first. */
function compareKeys(a: ReadonlyArray<string | null>, b: ReadonlyArray<string | null>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function sortObject<V>(o: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
