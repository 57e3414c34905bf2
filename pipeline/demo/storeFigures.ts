/**
 * The demo's figures read back from the analyst store: what the sink really wrote (distinct taps,
 * decisions, adjustments), decisions by outcome, rule and event-time hour, and the settlement of
 * every month the traffic touched, stored like `tapline settle` stores it.
 */
import { settleFromStore, storedOpening, writeRun } from '../../settlement/clickhouseSource.ts';
import type { Contracts } from '../../settlement/contracts.ts';
import { periodOf, type SettlementPeriod } from '../../settlement/period.ts';
import { lineColumns, type LineColumn } from '../../settlement/statement.ts';
import type { AnalystStore } from '../../sinks/clickhouse/store.ts';
import type { Logger } from '../logger.ts';
import type { DemoReport, DemoSettlement } from './reportData.ts';

export interface StoredCounts {
  taps: number;
  decisions: number;
  adjustments: number;
  alerts: number;
}

export async function storedCounts(store: AnalystStore): Promise<StoredCounts> {
  // uniqExact over ids: copies a replay may have written count once, before merges fold them.
  const [row] = await store.query<StoredCounts>(
    `SELECT
       (SELECT uniqExact(tap_id) FROM taps) AS taps,
       (SELECT uniqExact(tap_id) FROM decisions) AS decisions,
       (SELECT uniqExact(adjustment_id) FROM adjustments) AS adjustments,
       (SELECT uniqExact(tap_id) FROM fraud_alerts) AS alerts`,
  );
  return {
    taps: Number(row?.taps ?? 0),
    decisions: Number(row?.decisions ?? 0),
    adjustments: Number(row?.adjustments ?? 0),
    alerts: Number(row?.alerts ?? 0),
  };
}

/** Decisions by outcome and by rule, from the stored decisions (one per tap). */
export async function storedDecisionFigures(
  store: AnalystStore,
): Promise<{ outcomes: Record<string, number>; ruleHits: Record<string, number> }> {
  const outcomes = await store.query<{ decision: string; n: number }>(
    `SELECT decision, count() AS n FROM (SELECT tap_id, any(decision) AS decision FROM decisions GROUP BY tap_id)
     GROUP BY decision ORDER BY decision`,
  );
  const rules = await store.query<{ rule: string; n: number }>(
    `SELECT arrayJoin(rules) AS rule, count() AS n
     FROM (SELECT tap_id, any(rules) AS rules FROM decisions GROUP BY tap_id)
     GROUP BY rule ORDER BY n DESC, rule`,
  );
  return {
    outcomes: Object.fromEntries(outcomes.map((r) => [r.decision, Number(r.n)])),
    ruleHits: Object.fromEntries(rules.map((r) => [r.rule, Number(r.n)])),
  };
}

/** Decisions per event-time hour in Asia/Seoul (taps joined to their decision). */
export async function storedTimeline(store: AnalystStore): Promise<DemoReport['timeline']> {
  const rows = await store.query<{ bucket: string; ALLOW: number; REVIEW: number; BLOCK: number }>(
    `SELECT formatDateTime(toTimeZone(t.at, 'Asia/Seoul'), '%Y-%m-%dT%H:00') AS bucket,
            countIf(d.decision = 'ALLOW') AS ALLOW,
            countIf(d.decision = 'REVIEW') AS REVIEW,
            countIf(d.decision = 'BLOCK') AS BLOCK
     FROM (SELECT tap_id, any(occurred_at) AS at FROM taps GROUP BY tap_id) AS t
     INNER JOIN (SELECT tap_id, any(decision) AS decision FROM decisions GROUP BY tap_id) AS d
       ON t.tap_id = d.tap_id
     GROUP BY bucket ORDER BY bucket`,
  );
  return rows.map((r) => ({
    bucket: r.bucket,
    ALLOW: Number(r.ALLOW),
    REVIEW: Number(r.REVIEW),
    BLOCK: Number(r.BLOCK),
  }));
}

/** The months from the first tap to the last record (taps and adjustments), in order. */
export async function periodsCovered(store: AnalystStore): Promise<SettlementPeriod[]> {
  const [row] = await store.query<{ first: number | null; last: number | null; taps: number }>(
    `SELECT (SELECT min(toUnixTimestamp64Milli(occurred_at)) FROM taps) AS first,
            greatest((SELECT max(toUnixTimestamp64Milli(occurred_at)) FROM taps),
                     (SELECT max(toUnixTimestamp64Milli(occurred_at)) FROM adjustments)) AS last,
            (SELECT count() FROM taps) AS taps`,
  );
  if (!row || Number(row.taps) === 0) return [];
  const periods: SettlementPeriod[] = [];
  const last = periodOf(Number(row.last));
  for (let p = periodOf(Number(row.first)); ; p = periodOf(p.endMs)) {
    periods.push(p);
    if (p.id === last.id) break;
  }
  return periods;
}

/**
 * Settles each month in order (each opening from the run before it), stores the runs, and sums them:
 * per currency, the totals of every month; per party type, what was earned, payable and paid.
 */
export async function settleCoveredMonths(
  store: AnalystStore,
  contracts: Contracts,
  logger?: Logger,
): Promise<DemoSettlement | null> {
  const periods = await periodsCovered(store);
  if (periods.length === 0) return null;
  const totals = Object.fromEntries(lineColumns.map((c) => [c, 0n])) as Record<LineColumn, bigint>;
  const parties = new Map<string, { earned: bigint; payable: bigint; paid: bigint; carried: bigint }>();
  const months: DemoSettlement['months'] = [];
  let currency = 'KRW';
  for (const period of periods) {
    logger?.info({ period: period.id }, 'settling a month');
    const opening = await storedOpening(store, period);
    const run = await settleFromStore(store, { period, contracts, opening });
    const runId = await writeRun(store, run, period, false);
    const s = run.statement;
    for (const [cur, t] of Object.entries(s.totals)) {
      currency = cur;
      for (const c of lineColumns) totals[c] += t[c];
    }
    const carriedThisMonth = new Map<string, bigint>();
    for (const p of s.payouts) {
      const entry = parties.get(p.party_type) ?? { earned: 0n, payable: 0n, paid: 0n, carried: 0n };
      entry.earned += p.earned;
      // Each month's payable includes what the month before carried in: count only what is new, so
      // over the run payable = paid + carried forward at the end.
      entry.payable += p.payable - p.carried_in;
      entry.paid += p.paid;
      carriedThisMonth.set(p.party_type, (carriedThisMonth.get(p.party_type) ?? 0n) + p.carried_forward);
      parties.set(p.party_type, entry);
    }
    for (const [party, entry] of parties) entry.carried = carriedThisMonth.get(party) ?? 0n;
    const monthGross = Object.values(s.totals).reduce((a, t) => a + t.gross, 0n);
    const monthNet = Object.values(s.totals).reduce((a, t) => a + t.net, 0n);
    months.push({ period: period.id, runId, gross: monthGross.toString(), net: monthNet.toString() });
  }
  const order = ['carrier', 'pg', 'platform', 'creator'];
  return {
    period: periods.length === 1 ? periods[0]!.id : `${periods[0]!.id}..${periods[periods.length - 1]!.id}`,
    currency,
    gross: totals.gross.toString(),
    net: totals.net.toString(),
    reversals: totals.reversals.toString(),
    shares: {
      carrier_fee: totals.carrier_fee.toString(),
      pg_fee: totals.pg_fee.toString(),
      platform_share: totals.platform_share.toString(),
      creator_share: totals.creator_share.toString(),
    },
    parties: [...parties.entries()]
      .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
      .map(([party_type, v]) => ({
        party_type,
        earned: v.earned.toString(),
        payable: v.payable.toString(),
        paid: v.paid.toString(),
        carried_forward: v.carried.toString(),
      })),
    months,
  };
}
