// The harness's statistics and reporting: what `npm run bench` prints and writes must be right even
// though no benchmark asserts a speed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { median, percentile, summarize } from '../../bench/harness.ts';
import {
  beginMarker,
  endMarker,
  formatValue,
  markdownBlock,
  upsertBlock,
  type RunInfo,
} from '../../bench/report.ts';
import { parseBenchArgs } from '../../bench/run.ts';

describe('median and percentile', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('uses nearest rank: p99 of 1..100 is 99, p50 of 1..10 is 5, p100 is the max', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 99)).toBe(99);
    expect(
      percentile(
        Array.from({ length: 10 }, (_, i) => i + 1),
        50,
      ),
    ).toBe(5);
    expect(percentile([7, 3, 9], 100)).toBe(9);
    expect(() => percentile([1], 0)).toThrow(RangeError);
  });

  it('always returns an observed value with at least p% of the sample at or below it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (xs, p) => {
          const v = percentile(xs, p);
          expect(xs).toContain(v);
          expect(xs.filter((x) => x <= v).length).toBeGreaterThanOrEqual(Math.ceil((p / 100) * xs.length));
        },
      ),
    );
  });
});

describe('summarize', () => {
  it('gives median and min–max per metric across runs, keeping units and targets', () => {
    const s = summarize([
      [
        { metric: 'a', unit: 'msg/s', value: 10, target: '≥ 5' },
        { metric: 'b', unit: 'ms', value: 3 },
      ],
      [{ metric: 'a', unit: 'msg/s', value: 30 }],
      [
        { metric: 'a', unit: 'msg/s', value: 20 },
        { metric: 'b', unit: 'ms', value: 1 },
      ],
    ]);
    expect(s).toEqual([
      { metric: 'a', unit: 'msg/s', median: 20, min: 10, max: 30, runs: 3, target: '≥ 5' },
      { metric: 'b', unit: 'ms', median: 2, min: 1, max: 3, runs: 2 },
    ]);
  });
});

describe('report', () => {
  it('formats large figures with separators and small ones with decimals', () => {
    expect(formatValue(177_012.4)).toBe('177,012');
    expect(formatValue(42.26)).toBe('42.3');
    expect(formatValue(3.14159)).toBe('3.14');
  });

  it('replaces only the block of the benchmark that ran, leaving other sections untouched', () => {
    const doc = [
      '# Benchmarks',
      '## Decode (written by hand)',
      'prose that must stay',
      beginMarker('baseline'),
      'old figures',
      endMarker('baseline'),
      'after the block',
      '',
    ].join('\n');
    const out = upsertBlock(doc, 'baseline', 'Baseline', 'new figures');
    expect(out).toContain('prose that must stay');
    expect(out).toContain('after the block');
    expect(out).toContain(`${beginMarker('baseline')}\nnew figures\n${endMarker('baseline')}`);
    expect(out).not.toContain('old figures');
    expect(upsertBlock(out, 'baseline', 'Baseline', 'new figures')).toBe(out);
  });

  it('appends a block without markers under its own heading at the end', () => {
    const out = upsertBlock('# Benchmarks\n\n## Mine\ntext\n', 'sink', 'Sink', 'rows');
    expect(out.startsWith('# Benchmarks\n\n## Mine\ntext\n')).toBe(true);
    expect(out.endsWith(`## Results: Sink\n\n${beginMarker('sink')}\nrows\n${endMarker('sink')}\n`)).toBe(
      true,
    );
  });

  it('records the machine, versions, command and date, and a skip reason', () => {
    const info: RunInfo = {
      startedAt: '2026-11-23T11:30:00.000Z',
      command: 'npm run bench -- --only latency',
      runs: 3,
      machine: {
        cpus: 2,
        cpuModel: 'Xeon',
        memoryGiB: 23.5,
        os: 'linux',
        loadAverage: [2, 1, 0.5],
        versions: { node: 'v24.21.0', kafka: '3.9.1' },
      },
    };
    const md = markdownBlock(
      { name: 'latency', title: 'Latency', status: 'skipped', reason: 'worker not implemented yet' },
      info,
    );
    expect(md).toContain('`npm run bench -- --only latency` on 2026-11-23 11:30 UTC');
    expect(md).toContain('2 × Xeon, 23.5 GiB RAM');
    expect(md).toContain('load average at start 2.00, 1.00, 0.50');
    expect(md).toContain('node v24.21.0, kafka 3.9.1');
    expect(md).toContain('**Skipped:** worker not implemented yet');
  });
});

describe('command line', () => {
  it('parses --only, --runs and repeated --set', () => {
    const a = parseBenchArgs([
      '--only',
      'baseline, latency',
      '--runs',
      '5',
      '--set',
      'taps=1000',
      '--set',
      'rates=1000,5000',
    ]);
    expect(a.only).toEqual(['baseline', 'latency']);
    expect(a.runs).toBe(5);
    expect(a.options.get('taps')).toBe('1000');
    expect(a.options.get('rates')).toBe('1000,5000');
    expect(a.write).toBe(true);
  });

  it('defaults to 3 runs and rejects bad values', () => {
    expect(parseBenchArgs([]).runs).toBe(3);
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/--runs/);
    expect(() => parseBenchArgs(['--set', 'novalue'])).toThrow(/name=value/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow();
  });
});
