// tapline backtest end to end through the CLI: the worked example, rejects, duplicates, usage errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../../pipeline/cli.ts';
import { createCliContext } from '../../../pipeline/cliContext.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/example');

async function backtest(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(['backtest', ...args], createCliContext({ LOG_LEVEL: 'error' }, stdout, stderr));
  return { code, out, err };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tapline backtest', () => {
  it('decides the worked example exactly as decisions.expected.jsonl', async () => {
    const { code, out, err } = await backtest(['--input', join(fixtures, 'events.jsonl')]);
    expect(code).toBe(0);
    const expected = lines(readFileSync(join(fixtures, 'decisions.expected.jsonl'), 'utf8'));
    const got = lines(out).map((d) => ({ tap_id: d['tap_id'], decision: d['decision'], rules: d['rules'] }));
    expect(got).toEqual(expected);
    for (const d of lines(out)) {
      expect((d['reasons'] as string[]).length).toBe((d['rules'] as string[]).length);
      expect(d['geo_db']).toMatch(/^geolite2-city@\d{4}-\d{2}-\d{2}$/);
      expect(d['rules_version']).toMatch(/^sha256:[0-9a-f]{12}$/);
    }
    expect(err).toContain('records in 15 = decisions 13 + duplicates 0 + adjustments applied 2 + rejects 0');
  });

  it('writes rejects with line numbers, repeats duplicates, balances the counts, exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
    const events = readFileSync(join(fixtures, 'events.jsonl'), 'utf8').trim().split('\n');
    const input = [
      ...events.slice(0, 3),
      '{not json',
      events[0]!, // duplicate of ex-01
      events[1]!.replace('"amount": 500', '"amount": 501'), // conflict with ex-02
      '{"type": "adjustment", "adjustment_id": "x1", "occurred_at": "2026-11-10T00:00:00Z", "tap_id": "missing", "kind": "REFUND", "amount": 1}',
      '{"type": "adjustment", "adjustment_id": "x2", "occurred_at": "2026-11-10T00:00:00Z", "tap_id": "ex-01", "kind": "REFUND", "amount": 1001}',
    ].join('\n');
    writeFileSync(join(dir, 'in.jsonl'), input);
    const { code, out, err } = await backtest([
      '--input',
      join(dir, 'in.jsonl'),
      '--output',
      join(dir, 'out.jsonl'),
      '--rejects',
      join(dir, 'rej.jsonl'),
    ]);
    expect(code).toBe(0);
    expect(out).toBe('');
    const decisions = lines(readFileSync(join(dir, 'out.jsonl'), 'utf8'));
    expect(decisions.map((d) => [d['tap_id'], d['duplicate'] ?? false])).toEqual([
      ['ex-01', false],
      ['ex-02', false],
      ['ex-03', false],
      ['ex-01', true],
    ]);
    const rejects = lines(readFileSync(join(dir, 'rej.jsonl'), 'utf8'));
    expect(rejects.map((r) => [r['line'], r['code']])).toEqual([
      [4, 'DECODE_FAILED'],
      [6, 'DUPLICATE_CONFLICT'],
      [7, 'TAP_UNKNOWN'],
      [8, 'ADJUSTMENT_REJECTED'],
    ]);
    expect(String(rejects[3]!['reason'])).toContain('more than the 1000 still open');
    expect(err).toContain('records in 8 = decisions 3 + duplicates 1 + adjustments applied 0 + rejects 4');
  });

  it('exits 2 without --input and 2 on an invalid rules file', async () => {
    expect((await backtest([])).code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
    writeFileSync(join(dir, 'rules.yaml'), 'rules:\n  account_burst:\n    more_than: -1\n');
    const bad = await backtest([
      '--input',
      join(fixtures, 'events.jsonl'),
      '--rules',
      join(dir, 'rules.yaml'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('rules.account_burst.more_than');
  });

  it('a rules file changes decisions and its version is on every line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
    writeFileSync(
      join(dir, 'rules.json'),
      JSON.stringify({ version: 'strict-1', rules: { account_burst: { more_than: 6 } } }),
    );
    const { out } = await backtest([
      '--input',
      join(fixtures, 'events.jsonl'),
      '--rules',
      join(dir, 'rules.json'),
    ]);
    const ds = lines(out);
    expect(ds.every((d) => d['rules_version'] === 'strict-1')).toBe(true);
    expect(ds.find((d) => d['tap_id'] === 'ex-08')!['decision']).toBe('ALLOW');
    expect(ds.find((d) => d['tap_id'] === 'ex-09')!['decision']).toBe('REVIEW');
  });
});
