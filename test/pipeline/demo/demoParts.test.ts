// The pure parts of `tapline demo`: per-run names, the simulated period, latency figures, the codec
// wrapper that times taps, and the terminal report.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../pipeline/config.ts';
import { latencySummary, percentile, createDemoObserver } from '../../../pipeline/demo/observer.ts';
import { demoSimulation } from '../../../pipeline/demo/runDemo.ts';
import { demoConfig, demoRunId } from '../../../pipeline/demo/setup.ts';
import { formatTerminalReport, grouped } from '../../../pipeline/demo/terminalReport.ts';
import type { DemoReport } from '../../../pipeline/demo/reportData.ts';
import { humanSeconds } from '../../../pipeline/demo/htmlReport.ts';
import { createCodec } from '../../../schemas/codec.ts';
import { periodOf, seoulDate } from '../../../settlement/period.ts';
import type { Kafka } from 'kafkajs';

const DAY = 86_400_000;

describe('per-run names', () => {
  const base = loadConfig({}).config;
  const id = demoRunId(new Date('2026-11-23T12:05:01Z'), () => 0.5);

  it('makes an id usable as a ClickHouse identifier and a topic prefix', () => {
    expect(id).toMatch(/^demo_20261123_120501_[0-9a-z]{4}$/);
    expect(demoRunId(new Date(), () => 0.1)).not.toBe(demoRunId(new Date(), () => 0.2));
  });

  it('names every topic, group, Redis prefix and database after the run', () => {
    const c = demoConfig(base, id);
    const topics = Object.values(c.kafka.topics);
    expect(new Set(topics).size).toBe(8);
    for (const t of topics) expect(t.startsWith('demo-20261123-120501-')).toBe(true);
    for (const t of Object.values(base.kafka.topics)) expect(topics).not.toContain(t);
    expect(c.kafka.workerGroup).not.toBe(base.kafka.workerGroup);
    expect(c.kafka.sinkGroup).not.toBe(base.kafka.sinkGroup);
    expect(c.redis.keyPrefix).toBe(`${base.redis.keyPrefix}${id}:`);
    expect(c.clickhouse.database).toBe(id);
    expect(c.worker.metricsPort).toBe(0);
    // the base configuration is left as it was
    expect(base.kafka.topics.taps).toBe('taps');
  });
});

describe('demoSimulation', () => {
  it('starts at 00:00 in Seoul about 120 days before now, with rate × minutes taps', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    const s = demoSimulation({ minutes: 1, rate: 300, seed: 5, services: false }, now);
    expect(s.count).toBe(18_000);
    expect(s.seed).toBe(5);
    expect((s.start + 9 * 3_600_000) % DAY).toBe(0);
    expect(now - s.start).toBeGreaterThanOrEqual(120 * DAY);
    expect(now - s.start).toBeLessThan(121 * DAY);
    expect(seoulDate(s.start)).toBe('2026-07-26');
    expect(periodOf(s.start).id).toBe('2026-07');
  });
});

describe('latency figures', () => {
  it('uses nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(latencySummary([30, 10, 20, 1000])).toEqual({ p50: 20, p99: 1000, max: 1000 });
    expect(latencySummary([])).toBeNull();
  });
});

describe('the observer codec', () => {
  it('notes each tap it encodes and leaves the bytes unchanged', () => {
    let t = 1000;
    const inner = createCodec();
    const observer = createDemoObserver({} as Kafka, inner, { decisions: 'd', dlq: 'q' }, 'g', () => t++);
    const tap = {
      tap_id: 'tap-1',
      occurred_at: Date.parse('2026-07-26T01:00:00Z'),
      account_id: 'acc-1',
      msisdn: '+821012345678',
      carrier: 'SKT' as const,
      device_id: 'dev-1',
      ip: '211.234.177.73',
      platform_id: 'toonville',
      amount: 300,
      currency: 'KRW',
      status: 'APPROVED' as const,
    };
    const bytes = observer.codec.encode('tap', tap as never);
    expect(bytes.equals(inner.encode('tap', tap as never))).toBe(true);
    expect(observer.taps).toEqual([{ tap_id: 'tap-1', account_id: 'acc-1', occurred_at: tap.occurred_at }]);
    expect(observer.observed.firstSentAt).toBe(1000);
  });
});

describe('terminal report', () => {
  it('groups digits without floats, also past 2^53', () => {
    expect(grouped('12345678901234567890')).toBe('12,345,678,901,234,567,890');
    expect(grouped(-1190)).toBe('-1,190');
    expect(grouped(999)).toBe('999');
  });

  it('shows throughput, latency, outcomes, quality and settlement', () => {
    const report: DemoReport = {
      title: 'Tapline demo t',
      run: { seed: 1 },
      throughput: { records: 2400, seconds: 12, recordsPerSecond: 200 },
      latencyMs: { p50: 60, p99: 300, max: 450 },
      decisions: { ALLOW: 2380, REVIEW: 12, BLOCK: 8, duplicates: 0, rejected: 0 },
      ruleHits: { device_many_accounts: 15 },
      timeline: [],
      quality: {
        scenarios: [
          {
            scenario: 'device_farm',
            instances: 2,
            detected: 2,
            detectionRate: 1,
            medianTapsToFirstAlert: 3,
            medianSecondsToFirstAlert: 40,
            taps: 17,
            alertedTaps: 13,
            precision: 1,
          },
        ],
        fraudTaps: 17,
        honestTaps: 2383,
        honestUsers: 113,
        honestUsersAlerted: 0,
        honestAlertedTaps: 0,
        honestUserAlertRate: 0,
        precision: 1,
      },
      settlement: {
        period: '2026-07..2026-11',
        currency: 'KRW',
        gross: '2875800',
        reversals: '37050',
        net: '2838750',
        parties: [
          {
            party_type: 'creator',
            earned: '820570',
            payable: '820570',
            paid: '405359',
            carried_forward: '415211',
          },
        ],
      },
    };
    const text = formatTerminalReport(report);
    expect(text).toContain('2,400 taps decided in 12.0 s: 200 taps/s');
    expect(text).toContain('latency p50 60 ms, p99 300 ms, max 450 ms');
    expect(text).toMatch(/ALLOW\s+2,380\s+99\.2%/);
    expect(text).toMatch(/device_farm\s+2\s+2 \(100%\)\s+3\s+40\s+13\/17/);
    expect(text).toMatch(/gross\s+2,875,800/);
    expect(text).toMatch(/creator\s+820,570\s+820,570\s+405,359\s+415,211/);
  });
});

describe('humanSeconds', () => {
  it('reads event-time delays in the unit a person would use', () => {
    expect(humanSeconds(22.487000000000002)).toBe('22 s');
    expect(humanSeconds(331.6)).toBe('5.5 min');
    expect(humanSeconds(19_735)).toBe('5.5 h');
    expect(humanSeconds(275_555)).toBe('3.2 d');
    expect(humanSeconds(null)).toBe('–');
  });
});
