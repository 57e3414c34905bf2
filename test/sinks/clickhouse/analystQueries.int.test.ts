/**
 * Every SQL block of docs/ANALYSTS.md runs on chDB against a fixture inserted twice (a replay), with
 * answers counted by hand below. The fixture sits "yesterday" in Asia/Seoul, so the documented
 * relative filters (yesterday, last 7 / 30 days) select it; one tap ten days ago tests the windows.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { adjustmentRow, alertRow, decisionRow, tapRow } from '../../../sinks/clickhouse/rows.ts';
import type { AnalystStore } from '../../../sinks/clickhouse/store.ts';
import type { DecisionOutcome, EnrichedTap } from '../../../schemas/types.ts';
import { adjustment, alert, decision, tap } from './fixtures.ts';
import { chdbPathForFile, migratedStore } from './helpers.ts';

const path = chdbPathForFile();
const HOUR = 3_600_000;

/** 10:00 KST yesterday, as UTC epoch ms. */
function yesterdayTenKst(): number {
  const kst = new Date(Date.now() + 9 * HOUR);
  return Date.UTC(kst.getUTCFullYear(), kst.getUTCMonth(), kst.getUTCDate() - 1) - 9 * HOUR + 10 * HOUR;
}

const base = yesterdayTenKst();
const at = (minute: number) => base + minute * 60_000;

type Spec = [
  id: string,
  minute: number,
  fields: Partial<EnrichedTap>,
  outcome: DecisionOutcome,
  rules: string[],
];
const specs: Spec[] = [
  [
    't0',
    -10 * 24 * 60,
    { account_id: 'acc-1', device_id: 'dev-A', msisdn_hash: 'h-X', amount: 9999 },
    'ALLOW',
    [],
  ],
  ['t1', 0, { account_id: 'acc-1', device_id: 'dev-A', msisdn_hash: 'h-X', amount: 1000 }, 'ALLOW', []],
  ['t2', 1, { account_id: 'acc-2', device_id: 'dev-A', msisdn_hash: 'h-X', amount: 3000 }, 'ALLOW', []],
  [
    't3',
    2,
    {
      account_id: 'acc-3',
      device_id: 'dev-A',
      msisdn_hash: 'h-X',
      carrier: 'KT',
      creator_id: 'cr-2',
      amount: 5000,
    },
    'REVIEW',
    ['device_many_accounts'],
  ],
  [
    't4',
    3,
    {
      account_id: 'acc-4',
      device_id: 'dev-A',
      msisdn_hash: 'h4',
      carrier: 'KT',
      platform_id: 'streamly',
      creator_id: 'cr-3',
      channel: 'WEB',
      amount: 2000,
    },
    'REVIEW',
    ['device_many_accounts'],
  ],
  [
    't5',
    3,
    {
      account_id: 'acc-5',
      device_id: 'dev-A',
      msisdn_hash: 'h5',
      carrier: 'LGU',
      platform_id: 'streamly',
      creator_id: 'cr-3',
      channel: 'WEB',
      amount: 4000,
    },
    'BLOCK',
    ['device_many_accounts'],
  ],
  [
    't6',
    10,
    { account_id: 'acc-1', device_id: 'dev-B', msisdn_hash: 'h-X', amount: 500, status: 'DECLINED' },
    'ALLOW',
    [],
  ],
  [
    't7',
    11,
    { account_id: 'acc-1', device_id: 'dev-B', msisdn_hash: 'h-X', creator_id: 'cr-2', amount: 1500 },
    'ALLOW',
    [],
  ],
  [
    't8',
    20,
    {
      account_id: 'acc-6',
      device_id: 'dev-C',
      msisdn_hash: 'h6',
      carrier: 'LGU',
      platform_id: 'streamly',
      creator_id: null,
      channel: 'WEB',
      amount: 2500,
    },
    'REVIEW',
    ['account_burst'],
  ],
  [
    't9',
    21,
    {
      account_id: 'acc-6',
      device_id: 'dev-C',
      msisdn_hash: 'h6',
      carrier: 'LGU',
      platform_id: 'streamly',
      creator_id: null,
      channel: 'WEB',
      amount: 300,
      status: 'FAILED',
    },
    'REVIEW',
    ['account_declines'],
  ],
  [
    't10',
    30,
    {
      account_id: 'acc-7',
      device_id: 'dev-D',
      msisdn_hash: 'h7',
      carrier: 'MVNO',
      creator_id: 'cr-2',
      amount: 1000,
    },
    'ALLOW',
    [],
  ],
];

function sqlBlocks(): string[] {
  const doc = readFileSync(new URL('../../../docs/ANALYSTS.md', import.meta.url), 'utf8');
  return [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

/** Hand-computed answers, in the order of the blocks in the document. */
const expected: Array<(rows: Array<Record<string, unknown>>) => void> = [
  (rows) =>
    expect(rows).toEqual([
      { device_id: 'dev-A', accounts: 5 },
      { device_id: 'dev-B', accounts: 1 },
      { device_id: 'dev-C', accounts: 1 },
      { device_id: 'dev-D', accounts: 1 },
    ]),
  (rows) =>
    expect(rows).toEqual([
      { platform_id: 'streamly', rule: 'device_many_accounts', hits: 2 },
      { platform_id: 'webtoonia', rule: 'device_many_accounts', hits: 1 },
    ]),
  (rows) =>
    expect(rows).toEqual([
      { carrier: 'KT', allowed: 0, reviewed: 7000, blocked: 0 },
      { carrier: 'LGU', allowed: 0, reviewed: 2500, blocked: 4000 },
      { carrier: 'MVNO', allowed: 1000, reviewed: 0, blocked: 0 },
      { carrier: 'SKT', allowed: 5500, reviewed: 0, blocked: 0 },
    ]),
  (rows) =>
    expect(rows.map((r) => [r['tap_id'], r['amount'], r['status'], r['decision']])).toEqual([
      ['t7', 1500, 'APPROVED', 'ALLOW'],
      ['t6', 500, 'DECLINED', 'ALLOW'],
      ['t1', 1000, 'APPROVED', 'ALLOW'],
      ['t0', 9999, 'APPROVED', 'ALLOW'],
    ]),
  (rows) =>
    expect(rows).toEqual([
      { creator_id: 'cr-2', refunds: 2, refunded: 3500 },
      { creator_id: 'cr-1', refunds: 1, refunded: 3000 },
    ]),
  (rows) =>
    expect(rows).toEqual([
      { carrier: 'KT', taps: 2, not_approved: 0, decline_rate: 0 },
      { carrier: 'LGU', taps: 3, not_approved: 1, decline_rate: 0.333 },
      { carrier: 'MVNO', taps: 1, not_approved: 0, decline_rate: 0 },
      { carrier: 'SKT', taps: 4, not_approved: 1, decline_rate: 0.25 },
    ]),
  (rows) => expect(rows).toEqual([{ carrier: 'MVNO', open_unpaid: 1000 }]),
  (rows) => expect(rows).toEqual([{ msisdn_hash: 'h-X', accounts: 3, amount: 11000 }]),
  (rows) =>
    expect(rows).toEqual([
      { kst_minute: '10:03', taps: 2, amount: 6000 },
      { kst_minute: '10:00', taps: 1, amount: 1000 },
      { kst_minute: '10:01', taps: 1, amount: 3000 },
    ]),
  (rows) =>
    expect(rows).toEqual([
      { platform_id: 'streamly', decision: 'BLOCK', alerts: 1, amount: 4000 },
      { platform_id: 'streamly', decision: 'REVIEW', alerts: 3, amount: 4800 },
      { platform_id: 'webtoonia', decision: 'REVIEW', alerts: 1, amount: 5000 },
    ]),
  (rows) =>
    expect(rows).toEqual([
      { platform_id: 'streamly', gross: 8500, reversed: 2000, reversal_rate: 0.2353 },
      { platform_id: 'webtoonia', gross: 21499, reversed: 6500, reversal_rate: 0.3023 },
    ]),
  (rows) => expect(rows.map((r) => [r['account_id'], r['devices']])).toEqual([['acc-1', 2]]),
];

let store: AnalystStore;

beforeAll(async () => {
  store = await migratedStore(path);
  const taps = specs.map(([id, minute, fields]) => tap(id, 0, { ...fields, occurred_at: at(minute) }));
  const decisions = specs.map(([, , , outcome, rules], i) => decision(taps[i]!, outcome, rules));
  const alerts = decisions
    .filter((d) => d.decision !== 'ALLOW')
    .map((d) =>
      alert(
        taps.find((t) => t.tap_id === d.tap_id)!,
        d,
      ),
    );
  const byId = (id: string) => taps.find((t) => t.tap_id === id)!;
  const adjustments = [
    adjustment('a1', byId('t2'), 'REFUND', 3000),
    adjustment('a2', byId('t7'), 'REFUND', 1500),
    adjustment('a3', byId('t3'), 'REFUND', 2000),
    adjustment('a4', byId('t4'), 'CHARGEBACK', 2000),
    adjustment('a5', byId('t10'), 'UNPAID', 1000),
    adjustment('a6', byId('t1'), 'UNPAID', 1000),
    adjustment('a7', byId('t1'), 'COLLECTED', 1000, 120),
  ];
  // Twice, under different tokens: the answers must not change on a replay.
  for (const round of ['first', 'replay']) {
    await store.insert('taps', taps.map(tapRow), { dedupToken: `taps-${round}` });
    await store.insert('decisions', decisions.map(decisionRow), { dedupToken: `d-${round}` });
    await store.insert('fraud_alerts', alerts.map(alertRow), { dedupToken: `a-${round}` });
    await store.insert('adjustments', adjustments.map(adjustmentRow), { dedupToken: `adj-${round}` });
  }
});

afterAll(() => store.close());

describe('docs/ANALYSTS.md queries', () => {
  const blocks = sqlBlocks();

  it('has at least ten questions, each with an asserted answer', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(blocks.length).toBe(expected.length);
  });

  blocks.forEach((sql, i) => {
    it(`question ${i + 1} answers as counted by hand`, async () => {
      const rows = await store.query<Record<string, unknown>>(sql);
      expected[i]!(rows);
    });
  });

  it('the raw tables do hold the replayed copies the views fold', async () => {
    const rows = await store.query<{ c: number }>('SELECT count() AS c FROM taps');
    expect(rows[0]!.c).toBe(2 * specs.length);
  });
});
