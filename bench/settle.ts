/**
 * Settlement of one month, from the embedded ClickHouse store (the real schema) and offline from a
 * JSON Lines history: seconds, taps per second and the peak RSS of each phase. Prints `BENCH {...}`
 * lines for `npm run bench`.
 *   node bench/settle.ts [taps] [--clickhouse-only]   (default 200,000; the issue's figure is 10,000,000)
 * The history spans October and November 2026; 2 % of taps get a refund, 1 % an UNPAID and a later
 * COLLECTED, so adjustments cross the month boundary as in production. ClickHouse gets it from SQL
 * (INSERT ... SELECT FROM numbers(), seconds for millions of rows); the file from the same formulas in
 * Node, and both statements must agree to the won (`--clickhouse-only` skips the file, too slow at 10M).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatInputLine } from '../schemas/jsonLines.ts';
import type { Adjustment, Tap } from '../schemas/types.ts';
import { settleFromStore, writeRun } from '../settlement/clickhouseSource.ts';
import { parseContracts } from '../settlement/contracts.ts';
import { fileItems } from '../settlement/fileSource.ts';
import { settleRecords } from '../settlement/offline.ts';
import { statementToJson } from '../settlement/statementFormat.ts';
import { parsePeriod } from '../settlement/period.ts';
import { migrate } from '../sinks/clickhouse/migrate.ts';
import { openEmbeddedStore, type AnalystStore } from '../sinks/clickhouse/store.ts';

const args = process.argv.slice(2);
const total = Number(args.find((a) => !a.startsWith('--')) ?? 200_000);
const clickhouseOnly = args.includes('--clickhouse-only');
const carriers = ['SKT', 'KT', 'LGU', 'MVNO'] as const;
const start = Date.parse('2026-10-01T00:00:00Z');
const span = Date.parse('2026-11-29T00:00:00Z') - start;
const contracts = parseContracts({
  terms: [
    {
      effective_from: '2026-01-01',
      carrier_fee: { SKT: '0.05', KT: '0.05', LGU: '0.05', MVNO: '0.06' },
      pg_fee: '0.03',
      platform_share: { default: '0.30', 'platform-3': '0.35' },
    },
    {
      effective_from: '2026-11-01',
      carrier_fee: { SKT: '0.045', KT: '0.05', LGU: '0.05', MVNO: '0.06' },
      pg_fee: '0.028',
      platform_share: { default: '0.30' },
    },
  ],
});

function tapAt(i: number): Tap {
  return {
    tap_id: `bench-${i}`,
    // Integer division, exactly as the SQL generator's intDiv (i × span passes 2^53 at 10M taps).
    occurred_at: start + Number((BigInt(i) * BigInt(span)) / BigInt(total)),
    account_id: `acc-${i % 50_000}`,
    msisdn: `+8210${String(10_000_000 + (i % 1_000_000)).slice(0, 8)}`,
    carrier: carriers[i % 4]!,
    device_id: `dev-${i % 40_000}`,
    ip: `10.${i % 250}.${(i >> 8) % 250}.${i % 200}`,
    platform_id: `platform-${i % 12}`,
    creator_id: i % 5 === 0 ? null : `creator-${i % 900}`,
    item_id: null,
    channel: 'APP',
    amount: 300 + (i % 4700),
    currency: 'KRW',
    status: i % 20 === 0 ? 'DECLINED' : 'APPROVED',
    retry_of: null,
  };
}

function adjustmentsOf(t: Tap, i: number): Adjustment[] {
  if (t.status !== 'APPROVED') return [];
  const day = 86_400_000;
  const adj = (suffix: string, kind: Adjustment['kind'], amount: number, after: number): Adjustment => ({
    adjustment_id: `${t.tap_id}-${suffix}`,
    occurred_at: t.occurred_at + after,
    tap_id: t.tap_id,
    kind,
    amount,
    reason: null,
  });
  if (i % 50 === 1) return [adj('r', 'REFUND', t.amount, 3 * day)];
  if (i % 100 === 2)
    return [adj('u', 'UNPAID', t.amount, 10 * day), adj('c', 'COLLECTED', t.amount, 20 * day)];
  return [];
}

/** Peak RSS while `run` runs, sampled every 20 ms (the process-wide maxRSS would mix the phases). */
async function measured<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, seconds: (performance.now() - t0) / 1000, peakMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

function report(metric: string, unit: string, value: number, better: 'higher' | 'lower'): void {
  console.log(`BENCH ${JSON.stringify({ metric, unit, value: Math.round(value * 100) / 100, better })}`);
}

/** The history of tapAt and adjustmentsOf, generated inside ClickHouse. */
async function loadHistory(store: AnalystStore): Promise<void> {
  const tapAtSql = `fromUnixTimestamp64Milli(toInt64(${start} + intDiv(number * ${span}, ${total})), 'UTC')`;
  const creatorSql = `if(number % 5 = 0, NULL, concat('creator-', toString(number % 900)))`;
  const carrierSql = `[${carriers.map((c) => `'${c}'`).join(', ')}][number % 4 + 1]`;
  await store.command(
    `INSERT INTO taps (tap_id, occurred_at, account_id, msisdn_hash, msisdn_key_version, carrier, device_id,
       ip, platform_id, creator_id, item_id, channel, amount, currency, status, retry_of)
     SELECT concat('bench-', toString(number)), ${tapAtSql}, concat('acc-', toString(number % 50000)), 'h', 1,
       ${carrierSql}, concat('dev-', toString(number % 40000)),
       concat('10.', toString(number % 250), '.', toString(intDiv(number, 256) % 250), '.', toString(number % 200)),
       concat('platform-', toString(number % 12)), ${creatorSql}, NULL, 'APP', 300 + number % 4700, 'KRW',
       if(number % 20 = 0, 'DECLINED', 'APPROVED'), NULL
     FROM numbers(${total})`,
  );
  const day = 86_400_000;
  // (suffix, kind, days after the tap) for refunded taps (i % 50 = 1) and unpaid ones (i % 100 = 2).
  const kinds: Array<[string, string, number, string]> = [
    ['r', 'REFUND', 3, 'number % 50 = 1'],
    ['u', 'UNPAID', 10, 'number % 100 = 2'],
    ['c', 'COLLECTED', 20, 'number % 100 = 2'],
  ];
  for (const [suffix, kind, days, where] of kinds) {
    await store.command(
      `INSERT INTO adjustments (adjustment_id, occurred_at, tap_id, kind, amount, reason, account_id, msisdn_hash,
         platform_id, creator_id, carrier, currency, tap_occurred_at)
       SELECT concat('bench-', toString(number), '-${suffix}'),
         fromUnixTimestamp64Milli(toUnixTimestamp64Milli(${tapAtSql}) + ${days * day}, 'UTC'),
         concat('bench-', toString(number)), '${kind}', 300 + number % 4700, NULL,
         concat('acc-', toString(number % 50000)), 'h', concat('platform-', toString(number % 12)), ${creatorSql},
         ${carrierSql}, 'KRW', ${tapAtSql}
       FROM numbers(${total}) WHERE ${where} AND number % 20 != 0`,
    );
  }
}

/** The same history from a JSON Lines file; its statement must equal the store's. */
async function settleOffline(fromStore: string | undefined): Promise<void> {
  const file = join(dir, 'history.jsonl');
  const out = createWriteStream(file);
  for (let i = 0; i < total; i += 1) {
    const t = tapAt(i);
    let chunk = `${formatInputLine({ type: 'tap', ...t })}\n`;
    for (const a of adjustmentsOf(t, i)) chunk += `${formatInputLine({ type: 'adjustment', ...a })}\n`;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const offline = await measured(() =>
    settleRecords(fileItems(file), { period, contracts, opening: [], generatedFrom: 'bench' }),
  );
  process.stderr.write(
    `offline: ${offline.value.counts.records} records, ${offline.value.rejects.length} rejects, ` +
      `${offline.seconds.toFixed(2)} s\n`,
  );
  // Both sources must agree to the won, or the figures measure a wrong computation.
  if (statementToJson({ ...offline.value.statement, generated_from: '' }) !== fromStore) {
    throw new Error('the offline and ClickHouse statements differ');
  }
  report('settle.offline.seconds', 's', offline.seconds, 'lower');
  report('settle.offline.taps_per_s', 'taps/s', total / offline.seconds, 'higher');
  report('settle.offline.peak_rss', 'MB', offline.peakMb, 'lower');
}

const dir = mkdtempSync(join(tmpdir(), 'tapline-bench-settle-'));
const period = parsePeriod('2026-11');
let fromStore: string | undefined;
try {
  // ClickHouse first: its phase's RSS then excludes the offline tap index.
  const store = await openEmbeddedStore(join(dir, 'chdb'), 'bench');
  try {
    await migrate(store, { retentionYears: 5 });
    const load = await measured(() => loadHistory(store));
    process.stderr.write(`loaded ${total} taps in ${load.seconds.toFixed(1)} s\n`);
    // What `tapline settle --period` does: compute in ClickHouse, then store the run (lines, payouts,
    // the adjustments it settled).
    let computeSeconds = 0;
    const ch = await measured(async () => {
      const t0 = performance.now();
      const run = await settleFromStore(store, { period, contracts, opening: [] });
      computeSeconds = (performance.now() - t0) / 1000;
      await writeRun(store, run, period, false);
      return run;
    });
    fromStore = statementToJson({ ...ch.value.statement, generated_from: '' });
    process.stderr.write(
      `clickhouse: ${ch.value.statement.lines.length} lines, ${ch.value.settled?.length ?? 0} adjustments ` +
        `settled, in ${ch.seconds.toFixed(2)} s (compute ${computeSeconds.toFixed(2)} s, store the rest)\n`,
    );
    report('settle.clickhouse.seconds', 's', ch.seconds, 'lower');
    report('settle.clickhouse.taps_per_s', 'taps/s', total / ch.seconds, 'higher');
    report('settle.clickhouse.peak_rss', 'MB', ch.peakMb, 'lower');
  } finally {
    await store.close();
  }

  if (!clickhouseOnly) await settleOffline(fromStore);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
