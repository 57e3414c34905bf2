/**
 * Offline settlement: records of a JSON Lines history (taps and adjustments, any order) streamed into
 * the period ledger. Taps are indexed as they come and their gross counted at once; adjustments not
 * after the period wait until the end, then apply in event-time order (ties by adjustment_id, as from
 * ClickHouse), which is why permuting the input changes nothing.
 */
import type { InputRecord } from '../schemas/types.ts';
import type { Contracts } from './contracts.ts';
import { compareAdjustmentOrder, PeriodLedger, type AdjustmentFacts, type TapFacts } from './ledger.ts';
import type { SettlementPeriod } from './period.ts';
import { buildStatement, type OpeningBalance, type Statement } from './statement.ts';

export interface SourceRecord {
  /** 1-based line number in the input, for rejects. */
  lineNo: number;
  record: InputRecord;
}

export interface SettlementReject {
  line: number;
  /** tap_id or adjustment_id, when the line was readable. */
  id?: string;
  code: string;
  reason: string;
}

export interface SettlementCounts {
  records: number;
  taps: number;
  /** Adjustments applied in the period. */
  adjustmentsApplied: number;
  /** Adjustments applied before the period: they only set what is still open on their tap. */
  adjustmentsEarlier: number;
  /** Adjustments after the period: left for a later run. */
  adjustmentsLater: number;
  /**
   * Of the adjustments settled here (applied or rejected), those dated in an earlier, closed period
   * that no closed period settled: they reached the store after it closed (ClickHouse runs only).
   */
  adjustmentsLate: number;
  /** Records repeated with the same content: ignored. */
  duplicates: number;
  /** Rejected lines reported (unreadable, conflicting, or adjustments of this period that cannot apply). */
  rejected: number;
  /** Adjustments before the period that could not apply (reported in their own period's run). */
  rejectedEarlier: number;
}

/** An adjustment a run settled: what a closed period keeps so that later runs never settle it again. */
export interface SettledAdjustment {
  adjustment_id: string;
  tap_id: string;
  occurred_at: number;
  outcome: 'applied' | 'rejected';
}

export interface SettlementRun {
  statement: Statement;
  rejects: SettlementReject[];
  counts: SettlementCounts;
  /** From ClickHouse: every adjustment this run settled, stored with the run. */
  settled?: SettledAdjustment[];
}

export interface SettleOptions {
  period: SettlementPeriod;
  contracts: Contracts;
  opening: readonly OpeningBalance[];
  generatedFrom: string;
}

/** Lines that could not be read at all, reported with the settlement's own rejects. */
export type SourceItem = SourceRecord | { lineNo: number; error: { code: string; reason: string } };

export async function settleRecords(
  items: AsyncIterable<SourceItem> | Iterable<SourceItem>,
  options: SettleOptions,
): Promise<SettlementRun> {
  const { period } = options;
  const ledger = new PeriodLedger(period, options.contracts);
  const taps = new Map<string, TapFacts>();
  const adjustments = new Map<string, AdjustmentFacts & { seq: number }>();
  const rejects: SettlementReject[] = [];
  const counts: SettlementCounts = {
    records: 0,
    taps: 0,
    adjustmentsApplied: 0,
    adjustmentsEarlier: 0,
    adjustmentsLater: 0,
    adjustmentsLate: 0,
    duplicates: 0,
    rejected: 0,
    rejectedEarlier: 0,
  };

  for await (const item of items) {
    counts.records += 1;
    if ('error' in item) {
      rejects.push({ line: item.lineNo, code: item.error.code, reason: item.error.reason });
      continue;
    }
    const r = item.record;
    if (r.type === 'tap') {
      const facts: TapFacts = {
        tap_id: r.tap_id,
        occurred_at: r.occurred_at,
        status: r.status,
        amount: r.amount,
        currency: r.currency,
        platform_id: r.platform_id,
        creator_id: r.creator_id ?? null,
        carrier: r.carrier,
      };
      const seen = taps.get(r.tap_id);
      if (seen) {
        if (sameFacts(seen, facts)) counts.duplicates += 1;
        else rejects.push(conflict(item.lineNo, r.tap_id, 'tap'));
        continue;
      }
      taps.set(r.tap_id, facts);
      counts.taps += 1;
      ledger.addTap(facts);
    } else {
      const facts = {
        adjustment_id: r.adjustment_id,
        occurred_at: r.occurred_at,
        tap_id: r.tap_id,
        kind: r.kind,
        amount: r.amount,
        seq: item.lineNo,
      };
      const seen = adjustments.get(r.adjustment_id);
      if (seen) {
        if (sameFacts({ ...seen, seq: 0 }, { ...facts, seq: 0 })) counts.duplicates += 1;
        else rejects.push(conflict(item.lineNo, r.adjustment_id, 'adjustment'));
        continue;
      }
      if (facts.occurred_at >= period.endMs) {
        counts.adjustmentsLater += 1;
        continue;
      }
      adjustments.set(r.adjustment_id, facts);
    }
  }

  const ordered = [...adjustments.values()].sort(compareAdjustmentOrder);
  for (const adj of ordered) {
    const outcome = ledger.applyAdjustment(adj, taps.get(adj.tap_id));
    if (outcome.applied) {
      if (outcome.inPeriod) counts.adjustmentsApplied += 1;
      else counts.adjustmentsEarlier += 1;
    } else if (outcome.inPeriod) {
      rejects.push({ line: adj.seq, id: adj.adjustment_id, code: outcome.code, reason: outcome.reason });
    } else {
      counts.rejectedEarlier += 1;
    }
  }
  rejects.sort((a, b) => a.line - b.line);
  counts.rejected = rejects.length;
  return { statement: buildStatement(ledger, options.opening, options.generatedFrom), rejects, counts };
}

function sameFacts<T extends object>(a: T, b: T): boolean {
  return (Object.keys(a) as Array<keyof T>).every((k) => a[k] === b[k]);
}

function conflict(line: number, id: string, what: string): SettlementReject {
  return {
    line,
    id,
    code: 'DUPLICATE_CONFLICT',
    reason: `${what} ${id} appeared earlier with different content; the first one is kept`,
  };
}
