/**
 * Settlement of one month, offline from a JSON Lines history and from the embedded ClickHouse store:
 * seconds, taps per second and the peak RSS of each phase. Prints `BENCH {...}` lines for `npm run bench`.
 *   node bench/settle.ts [taps]      (default 200,000; the figure is 10,000,000)
 * The history spans October and November 2026; 2 % of taps get a refund, 1 % an UNPAID and a later
 * COLLECTED, so adjustments cross the month boundary as in production.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatInputLine } from '../schemas/jsonLines.ts';
import type { Adjustment, Tap } from '../schemas/types.ts';
import { settleFromStore } from '../settlement/clickhouseSource.ts';
import { parseContracts } from '../settlement/contracts.ts';
import { fileItems } from '../settlement/fileSource.ts';
import { settleRecords } from '../settlement/offline.ts';
import { statementToJson } from '../settlement/statementFormat.ts';
import { parsePeriod } from '../settlement/period.ts';
import { migrate } from '../sinks/clickhouse/migrate.ts';
import { adjustmentRow, tapRow } from '../sinks/clickhouse/rows.ts';
import { openEmbeddedStore } from '../sinks/clickhouse/store.ts';

const total = Number(process.argv[2] ?? 200_000);
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
    occurred_at: start + Math.floor((i / total) * span),
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

const dir = mkdtempSync(join(tmpdir(), 'tapline-bench-settle-'));
const period = parsePeriod('2026-11');
let fromStore: string | undefined;
try {
  // ClickHouse first: its phase's RSS then excludes the offline tap index.
  const store = await openEmbeddedStore(join(dir, 'chdb'), 'bench');
  try {
    await migrate(store, { retentionYears: 5 });
    for (let from = 0; from < total; from += 50_000) {
      const taps = Array.from({ length: Math.min(50_000, total - from) }, (_, k) => tapAt(from + k));
      await store.insert(
        'taps',
        taps.map(({ msisdn: _m, ...t }) => tapRow({ ...t, msisdn_hash: 'h', msisdn_key_version: 1 })),
      );
      const adjustments = taps.flatMap((t, k) =>
        adjustmentsOf(t, from + k).map((a) =>
          adjustmentRow({
            ...a,
            account_id: t.account_id,
            msisdn_hash: 'h',
            platform_id: t.platform_id,
            creator_id: t.creator_id,
            carrier: t.carrier,
            currency: t.currency,
            tap_occurred_at: t.occurred_at,
          }),
        ),
      );
      await store.insert('adjustments', adjustments);
    }
    const ch = await measured(() => settleFromStore(store, { period, contracts, opening: [] }));
    fromStore = statementToJson({ ...ch.value.statement, generated_from: '' });
    process.stderr.write(
      `clickhouse: ${ch.value.statement.lines.length} lines in ${ch.seconds.toFixed(2)} s\n`,
    );
    report('settle.clickhouse.seconds', 's', ch.seconds, 'lower');
    report('settle.clickhouse.taps_per_s', 'taps/s', total / ch.seconds, 'higher');
    report('settle.clickhouse.peak_rss', 'MB', ch.peakMb, 'lower');
  } finally {
    await store.close();
  }

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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
