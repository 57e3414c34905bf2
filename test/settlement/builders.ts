/** Builders of settlement inputs for tests: taps and adjustments as the JSON Lines parser yields them. */
import type { AdjustmentKind, Carrier, TapStatus } from '../../schemas/types.ts';
import { parseContracts, type Contracts } from '../../settlement/contracts.ts';
import { settleRecords, type SettlementRun, type SourceItem } from '../../settlement/offline.ts';
import { parsePeriod } from '../../settlement/period.ts';
import type { OpeningBalance } from '../../settlement/statement.ts';

export interface TapSpec {
  id: string;
  at: string;
  amount: number;
  carrier?: Carrier;
  platform?: string;
  creator?: string | null;
  currency?: string;
  status?: TapStatus;
}

export function tap(s: TapSpec): SourceItem {
  return {
    lineNo: 0,
    record: {
      type: 'tap',
      tap_id: s.id,
      occurred_at: Date.parse(s.at),
      account_id: 'acc',
      msisdn: '+821000000000',
      carrier: s.carrier ?? 'SKT',
      device_id: 'dev',
      ip: '10.0.0.1',
      platform_id: s.platform ?? 'toonville',
      creator_id: s.creator === undefined ? 'c-mina' : s.creator,
      item_id: null,
      channel: null,
      amount: s.amount,
      currency: s.currency ?? 'KRW',
      status: s.status ?? 'APPROVED',
      retry_of: null,
    },
  };
}

export function adj(id: string, tapId: string, kind: AdjustmentKind, amount: number, at: string): SourceItem {
  return {
    lineNo: 0,
    record: {
      type: 'adjustment',
      adjustment_id: id,
      tap_id: tapId,
      kind,
      amount,
      occurred_at: Date.parse(at),
      reason: null,
    },
  };
}

/** Numbers the items 1..n in the given order, as lines of a file. */
export function numbered(items: readonly SourceItem[]): SourceItem[] {
  return items.map((item, i) => ({ ...item, lineNo: i + 1 }));
}

/** carrier 5 % (MVNO 6 %), PG 3 %, platform 30 % (toonville 35 %) from 2026-01-01, as in DESIGN.md. */
export const baseTerms = {
  effective_from: '2026-01-01',
  carrier_fee: { SKT: '0.05', KT: '0.05', LGU: '0.05', MVNO: '0.06' },
  pg_fee: '0.03',
  platform_share: { default: '0.30', toonville: '0.35' },
};

export function contractsOf(document: unknown = { terms: [baseTerms] }): Contracts {
  return parseContracts(document, 'test contracts');
}

export async function settle(
  period: string,
  items: readonly SourceItem[],
  contracts: Contracts = contractsOf(),
  opening: OpeningBalance[] = [],
): Promise<SettlementRun> {
  return settleRecords(numbered(items), {
    period: parsePeriod(period),
    contracts,
    opening,
    generatedFrom: 'test',
  });
}
