// Renders the demo report in headless Chromium and checks that the charts were drawn by the page itself.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../pipeline/demo/htmlReport.ts';
import type { DemoReport } from '../../../pipeline/demo/reportData.ts';
import { chromium, chromiumArgs, ensureChromium } from './chromium.ts';

const report: DemoReport = {
  title: 'Tapline demo <test>',
  run: { seed: 7, rules_version: 'default-1' },
  throughput: { records: 1200, seconds: 4, recordsPerSecond: 300 },
  latencyMs: { p50: 4, p99: 18, max: 40 },
  decisions: { ALLOW: 1000, REVIEW: 150, BLOCK: 50, duplicates: 0, rejected: 3 },
  ruleHits: { account_burst: 120, blocklist: 50, ip_jump: 30 },
  timeline: [
    { bucket: '2026-11-09T12:00', ALLOW: 500, REVIEW: 70, BLOCK: 20 },
    { bucket: '2026-11-09T12:01', ALLOW: 500, REVIEW: 80, BLOCK: 30 },
  ],
  quality: null,
  settlement: {
    period: '2026-11',
    currency: 'KRW',
    gross: '100000',
    net: '90000',
    parties: [
      { party_type: 'carrier', earned: '4500', payable: '4500', paid: '4500' },
      { party_type: 'pg', earned: '2700', payable: '2700', paid: '2700' },
      { party_type: 'platform', earned: '24840', payable: '24840', paid: '24840' },
      { party_type: 'creator', earned: '57960', payable: '57960', paid: '0' },
    ],
  },
};

describe('HTML demo report in headless Chromium', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    ensureChromium();
    dir = mkdtempSync(join(tmpdir(), 'tapline-report-'));
    file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(report));
  }, 300_000);

  it('draws every chart with one bar per value', () => {
    const dom = execFileSync(chromium, [...chromiumArgs(dir), '--dump-dom', `file://${file}`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    for (const id of ['chart-timeline', 'chart-outcomes', 'chart-rules', 'chart-settlement']) {
      expect(dom).toMatch(new RegExp(`id="${id}"[^>]*data-rendered="true"`));
    }
    const section = (id: string) => dom.slice(dom.indexOf(`id="${id}"`)).split('</svg>')[0]!;
    expect(section('chart-outcomes').match(/class="bar"/g)).toHaveLength(3);
    expect(section('chart-rules').match(/class="bar"/g)).toHaveLength(3);
    expect(section('chart-settlement').match(/class="bar"/g)).toHaveLength(4);
    // two buckets × three outcomes, all non-zero
    expect(section('chart-timeline').match(/class="bar"/g)).toHaveLength(6);
    // the title is escaped, not interpreted
    expect(dom).toContain('Tapline demo &lt;test&gt;');
  });

  it('renders to a screenshot a person can look at', () => {
    const png = join(dir, 'report.png');
    execFileSync(
      chromium,
      [...chromiumArgs(dir), '--window-size=800,1400', `--screenshot=${png}`, `file://${file}`],
      {
        timeout: 60_000,
        stdio: 'ignore',
      },
    );
    expect(existsSync(png)).toBe(true);
  });
});
