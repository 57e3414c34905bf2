// `tapline demo` end to end as a user runs it: a child process on the real Kafka and Redis with a
// small traffic, then its figures checked against each other, against what the embedded ClickHouse
// really holds, and its HTML report rendered in headless Chromium.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoReport } from '../../../pipeline/demo/reportData.ts';
import { openAnalystStore, type AnalystStore } from '../../../sinks/clickhouse/store.ts';
import { chartSection, ensureChromium, renderedDom } from './chromium.ts';

const minutes = 0.2;
const rate = 200;
const expectedTaps = Math.round(minutes * 60 * rate);

describe('tapline demo end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapline-demo-'));
  const chdbPath = join(dir, 'chdb');
  const html = join(dir, 'report', 'demo.html');
  let exitCode: number | null = null;
  let stdout = '';
  let stderr = '';
  let report: DemoReport;
  let store: AnalystStore | undefined;

  beforeAll(async () => {
    ensureChromium();
    await new Promise<void>((resolve) => {
      execFile(
        process.execPath,
        [
          'pipeline/cli.ts',
          'demo',
          '--minutes',
          String(minutes),
          '--rate',
          String(rate),
          '--seed',
          '7',
          '--report',
          html,
          '--no-services',
        ],
        {
          cwd: join(import.meta.dirname, '../../..'),
          env: { ...process.env, CHDB_PATH: chdbPath, TAPLINE_QUERY_PORT: '0', LOG_LEVEL: 'info' },
          timeout: 280_000,
          maxBuffer: 32 * 1024 * 1024,
        },
        (error, out, err) => {
          exitCode = error ? ((error as { code?: number }).code ?? 1) : 0;
          stdout = out;
          stderr = err;
          resolve();
        },
      );
    });
    if (existsSync(html.replace(/\.html$/, '.json')))
      report = JSON.parse(readFileSync(html.replace(/\.html$/, '.json'), 'utf8')) as DemoReport;
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  it('exits 0 and prints where the reports are', () => {
    expect(stderr.slice(-2000) + stdout.slice(-2000)).not.toMatch(/checks failed/);
    expect(exitCode).toBe(0);
    expect(stdout).toContain(`HTML report: ${html}`);
    expect(stdout).toMatch(/latency p50 \d+ ms, p99 \d+ ms, max \d+ ms/);
  });

  it('decides every produced tap exactly once', () => {
    const r = report.run;
    expect(r['taps_produced']).toBe(expectedTaps);
    const d = report.decisions;
    expect(d.ALLOW + d.REVIEW + d.BLOCK).toBe(expectedTaps);
    expect(d.REVIEW + d.BLOCK).toBeGreaterThan(0);
    expect(report.throughput.records).toBe(expectedTaps);
    expect(r['decision_messages']).toBe(expectedTaps);
    expect(r['decided_twice']).toBe(0);
    expect(r['clickhouse_taps']).toBe(expectedTaps);
    expect(r['clickhouse_decisions']).toBe(expectedTaps);
    expect(report.latencyMs!.p50).toBeGreaterThan(0);
    expect(report.latencyMs!.p50).toBeLessThanOrEqual(report.latencyMs!.p99);
    expect(report.latencyMs!.p99).toBeLessThanOrEqual(report.latencyMs!.max);
    // The timeline covers every decided tap once.
    const timelineTotal = report.timeline.reduce((a, b) => a + b.ALLOW + b.REVIEW + b.BLOCK, 0);
    expect(timelineTotal).toBe(expectedTaps);
  });

  it('scores detection over every produced tap', () => {
    const q = report.quality!;
    expect(q.fraudTaps).toBe(report.run['fraud_taps']);
    expect(q.fraudTaps + q.honestTaps).toBeLessThanOrEqual(expectedTaps);
    expect(q.scenarios.length).toBeGreaterThan(0);
    expect(q.honestUsers).toBeGreaterThan(0);
  });

  it('settles consistently: gross − reversals = net, the shares sum to net, payable = paid + carried', () => {
    const s = report.settlement!;
    expect(BigInt(s.gross)).toBeGreaterThan(0n);
    expect(BigInt(s.gross) - BigInt(s.reversals!)).toBe(BigInt(s.net));
    const shares = s.shares!;
    expect(
      BigInt(shares.carrier_fee) +
        BigInt(shares.pg_fee) +
        BigInt(shares.platform_share) +
        BigInt(shares.creator_share),
    ).toBe(BigInt(s.net));
    const earned = s.parties.reduce((a, p) => a + BigInt(p.earned), 0n);
    expect(earned).toBe(BigInt(s.net));
    for (const p of s.parties) expect(BigInt(p.paid) + BigInt(p.carried_forward!)).toBe(BigInt(p.payable));
  });

  it('left in ClickHouse what the report says: the taps and the stored settlement runs', async () => {
    store = await openAnalystStore({
      clickhouse: {
        chdbPath,
        database: String(report.run['clickhouse_database']),
        user: 'default',
        password: '',
        retentionYears: 5,
        queryPort: 0,
      },
    });
    const [taps] = await store.query<{ n: number; gross: string }>('SELECT uniqExact(tap_id) AS n FROM taps');
    expect(Number(taps!.n)).toBe(expectedTaps);
    const [lines] = await store.query<{ gross: string; net: string; periods: number }>(
      `SELECT toString(sum(gross)) AS gross, toString(sum(net)) AS net, uniqExact(period) AS periods
       FROM settlement_lines`,
    );
    expect(lines!.gross).toBe(report.settlement!.gross);
    expect(lines!.net).toBe(report.settlement!.net);
    expect(Number(lines!.periods)).toBe(report.settlement!.months!.length);
  });

  it('writes an HTML report whose charts render in Chromium', () => {
    const dom = renderedDom(html);
    for (const id of ['chart-timeline', 'chart-outcomes', 'chart-rules', 'chart-settlement']) {
      expect(dom).toMatch(new RegExp(`id="${id}"[^>]*data-rendered="true"`));
    }
    expect(chartSection(dom, 'chart-outcomes').match(/class="bar"/g)).toHaveLength(3);
    expect(chartSection(dom, 'chart-rules').match(/class="bar"/g)).toHaveLength(
      Object.keys(report.ruleHits).length,
    );
    expect(chartSection(dom, 'chart-settlement').match(/class="bar"/g)).toHaveLength(
      report.settlement!.parties.length,
    );
    expect(chartSection(dom, 'chart-timeline').match(/class="bar"/g)!.length).toBeGreaterThanOrEqual(
      report.timeline.length,
    );
  });
});

describe('tapline demo with a service down', () => {
  it('names the service and how to start it, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-demo-down-'));
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['pipeline/cli.ts', 'demo', '--minutes', '0.05', '--no-services', '--report', join(dir, 'r.html')],
        {
          cwd: join(import.meta.dirname, '../../..'),
          env: {
            ...process.env,
            CHDB_PATH: join(dir, 'chdb'),
            TAPLINE_QUERY_PORT: '0',
            REDIS_URL: 'redis://127.0.0.1:1',
          },
          timeout: 60_000,
        },
        (error, _out, err) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stderr: err }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot reach Redis at REDIS_URL \(127\.0\.0\.1:1\)/);
    expect(result.stderr).toContain('npm run services -- up redis');
    expect(existsSync(join(dir, 'r.html'))).toBe(false);
  });
});
