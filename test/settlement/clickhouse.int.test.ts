/**
 * Settlement from the store (embedded chDB with the real schema): the same history gives the same
 * statement as the file source; runs replace an open period and a closed one stays closed.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/cli.ts';
import { createCliContext } from '../../pipeline/cliContext.ts';
import { parseInputLine } from '../../schemas/jsonLines.ts';
import type { InputRecord } from '../../schemas/types.ts';
import { adjustmentRow, tapRow } from '../../sinks/clickhouse/rows.ts';
import {
  assertPeriodOpen,
  settleFromStore,
  storedOpening,
  writeRun,
} from '../../settlement/clickhouseSource.ts';
import { parseContracts, type Contracts } from '../../settlement/contracts.ts';
import { settleRecords, type SourceItem } from '../../settlement/offline.ts';
import { parsePeriod, type SettlementPeriod } from '../../settlement/period.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { migrations } from '../../sinks/clickhouse/migrations/index.ts';
import { openEmbeddedStore, type AnalystStore } from '../../sinks/clickhouse/store.ts';
import { chdbPathForFile, migratedStore, uniqueDatabase } from '../sinks/clickhouse/helpers.ts';
import { adj, baseTerms, contractsOf, tap } from './builders.ts';

const path = chdbPathForFile();
const example = new URL('../fixtures/example/', import.meta.url);
const exampleItems: SourceItem[] = readFileSync(new URL('events.jsonl', example), 'utf8')
  .trim()
  .split('\n')
  .map((text, i) => {
    const parsed = parseInputLine(text, { now: Number.MAX_SAFE_INTEGER });
    if (!parsed.ok) throw new Error(parsed.reason);
    return { lineNo: i + 1, record: parsed.record };
  });
const exampleContracts = parseContracts(JSON.parse(readFileSync(new URL('contracts.json', example), 'utf8')));

/**
 * Writes a history the way the sink does (its own row functions), taps first as the pipeline applies
 * them; `earlier` holds taps stored before, whose context later adjustments carry.
 */
async function load(
  store: AnalystStore,
  items: readonly SourceItem[],
  earlier: readonly SourceItem[] = [],
): Promise<void> {
  const records = items.flatMap((i) => ('record' in i ? [i.record] : []));
  const taps = new Map<string, Extract<InputRecord, { type: 'tap' }>>();
  for (const r of records) if (r.type === 'tap') taps.set(r.tap_id, r);
  await store.insert(
    'taps',
    [...taps.values()].map(({ type: _t, msisdn: _m, ...t }) =>
      tapRow({ ...t, msisdn_hash: 'h', msisdn_key_version: 1 }),
    ),
  );
  for (const i of earlier) if ('record' in i && i.record.type === 'tap') taps.set(i.record.tap_id, i.record);
  await store.insert(
    'adjustments',
    records.flatMap((r) => {
      if (r.type !== 'adjustment') return [];
      const t = taps.get(r.tap_id)!;
      const { type: _t, ...a } = r;
      return [
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
      ];
    }),
  );
}

async function both(items: SourceItem[], period: string, contracts: Contracts, copies = 1) {
  const store = await migratedStore(path);
  try {
    // The sink may write a batch again after a crash: copies must not count twice.
    for (let i = 0; i < copies; i++) await load(store, items);
    const p = parsePeriod(period);
    const fromStore = await settleFromStore(store, { period: p, contracts, opening: [] });
    const fromFile = await settleRecords(items, { period: p, contracts, opening: [], generatedFrom: 'file' });
    return { fromStore, fromFile };
  } finally {
    await store.close();
  }
}

const strip = <T extends { generated_from: string }>(s: T) => ({ ...s, generated_from: '' });

describe('settlement from ClickHouse', () => {
  it('gives the same statement as the file for the worked example, replayed copies included', async () => {
    const { fromStore, fromFile } = await both(exampleItems, '2026-11', exampleContracts, 2);
    expect(strip(fromStore.statement)).toEqual(strip(fromFile.statement));
    expect(fromStore.statement.lines).toHaveLength(3);
    expect(fromStore.counts).toMatchObject({ taps: 12, adjustmentsApplied: 2 });
  });

  it('groups by terms version in SQL: a November refund of an October tap uses October terms', async () => {
    const contracts = contractsOf({
      terms: [
        { ...baseTerms, effective_from: '2026-10-01' },
        {
          effective_from: '2026-11-01',
          carrier_fee: { SKT: '0.04', KT: '0.04', LGU: '0.04', MVNO: '0.05' },
          pg_fee: '0.025',
          platform_share: { default: '0.40' },
        },
      ],
    });
    const items = [
      tap({ id: 'oct', at: '2026-10-20T03:00:00Z', amount: 1000, platform: 'p' }),
      tap({ id: 'nov', at: '2026-10-31T15:00:00Z', amount: 1000, platform: 'p' }),
      tap({ id: 'dec', at: '2026-11-30T15:30:00Z', amount: 777, platform: 'p' }),
      adj('u', 'oct', 'UNPAID', 100, '2026-10-25T03:00:00Z'),
      adj('r', 'oct', 'REFUND', 400, '2026-11-10T03:00:00Z'),
      adj('c', 'oct', 'COLLECTED', 60, '2026-11-11T03:00:00Z'),
      adj('x', 'oct', 'REFUND', 600, '2026-11-12T03:00:00Z'),
    ].map((item, i) => ({ ...item, lineNo: i + 1 }));
    const { fromStore, fromFile } = await both(items, '2026-11', contracts);
    expect(strip(fromStore.statement)).toEqual(strip(fromFile.statement));
    expect(fromStore.statement.lines[0]).toMatchObject({
      gross: 1000n,
      reversals: 400n,
      carrier_fee: 20n,
      pg_fee: 13n,
      platform_share: 264n,
      creator_share: 303n,
      released: 60n,
    });
    expect(fromStore.rejects.map((r) => r.id)).toEqual(['x']);
  });

  it('applies same-millisecond adjustments by adjustment_id, as the file does, whatever the input order', async () => {
    // Each refund alone fits the 1000 still open; together they do not, so the order decides which one is rejected.
    const items = [
      tap({ id: 't', at: '2026-11-02T00:00:00Z', amount: 1000 }),
      adj('r-b', 't', 'REFUND', 600, '2026-11-05T00:00:00.123Z'),
      adj('r-a', 't', 'REFUND', 700, '2026-11-05T00:00:00.123Z'),
    ].map((item, i) => ({ ...item, lineNo: i + 1 }));
    const { fromStore, fromFile } = await both(items, '2026-11', contractsOf());
    expect(strip(fromStore.statement)).toEqual(strip(fromFile.statement));
    expect(fromStore.statement.lines[0]).toMatchObject({ gross: 1000n, reversals: 700n });
    expect(fromStore.rejects.map((r) => r.id)).toEqual(['r-b']);
    expect(fromFile.rejects.map((r) => r.id)).toEqual(['r-b']);
  });

  it('replaces the run of an open period, keeps a closed one, and closes in order', async () => {
    const store = await migratedStore(path);
    try {
      await load(store, exampleItems);
      const nov = parsePeriod('2026-11');
      const run = await settleFromStore(store, { period: nov, contracts: exampleContracts, opening: [] });
      await writeRun(store, run, nov, false);
      await writeRun(store, run, nov, false);
      const [lines] = await store.query<{ n: number; runs: number }>(
        `SELECT count() AS n, uniqExact(run_id) AS runs FROM settlement_lines WHERE period = '2026-11'`,
      );
      expect(lines).toEqual({ n: 3, runs: 1 });
      const [paid] = await store.query<{ paid: number }>(
        `SELECT sum(paid) AS paid FROM payouts WHERE period = '2026-11'`,
      );
      expect(paid!.paid).toBe(2452);

      const dec = parsePeriod('2026-12');
      const opening = await storedOpening(store, dec);
      expect(opening.map((o) => [o.party_id, o.carried_forward])).toEqual([
        ['c-joon', 1256n],
        ['c-mina', 2392n],
      ]);
      const decRun = await settleFromStore(store, { period: dec, contracts: exampleContracts, opening });
      await expect(writeRun(store, decRun, dec, true)).rejects.toMatchObject({ code: 'PERIOD_ORDER' });

      await writeRun(store, run, nov, true);
      await expect(assertPeriodOpen(store, nov)).rejects.toMatchObject({ code: 'PERIOD_CLOSED' });
      await expect(writeRun(store, run, nov, false)).rejects.toMatchObject({ code: 'PERIOD_CLOSED' });
      await writeRun(store, decRun, dec, true);
      const [decPayouts] = await store.query<{ carried_in: number }>(
        `SELECT sum(carried_in) AS carried_in FROM payouts WHERE period = '2026-12' AND closed = 1`,
      );
      expect(decPayouts!.carried_in).toBe(1256 + 2392);
    } finally {
      await store.close();
    }
  });

  it('a closed period stays as settled: its late adjustments settle once in the next open period, under the tap terms', async () => {
    const contracts = contractsOf({
      terms: [
        { ...baseTerms, effective_from: '2026-01-01' },
        {
          effective_from: '2026-11-01',
          carrier_fee: { SKT: '0.04', KT: '0.04', LGU: '0.04', MVNO: '0.05' },
          pg_fee: '0.025',
          platform_share: { default: '0.40' },
        },
      ],
    });
    const [oct, nov, dec] = ['2026-10', '2026-11', '2026-12'].map(parsePeriod) as [
      SettlementPeriod,
      SettlementPeriod,
      SettlementPeriod,
    ];
    const t1 = tap({ id: 't1', at: '2026-10-10T03:00:00Z', amount: 10_000, platform: 'p' });
    const t2 = tap({ id: 't2', at: '2026-11-05T03:00:00Z', amount: 2_000, platform: 'p' });
    const store = await migratedStore(path);
    const settleAndStore = async (p: SettlementPeriod, close: boolean) => {
      const opening = await storedOpening(store, p);
      const run = await settleFromStore(store, { period: p, contracts, opening });
      await writeRun(store, run, p, close);
      return run;
    };
    const settledIn = (p: string) =>
      store.query<{ adjustment_id: string; outcome: string }>(
        `SELECT adjustment_id, outcome FROM settled_adjustments WHERE period = {p:String} ORDER BY adjustment_id`,
        { p },
      );
    try {
      await load(store, [t1, adj('r0', 't1', 'REFUND', 9_500, '2026-10-15T03:00:00Z')]);
      const octRun = await settleAndStore(oct, true);
      // 500 under October terms: 5 % 25, 3 % 15, 30 % of 92 % 138, the rest 322.
      expect(octRun.statement.lines[0]).toMatchObject({ gross: 10_000n, reversals: 9_500n, net: 500n });
      expect(await settledIn('2026-10')).toEqual([{ adjustment_id: 'r0', outcome: 'applied' }]);

      // After October closed: two refunds dated inside it arrive, with November's first tap.
      await load(
        store,
        [
          t2,
          adj('r1', 't1', 'REFUND', 400, '2026-10-12T03:00:00Z'),
          adj('r2', 't1', 'REFUND', 200, '2026-10-13T03:00:00Z'),
        ],
        [t1],
      );
      const novRun = await settleAndStore(nov, false);
      // r0 stands as October applied it (9 500), so 500 is open: r1 (400) applies, r2 (200) exceeds the 100
      // left. Replaying by event time alone would have applied r1 and r2 and refused r0, rewriting October.
      // Line: October terms on −400: −(20, 12, 110.4, 257.6) → −20, −12, −110, −258 (the unit to .6);
      // November terms on 2 000: 4 % 80, 2.5 % 50, 40 % of 93.5 % 748, the rest 1 122. Summed:
      expect(novRun.statement.lines).toHaveLength(1);
      expect(novRun.statement.lines[0]).toMatchObject({
        gross: 2_000n,
        reversals: 400n,
        net: 1_600n,
        carrier_fee: 60n,
        pg_fee: 38n,
        platform_share: 638n,
        creator_share: 864n,
      });
      expect(novRun.rejects.map((r) => [r.id, r.reason])).toEqual([
        ['r2', expect.stringContaining('exceeds the 100 still open on tap t1')],
      ]);
      expect(novRun.counts).toMatchObject({ adjustmentsApplied: 1, adjustmentsLate: 2, rejected: 1 });

      // December, while November's run is open: November takes the late ones, December must not.
      const decEarly = await settleFromStore(store, { period: dec, contracts, opening: [] });
      expect(decEarly.statement.lines).toEqual([]);
      expect(decEarly.counts.adjustmentsLate).toBe(0);

      // Rerunning the open November replaces its run: r1 and r2 are listed once, the lines once.
      const again = await settleAndStore(nov, false);
      expect(again.statement).toEqual(novRun.statement);
      expect(await settledIn('2026-11')).toEqual([
        { adjustment_id: 'r1', outcome: 'applied' },
        { adjustment_id: 'r2', outcome: 'rejected' },
      ]);
      const [novRows] = await store.query<{ n: number }>(
        `SELECT count() AS n FROM settlement_lines WHERE period = '2026-11'`,
      );
      expect(novRows!.n).toBe(1);

      // Close November; then a refund dated in it arrives. December settles it alone, under November
      // terms: −50 → −(2, 1.25, 18.7, 28.05) → −2, −1, −19, −28 (the unit to .7, the platform).
      await settleAndStore(nov, true);
      await load(store, [adj('r3', 't2', 'REFUND', 50, '2026-11-20T03:00:00Z')], [t2]);
      const decRun = await settleAndStore(dec, false);
      expect(decRun.statement.lines).toEqual([
        expect.objectContaining({
          gross: 0n,
          reversals: 50n,
          net: -50n,
          carrier_fee: -2n,
          pg_fee: -1n,
          platform_share: -19n,
          creator_share: -28n,
        }),
      ]);
      expect(decRun.rejects).toEqual([]);
      expect(decRun.counts).toMatchObject({ adjustmentsApplied: 1, adjustmentsLate: 1 });
      await settleAndStore(dec, false);
      expect(await settledIn('2026-12')).toEqual([{ adjustment_id: 'r3', outcome: 'applied' }]);
      // The closed months are untouched.
      expect(await settledIn('2026-10')).toEqual([{ adjustment_id: 'r0', outcome: 'applied' }]);
      const [octLine] = await store.query<{ reversals: number; closed: number }>(
        `SELECT reversals, closed FROM settlement_lines WHERE period = '2026-10'`,
      );
      expect(octLine).toEqual({ reversals: 9_500, closed: 1 });
    } finally {
      await store.close();
    }
  });

  it('an empty closed period is still closed, and its late adjustments settle in the next one', async () => {
    const store = await migratedStore(path);
    try {
      const t = tap({ id: 't', at: '2026-09-10T03:00:00Z', amount: 1_000, platform: 'p' });
      await load(store, [t]);
      const contracts = contractsOf();
      for (const id of ['2026-09', '2026-10']) {
        const p = parsePeriod(id);
        await writeRun(store, await settleFromStore(store, { period: p, contracts, opening: [] }), p, true);
      }
      const oct = parsePeriod('2026-10');
      await expect(assertPeriodOpen(store, oct)).rejects.toMatchObject({ code: 'PERIOD_CLOSED' });
      await load(store, [adj('late', 't', 'CHARGEBACK', 100, '2026-10-20T03:00:00Z')], [t]);
      const nov = await settleFromStore(store, { period: parsePeriod('2026-11'), contracts, opening: [] });
      // September terms (the only ones) on −100: −(5, 3, 27.6, 64.4) → −5, −3, −28, −64 (the unit to .6).
      expect(nov.statement.lines).toEqual([
        expect.objectContaining({ reversals: 100n, carrier_fee: -5n, pg_fee: -3n, platform_share: -28n }),
      ]);
    } finally {
      await store.close();
    }
  });

  it('tapline settle on a store older than migration 4 says to migrate, and exits 2', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase('old'));
    const database = store.database;
    try {
      await migrate(store, { retentionYears: 5, migrations: migrations.filter((m) => m.version < 4) });
    } finally {
      await store.close();
    }
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await main(
      ['settle', '--period', '2026-11', '--contracts', new URL('contracts.json', example).pathname],
      createCliContext(
        { CHDB_PATH: path, CLICKHOUSE_DATABASE: database, LOG_LEVEL: 'silent' },
        new PassThrough(),
        err,
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/schema version 3; settlement needs 4 or later\. Run `tapline migrate`/);
  });

  it('tapline settle without --input reads the configured store, stores the run and prints the statement', async () => {
    const store = await migratedStore(path);
    const database = store.database;
    try {
      await load(store, exampleItems);
    } finally {
      await store.close();
    }
    const out = new PassThrough();
    // A terminal: the run shows its steps on a progress bar.
    const err = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let stdout = '';
    let stderr = '';
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const env = { CHDB_PATH: path, CLICKHOUSE_DATABASE: database, LOG_LEVEL: 'silent' };
    const contracts = new URL('contracts.json', example).pathname;
    const code = await main(
      ['settle', '--period', '2026-11', '--contracts', contracts],
      createCliContext(env, out, err),
    );
    expect(code, stderr).toBe(0);
    const expected = JSON.parse(readFileSync(new URL('statement.expected.json', example), 'utf8')) as object;
    expect({ ...(JSON.parse(stdout) as object), generated_from: '' }).toEqual({
      ...expected,
      generated_from: '',
    });
    expect(stderr).toMatch(/stored run [0-9a-f]{16} of 2026-11/);
    expect(stderr).toMatch(/settle .* 4\/4 done/);
    expect(stderr).toMatch(/lines\s+3\n/);

    const again = await main(
      ['settle', '--period', '2026-11', '--contracts', contracts, '--close'],
      createCliContext(env, new PassThrough(), new PassThrough()),
    );
    expect(again).toBe(0);
    const closedErr = new PassThrough();
    let closedText = '';
    closedErr.on('data', (c: Buffer) => (closedText += c.toString()));
    const refused = await main(
      ['settle', '--period', '2026-11', '--contracts', contracts],
      createCliContext(env, new PassThrough(), closedErr),
    );
    expect(refused).toBe(1);
    expect(closedText).toMatch(/2026-11 is closed and immutable/);
  });
});
