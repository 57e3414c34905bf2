/**
 * Settlement from the ClickHouse store. Gross is summed in SQL per line and terms version (no tap is
 * pulled into Node); only the adjustments of the taps this period settles an adjustment of come over,
 * with the facts of their tap, since what is still open on a tap depends on its whole adjustment
 * history. Both feed the same PeriodLedger as the file source, so both give the same statement.
 *
 * A period settles the adjustments dated in it and, when it is the first open period after closed
 * ones, those dated in a closed period that no closed period settled (they reached the store after
 * it closed). History replays as it was decided: each closed period's settled adjustments in its own
 * order, period after period, then this period's in event-time order, so a late refund never undoes
 * what a closed period applied.
 */
import { TaplineError } from '../pipeline/errors.ts';
import type { AdjustmentKind, Carrier, TapStatus } from '../schemas/types.ts';
import type { Contracts } from './contracts.ts';
import { compareAdjustmentOrder, PeriodLedger, type AdjustmentFacts, type TapFacts } from './ledger.ts';
import type { SettledAdjustment, SettlementCounts, SettlementReject, SettlementRun } from './offline.ts';
import { periodOf, type SettlementPeriod } from './period.ts';
import { buildStatement, type OpeningBalance } from './statement.ts';
import { settlementHistory, type SettlementHistory, type SettlementStore } from './storedRuns.ts';

export type { SettlementStore } from './storedRuns.ts';
export { assertPeriodOpen, storedOpening, writeRun } from './storedRuns.ts';

/** Steps of a run from the store, in order (then the caller stores it). */
export const settlementSteps = {
  gross: 'summing gross per line and terms version',
  adjustments: "reading the adjustments and their taps' history",
  ledger: 'applying adjustments and allocating',
} as const;
export type SettlementStep = keyof typeof settlementSteps;

const msAt = (param: string) => `fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`;
const msLiteral = (ms: number) => `fromUnixTimestamp64Milli(toInt64(${ms}), 'UTC')`;

/** The terms version of a tap in SQL: the latest effective_from not after its instant, −1 for none. */
function termsVersionSql(contracts: Contracts, column: string): string {
  const cases = [...contracts.terms]
    .reverse()
    .map((t) => `toUnixTimestamp64Milli(${column}) >= ${t.effectiveFromMs}, ${t.version}`);
  return `multiIf(${cases.join(', ')}, -1)`;
}

interface GrossRow {
  currency: string;
  platform_id: string;
  creator_id: string | null;
  carrier: Carrier;
  terms_version: number;
  gross: string;
  taps: number;
}

interface AdjustmentRow {
  adjustment_id: string;
  at_ms: number;
  tap_id: string;
  kind: AdjustmentKind;
  amount: number;
  found: string;
  status: TapStatus;
  tap_amount: number;
  tap_ms: number;
  currency: string;
  platform_id: string;
  creator_id: string | null;
  carrier: Carrier;
  /** The closed period that settled it, '' when none did. */
  settled_in: string;
  outcome: '' | SettledAdjustment['outcome'];
}

export async function settleFromStore(
  store: SettlementStore,
  options: {
    period: SettlementPeriod;
    contracts: Contracts;
    opening: readonly OpeningBalance[];
    /** Hears each step as it starts, for a progress display (the work is in ClickHouse, not countable). */
    onStep?: (step: SettlementStep) => void;
  },
): Promise<SettlementRun> {
  const { period, contracts } = options;
  const ledger = new PeriodLedger(period, contracts);
  const params = { start: period.startMs, end: period.endMs };
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

  options.onStep?.('gross');
  const gross = await store.query<GrossRow>(
    // FINAL folds the copies a replay writes (identical rows, one sorting key, one monthly partition
    // since the key holds the date): at 10M taps it is several times faster than GROUP BY tap_id.
    `SELECT currency, platform_id, creator_id, carrier, ${termsVersionSql(contracts, 'occurred_at')} AS terms_version,
            toString(sum(amount)) AS gross, count() AS taps
     FROM taps FINAL
     WHERE status = 'APPROVED' AND occurred_at >= ${msAt('start')} AND occurred_at < ${msAt('end')}
     GROUP BY currency, platform_id, creator_id, carrier, terms_version
     SETTINGS do_not_merge_across_partitions_select_final = 1`,
    params,
  );
  for (const g of gross) {
    if (g.terms_version < 0) {
      throw new TaplineError(
        'CONTRACTS_INVALID',
        `${g.taps} taps of ${period.id} (${g.platform_id}, ${g.carrier}) are older than every terms version; ` +
          `add terms with an earlier effective_from.`,
      );
    }
    counts.taps += g.taps;
    ledger.addGross(g, g.terms_version, BigInt(g.gross));
  }

  options.onStep?.('adjustments');
  const history = await settlementHistory(store, period);
  const late = lateRanges(history, period);
  const lateSql = late.map(
    (r) => `(occurred_at >= ${msLiteral(r.startMs)} AND occurred_at < ${msLiteral(r.endMs)})`,
  );
  const settledByClosed = `SELECT adjustment_id FROM settled_adjustments WHERE closed = 1`;
  // Taps this period settles an adjustment of: dated in it, or late for a closed period. Replayed copies
  // only repeat an id in the set; below, one row per adjustment and per tap (copies are identical, so
  // any() of each column is the row), far cheaper than the _unique views' group over every column.
  const touched = `SELECT tap_id FROM adjustments
     WHERE occurred_at < ${msAt('end')} AND (occurred_at >= ${msAt('start')} ${lateSql.map((c) => `OR ${c}`).join(' ')})
       AND adjustment_id NOT IN (${settledByClosed})`;
  const adjustments = await store.query<AdjustmentRow>(
    `SELECT a.adjustment_id AS adjustment_id, toUnixTimestamp64Milli(a.at) AS at_ms, a.tap_id AS tap_id,
            a.kind AS kind, a.amount AS amount, t.tap_id AS found, t.status AS status, t.amount AS tap_amount,
            toUnixTimestamp64Milli(t.at) AS tap_ms, t.currency AS currency, t.platform_id AS platform_id,
            t.creator_id AS creator_id, t.carrier AS carrier, s.period AS settled_in, s.outcome AS outcome
     FROM (SELECT adjustment_id, tap_id, any(occurred_at) AS at, any(kind) AS kind, any(amount) AS amount
           FROM adjustments WHERE occurred_at < ${msAt('end')} AND tap_id IN (${touched})
           GROUP BY adjustment_id, tap_id) AS a
     LEFT JOIN (SELECT tap_id, any(status) AS status, any(amount) AS amount, any(occurred_at) AS at,
                       any(currency) AS currency, any(platform_id) AS platform_id, any(creator_id) AS creator_id,
                       any(carrier) AS carrier
                FROM taps WHERE tap_id IN (${touched}) GROUP BY tap_id) AS t ON t.tap_id = a.tap_id
     LEFT JOIN (SELECT adjustment_id, toString(period) AS period, toString(outcome) AS outcome
                FROM settled_adjustments WHERE closed = 1 AND tap_id IN (${touched})) AS s
       ON s.adjustment_id = a.adjustment_id
     SETTINGS join_use_nulls = 0`,
    params,
  );

  options.onStep?.('ledger');
  const datedPeriod = memoPeriodId();
  const isLate = (ms: number) => ms < period.startMs && late.some((r) => ms >= r.startMs && ms < r.endMs);
  const ordered = adjustments
    .map((a) => {
      // The period that settles it: a closed one that did, this one, or (history) the one it is dated in.
      const here = a.settled_in === '' && (a.at_ms >= period.startMs || isLate(a.at_ms));
      const settledBy = a.settled_in !== '' ? a.settled_in : here ? period.id : datedPeriod(a.at_ms);
      return { ...a, occurred_at: a.at_ms, here, settledBy };
    })
    .sort((x, y) => compareIds(x.settledBy, y.settledBy) || compareAdjustmentOrder(x, y));
  const rejects: SettlementReject[] = [];
  const settled: SettledAdjustment[] = [];
  for (const a of ordered) {
    if (a.outcome === 'rejected') {
      // Rejected by the closed period that settled it: it never moved anything.
      counts.rejectedEarlier += 1;
      continue;
    }
    const facts: AdjustmentFacts = {
      adjustment_id: a.adjustment_id,
      occurred_at: a.at_ms,
      tap_id: a.tap_id,
      kind: a.kind,
      amount: a.amount,
    };
    const outcome = ledger.applyAdjustment(facts, tapOf(a), a.here);
    if (a.here) {
      settled.push({
        adjustment_id: a.adjustment_id,
        tap_id: a.tap_id,
        occurred_at: a.at_ms,
        outcome: outcome.applied ? 'applied' : 'rejected',
      });
      if (a.at_ms < period.startMs) counts.adjustmentsLate += 1;
    }
    if (outcome.applied) {
      if (outcome.inPeriod) counts.adjustmentsApplied += 1;
      else counts.adjustmentsEarlier += 1;
    } else if (outcome.inPeriod) {
      rejects.push({ line: 0, id: a.adjustment_id, code: outcome.code, reason: outcome.reason });
    } else {
      counts.rejectedEarlier += 1;
    }
  }
  counts.records = counts.taps + adjustments.length;
  counts.rejected = rejects.length;
  const generatedFrom = `clickhouse ${store.location} database ${store.database}`;
  settled.sort((x, y) => compareIds(x.adjustment_id, y.adjustment_id));
  return { statement: buildStatement(ledger, options.opening, generatedFrom), rejects, counts, settled };
}

/**
 * Closed periods whose late adjustments this period settles: those that recorded what they settled
 * (closed before migration 4, a period's record is its dates: everything dated in it counts as settled).
 */
function lateRanges(history: SettlementHistory, period: SettlementPeriod): SettlementPeriod[] {
  if (!history.takesLate) return [];
  return history.closed.filter((c) => c.recorded && c.period.endMs <= period.startMs).map((c) => c.period);
}

function tapOf(a: AdjustmentRow): TapFacts | undefined {
  if (a.found === '') return undefined;
  return {
    tap_id: a.tap_id,
    occurred_at: a.tap_ms,
    status: a.status,
    amount: a.tap_amount,
    currency: a.currency,
    platform_id: a.platform_id,
    creator_id: a.creator_id,
    carrier: a.carrier,
  };
}

/** periodOf by the hour: Asia/Seoul has whole-hour offsets, and history holds many adjustments per hour. */
function memoPeriodId(): (ms: number) => string {
  const byHour = new Map<number, string>();
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let id = byHour.get(hour);
    if (id === undefined) {
      id = periodOf(ms).id;
      byHour.set(hour, id);
    }
    return id;
  };
}

/** Code-unit order, as compareAdjustmentOrder's ties. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
