/**
 * Settlement from the ClickHouse store. Gross is summed in SQL per line and terms version (no tap is
 * pulled into Node); only the adjustments of taps adjusted in this period come over, with the facts of
 * their tap, since what is still open on a tap depends on its whole adjustment history. Both feed the
 * same PeriodLedger as the file source, so both give the same statement.
 */
import { createHash } from 'node:crypto';
import { TaplineError } from '../pipeline/errors.ts';
import type { AnalystStore } from '../sinks/clickhouse/store.ts';
import type { AdjustmentKind, Carrier, TapStatus } from '../schemas/types.ts';
import type { Contracts } from './contracts.ts';
import { compareAdjustmentOrder, PeriodLedger } from './ledger.ts';
import type { SettlementCounts, SettlementReject, SettlementRun } from './offline.ts';
import { previousPeriod, type SettlementPeriod } from './period.ts';
import { buildStatement, lineColumns, payoutColumns, type OpeningBalance } from './statement.ts';
import { jsonAmount, statementToJson } from './statementFormat.ts';
import type { PartyType } from './contracts.ts';

export type SettlementStore = Pick<AnalystStore, 'query' | 'command' | 'insert' | 'database' | 'location'>;

const msAt = (param: string) => `fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`;

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
}

export async function settleFromStore(
  store: SettlementStore,
  options: { period: SettlementPeriod; contracts: Contracts; opening: readonly OpeningBalance[] },
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
    duplicates: 0,
    rejected: 0,
    rejectedEarlier: 0,
  };

  const gross = await store.query<GrossRow>(
    `SELECT cur AS currency, platform AS platform_id, creator AS creator_id, carrier_code AS carrier,
            ${termsVersionSql(contracts, 'tap_at')} AS terms_version, toString(sum(tap_amount)) AS gross, count() AS taps
     FROM (
       -- One row per tap: replayed copies are identical (conflicting ones never reach the store), so
       -- grouping by tap_id alone folds them, far cheaper than taps_unique's group over every column.
       SELECT tap_id, any(currency) AS cur, any(platform_id) AS platform, any(creator_id) AS creator,
              any(carrier) AS carrier_code, any(amount) AS tap_amount, any(occurred_at) AS tap_at
       FROM taps
       WHERE status = 'APPROVED' AND occurred_at >= ${msAt('start')} AND occurred_at < ${msAt('end')}
       GROUP BY tap_id)
     GROUP BY currency, platform_id, creator_id, carrier, terms_version`,
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

  // Adjustments of this period's adjusted taps, with everything before them on the same taps.
  const touched = `SELECT tap_id FROM adjustments_unique WHERE occurred_at >= ${msAt('start')} AND occurred_at < ${msAt('end')}`;
  const adjustments = await store.query<AdjustmentRow>(
    `SELECT a.adjustment_id AS adjustment_id, toUnixTimestamp64Milli(a.occurred_at) AS at_ms, a.tap_id AS tap_id,
            a.kind AS kind, a.amount AS amount, t.tap_id AS found, t.status AS status, t.amount AS tap_amount,
            toUnixTimestamp64Milli(t.occurred_at) AS tap_ms, t.currency AS currency, t.platform_id AS platform_id,
            t.creator_id AS creator_id, t.carrier AS carrier
     FROM (SELECT adjustment_id, occurred_at, tap_id, kind, amount FROM adjustments_unique
           WHERE occurred_at < ${msAt('end')} AND tap_id IN (${touched})) AS a
     LEFT JOIN (SELECT tap_id, status, amount, occurred_at, currency, platform_id, creator_id, carrier
                FROM taps_unique WHERE tap_id IN (${touched})) AS t ON t.tap_id = a.tap_id
`,
    params,
  );
  // Sorted here, by the file source's own comparator: SQL string order is bytes, JS's is code units.
  const ordered = adjustments.map((a) => ({ ...a, occurred_at: a.at_ms })).sort(compareAdjustmentOrder);
  const rejects: SettlementReject[] = [];
  for (const a of ordered) {
    const tap =
      a.found === ''
        ? undefined
        : {
            tap_id: a.tap_id,
            occurred_at: a.tap_ms,
            status: a.status,
            amount: a.tap_amount,
            currency: a.currency,
            platform_id: a.platform_id,
            creator_id: a.creator_id,
            carrier: a.carrier,
          };
    const outcome = ledger.applyAdjustment(
      {
        adjustment_id: a.adjustment_id,
        occurred_at: a.at_ms,
        tap_id: a.tap_id,
        kind: a.kind,
        amount: a.amount,
      },
      tap,
    );
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
  return { statement: buildStatement(ledger, options.opening, generatedFrom), rejects, counts };
}

interface RunState {
  rows: number;
  closed: number;
}

async function runState(store: SettlementStore, period: string): Promise<RunState> {
  const [row] = await store.query<RunState>(
    `SELECT count() AS rows, max(closed) AS closed FROM (
       SELECT closed FROM settlement_lines WHERE period = {p:String}
       UNION ALL SELECT closed FROM payouts WHERE period = {p:String})`,
    { p: period },
  );
  return row ?? { rows: 0, closed: 0 };
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
 * Stores a run: replaces the open period's previous run (its partition) with this one; with `close`,
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
  for (const table of ['settlement_lines', 'payouts']) {
    await store.command(`ALTER TABLE ${table} DROP PARTITION '${period.id}'`);
  }
  const s = run.statement;
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
  return runId;
}
