import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/cli.ts';
import { createCliContext } from '../../pipeline/cliContext.ts';
import { parseSimulateOptions } from '../../pipeline/commands/simulate.ts';

async function tapline(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(
    argv,
    createCliContext({ TAPLINE_ENV: 'test', LOG_LEVEL: 'silent' }, stdout, stderr),
  );
  return { code, err };
}

describe('tapline simulate', () => {
  it('writes --count taps and their labels to files and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-simcli-'));
    const out = join(dir, 'taps.jsonl');
    const labels = join(dir, 'labels.jsonl');
    const r = await tapline(
      'simulate',
      '--output',
      out,
      '--labels',
      labels,
      '--count',
      '2000',
      '--fraud',
      '0.05',
      '--seed',
      '9',
      '--days',
      '2',
      '--start',
      '2026-01-05T00:00:00+09:00',
    );
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{"type":"tap"'))).toHaveLength(2000);
    expect(lines[0]).toContain('"occurred_at":"2026-01-04T15:');
    expect(readFileSync(labels, 'utf8').trim().split('\n')).toHaveLength(100);
    expect(r.err).toMatch(/wrote 2000 taps \(100 in fraud scenarios\)/);
  });

  it('refuses bad options with exit status 2 and names the option', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tapline-simcli-')), 'x.jsonl');
    for (const [args, message] of [
      [['--count', 'ten'], /--count must be an integer/],
      [['--fraud', '1.5'], /--fraud must be a share between 0 and 1/],
      [['--start', '2026-11-01T00:00:00'], /--start: has no zone/],
      [['--count', '100000', '--users', '5', '--days', '1'], /Raise --users or --days/],
    ] as const) {
      const r = await tapline('simulate', '--output', out, ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it('turns --duration and --rate into a tap count for Kafka', () => {
    expect(parseSimulateOptions({ duration: '120', rate: '200' }).simulation.count).toBe(24_000);
    expect(parseSimulateOptions({ duration: '10' }).simulation.count).toBe(10_000);
    expect(parseSimulateOptions({ count: '50', duration: '10' }).simulation.count).toBe(50);
  });
});
