/**
 * Settlement runs stored in ClickHouse: which periods are closed, the balances a period carries into
 * the next, and writing a run (its lines, payouts, the adjustments it settled and a run row) so that a
 * rerun of an open period replaces the previous one whole and a closed period is never touched again.
 */
import { createHash } from 'node:crypto';
import { TaplineError } from '../pipeline/errors.ts';
import type { AnalystStore } from '../sinks/clickhouse/store.ts';
import { chTime } from '../sinks/clickhouse/rows.ts';
import type { PartyType } from './contracts.ts';
import type { SettlementRun } from './offline.ts';
import { parsePeriod, previousPeriod, type SettlementPeriod } from './period.ts';
import { lineColumns, payoutColumns, type OpeningBalance } from './statement.ts';
import { jsonAmount, statementToJson } from './statementFormat.ts';

export type SettlementStore = Pick<AnalystStore, 'query' | 'command' | 'insert' | 'database' | 'location'>;

/** Tables a run writes, each partitioned by period. */
const runTables = ['settlement_lines', 'payouts', 'settled_adjustments', 'settlement_runs'] as const;

interface RunState {
  rows: number;
  closed: number;
}

async function runState(store: SettlementStore, period: string): Promise<RunState> {
  const [row] = await store.query<RunState>(
    `SELECT count() AS rows, max(closed) AS closed FROM (
       ${runTables.map((t) => `SELECT closed FROM ${t} WHERE period = {p:String}`).join(' UNION ALL ')})`,
    { p: period },
  );
  return row ?? { rows: 0, closed: 0 };
}

/** A closed period; `recorded` when its run listed the adjustments it settled (runs since migration 4). */
export interface ClosedPeriod {
  period: SettlementPeriod;
  recorded: boolean;
}

/** What settling `period` must know of the runs before it. */
export interface SettlementHistory {
  /** Closed periods before this one, oldest first. */
  closed: ClosedPeriod[];
  /**
   * Whether this period is the one that takes adjustments that arrived after their own period was
   * closed: it is, unless the month before has an open run (that run takes them, and closing it
   * records them, so they settle once).
   */
  takesLate: boolean;
}

export async function settlementHistory(
  store: SettlementStore,
  period: SettlementPeriod,
): Promise<SettlementHistory> {
  const rows = await store.query<{ period: string; recorded: number }>(
    `SELECT period, max(recorded) AS recorded FROM (
       SELECT period, 1 AS recorded FROM settlement_runs WHERE closed = 1 AND period < {p:String}
       UNION ALL SELECT period, 0 AS recorded FROM settlement_lines WHERE closed = 1 AND period < {p:String}
       UNION ALL SELECT period, 0 AS recorded FROM payouts WHERE closed = 1 AND period < {p:String})
     GROUP BY period ORDER BY period`,
    { p: period.id },
  );
  const before = await runState(store, previousPeriod(period).id);
  return {
    closed: rows.map((r) => ({ period: parsePeriod(r.period), recorded: r.recorded === 1 })),
    takesLate: before.rows === 0 || before.closed === 1,
  };
}

/** The previous period's carried-forward balances, as stored by its run. */
export async function storedOpening(
  store: SettlementStore,
  period: SettlementPeriod,
): Promise<OpeningBalance[]> {
  const rows = await store.query<{
    party_type: PartyType;
    party_id: string;
    currency: string;
    carried_text: string;
  }>(
    `SELECT party_type, party_id, currency, toString(carried_forward) AS carried_text
     FROM payouts WHERE period = {p:String} AND carried_forward != 0
     ORDER BY party_type, party_id, currency`,
    { p: previousPeriod(period).id },
  );
  return rows.map((r) => ({
    party_type: r.party_type,
    party_id: r.party_id,
    currency: r.currency,
    carried_forward: BigInt(r.carried_text),
  }));
}

/** Refuses to touch a closed period (PERIOD_CLOSED) before anything is computed. */
export async function assertPeriodOpen(store: SettlementStore, period: SettlementPeriod): Promise<void> {
  if ((await runState(store, period.id)).closed) {
    throw new TaplineError(
      'PERIOD_CLOSED',
      `period ${period.id} is closed and immutable; later adjustments of its taps settle in the next open period.`,
    );
  }
}

/**
 * Stores a run: replaces the open period's previous run (its partitions) with this one; with `close`,
 * marks it immutable, which needs the month before to be closed first (when it was settled at all).
 */
export async function writeRun(
  store: SettlementStore,
  run: SettlementRun,
  period: SettlementPeriod,
  close: boolean,
): Promise<string> {
  await assertPeriodOpen(store, period);
  if (close) {
    const previous = previousPeriod(period).id;
    const prev = await runState(store, previous);
    if (prev.rows > 0 && !prev.closed) {
      throw new TaplineError(
        'PERIOD_ORDER',
        `close ${previous} first: a period is closed only after the one before it.`,
      );
    }
  }
  const runId = createHash('sha256').update(statementToJson(run.statement)).digest('hex').slice(0, 16);
  const closed = close ? 1 : 0;
  // Periods are validated YYYY-MM, and partitions are per period: dropping one replaces the run whole.
  for (const table of runTables) {
    await store.command(`ALTER TABLE ${table} DROP PARTITION '${period.id}'`);
  }
  const s = run.statement;
  const settled = run.settled ?? [];
  await store.insert(
    'settlement_lines',
    s.lines.map((l) => ({
      period: s.period,
      run_id: runId,
      closed,
      currency: l.currency,
      platform_id: l.platform_id,
      creator_id: l.creator_id,
      carrier: l.carrier,
      ...Object.fromEntries(lineColumns.map((c) => [c, jsonAmount(l[c])])),
    })),
  );
  await store.insert(
    'payouts',
    s.payouts.map((p) => ({
      period: s.period,
      run_id: runId,
      closed,
      party_type: p.party_type,
      party_id: p.party_id,
      currency: p.currency,
      ...Object.fromEntries(payoutColumns.map((c) => [c, jsonAmount(p[c])])),
    })),
  );
  await store.insert(
    'settled_adjustments',
    settled.map((a) => ({
      period: s.period,
      run_id: runId,
      closed,
      adjustment_id: a.adjustment_id,
      tap_id: a.tap_id,
      occurred_at: chTime(a.occurred_at),
      outcome: a.outcome,
    })),
  );
  // Last: a run row without its lines would mark a period closed that holds nothing.
  await store.insert('settlement_runs', [
    {
      period: s.period,
      run_id: runId,
      closed,
      lines: s.lines.length,
      payouts: s.payouts.length,
      adjustments: settled.length,
    },
  ]);
  return runId;
}
