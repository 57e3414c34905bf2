// Fuzz of the CLI's JSON Lines inputs: `tapline backtest --input` and `tapline settle --input` (real
// child processes of the CLI) over a seeded file of hostile lines mixed with valid taps, duplicates
// and refunds. Neither command crashes (exit 0); every line ends decided, applied or in the rejects
// file with a code and a reason, exactly the hostile ones are rejected (by line number), the counts
// prove valid + rejected = lines, no reason echoes a phone number, and the hostile lines change
// nothing: the decisions and the statement equal those of the same file with them left out.
// JSONL_FUZZ_LINES sets the size (default 100,000), JSONL_FUZZ_SEED the seed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzFigures } from './figures.ts';
import { hostileJsonLines, type FuzzFile } from './jsonLinesHostile.ts';

const lineCount = Number(process.env['JSONL_FUZZ_LINES'] ?? 100_000);
const seed = Number(process.env['JSONL_FUZZ_SEED'] ?? 20261123);
const root = resolve(import.meta.dirname, '../..');
const contracts = join(root, 'test/fixtures/example/contracts.json');
const knownCodes = new Set(['DECODE_FAILED', 'VALIDATION_FAILED', 'DUPLICATE_CONFLICT', 'TAP_UNKNOWN']);

let dir = '';
let fuzz: FuzzFile;
let hostileFile = '';
let cleanFile = '';
const hostileLineNos = new Set<number>();

function tapline(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'pipeline/cli.ts'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TAPLINE_ENV: 'test', LOG_LEVEL: 'warn' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stderr: `${r.stderr}${r.error ? String(r.error) : ''}` };
}

const readJsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A phone number in every form it could leak in: E.164, national with and without dashes. */
function phoneForms(msisdn: string): string[] {
  const forms = [msisdn];
  const m = /^\+82(\d{2})(\d{3,4})(\d{4})$/.exec(msisdn);
  if (m) forms.push(`0${m[1]}-${m[2]}-${m[3]}`, `0${m[1]}${m[2]}${m[3]}`);
  return forms.filter((f) => f.length >= 8);
}

function expectNoPhones(texts: string[]): void {
  const forms = new Set(fuzz.msisdns.flatMap(phoneForms));
  // Every run of digits (with + and -) in the reasons, looked up among the numbers that went in.
  const leaked = texts
    .flatMap((t) => t.match(/\+?[\d-]{8,}/g) ?? [])
    .filter((token) => {
      for (let from = 0; from < token.length; from++)
        for (let to = token.length; to - from >= 8; to--) if (forms.has(token.slice(from, to))) return true;
      return false;
    });
  expect(leaked, 'phone numbers echoed in reasons').toEqual([]);
}

function expectRejects(rejects: Record<string, unknown>[]): Record<string, number> {
  const byCode: Record<string, number> = {};
  const unexplained: unknown[] = [];
  for (const r of rejects) {
    if (!knownCodes.has(String(r['code'])) || typeof r['reason'] !== 'string' || r['reason'].length === 0)
      unexplained.push(r);
    byCode[String(r['code'])] = (byCode[String(r['code'])] ?? 0) + 1;
  }
  expect(unexplained, 'rejects without a known code and a reason').toEqual([]);
  const lines = rejects.map((r) => Number(r['line']));
  expect(new Set(lines).size, 'a line rejected twice').toBe(lines.length);
  const got = new Set(lines);
  const describeLine = (n: number) =>
    `${n} ${fuzz.lines[n - 1]?.kind}: ${fuzz.lines[n - 1]?.bytes.toString().slice(0, 160)}`;
  expect(
    [...hostileLineNos].filter((n) => !got.has(n)).map(describeLine),
    'hostile lines not rejected',
  ).toEqual([]);
  expect(lines.filter((n) => !hostileLineNos.has(n)).map(describeLine), 'valid lines rejected').toEqual([]);
  expectNoPhones(rejects.map((r) => String(r['reason'])));
  return byCode;
}

beforeAll(() => {
  fuzz = hostileJsonLines(lineCount, seed);
  dir = mkdtempSync(join(tmpdir(), 'tapline-jsonl-fuzz-'));
  hostileFile = join(dir, 'hostile.jsonl');
  cleanFile = join(dir, 'clean.jsonl');
  const newline = Buffer.from('\n');
  writeFileSync(hostileFile, Buffer.concat(fuzz.lines.flatMap((l) => [l.bytes, newline])));
  writeFileSync(
    cleanFile,
    Buffer.concat(fuzz.lines.filter((l) => l.class !== 'rejected').flatMap((l) => [l.bytes, newline])),
  );
  fuzz.lines.forEach((l, i) => {
    if (l.class === 'rejected') hostileLineNos.add(i + 1);
  });
});

afterAll(() => {
  fuzzFigures.print();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`fuzz: ${lineCount} JSON Lines through the CLI`, () => {
  it('the generator mixes enough of every kind (and is deterministic)', () => {
    const kinds = new Map<string, number>();
    for (const l of fuzz.lines) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
    for (const k of [
      'valid-tap',
      'producer-duplicate',
      'refund',
      'random-bytes',
      'truncated-json',
      'wrong-types',
      'oversize',
      'control-chars',
      'sql-text-in-enum',
      'huge-number',
      'raw-number-text',
      'unknown-field',
      'invalid-phone',
      'money-as-float',
      'conflicting-tap',
      'bad-adjustment',
      'broken-encoding',
    ])
      expect(kinds.get(k) ?? 0, k).toBeGreaterThan(lineCount / 500);
    expect(fuzz.lines.length).toBe(lineCount);
    expect(fuzz.lines.some((l) => l.bytes.includes(0x0a))).toBe(false);
    // Seeded: the same seed gives the same bytes (a failure can be replayed with JSONL_FUZZ_SEED).
    const digest = (f: FuzzFile) =>
      createHash('sha256')
        .update(Buffer.concat(f.lines.map((l) => l.bytes)))
        .digest('hex');
    expect(digest(hostileJsonLines(lineCount, seed))).toBe(digest(fuzz));
  });

  it('backtest: every tap decided in order, every hostile line rejected with a reason, nothing else', () => {
    const out = join(dir, 'decisions.jsonl');
    const rej = join(dir, 'backtest-rejects.jsonl');
    const started = Date.now();
    const run = tapline(['backtest', '--input', hostileFile, '--output', out, '--rejects', rej]);
    const seconds = (Date.now() - started) / 1000;
    expect(run.status, run.stderr).toBe(0);

    const decisions = readJsonLines(out);
    const tapLines = fuzz.lines.filter((l) => l.class === 'tap' || l.class === 'duplicate');
    expect(decisions.map((d) => d['tap_id'])).toEqual(tapLines.map((l) => l.tapId));
    expect(decisions.map((d) => d['duplicate'] === true)).toEqual(
      tapLines.map((l) => l.class === 'duplicate'),
    );
    const byCode = expectRejects(readJsonLines(rej));

    const counts = {
      taps: fuzz.lines.filter((l) => l.class === 'tap').length,
      duplicates: fuzz.lines.filter((l) => l.class === 'duplicate').length,
      refunds: fuzz.lines.filter((l) => l.class === 'refund').length,
      rejected: hostileLineNos.size,
    };
    // The command's own accounting line says the same.
    expect(run.stderr).toContain(
      `records in ${lineCount} = decisions ${counts.taps} + duplicates ${counts.duplicates} + ` +
        `adjustments applied ${counts.refunds} + rejects ${counts.rejected}`,
    );
    expect(counts.taps + counts.duplicates + counts.refunds + counts.rejected).toBe(lineCount);

    // The hostile lines changed no decision: the same file without them decides identically.
    const cleanOut = join(dir, 'clean-decisions.jsonl');
    const clean = tapline(['backtest', '--input', cleanFile, '--output', cleanOut]);
    expect(clean.status, clean.stderr).toBe(0);
    const strip = (ds: Record<string, unknown>[]) => ds.map(({ decided_at: _d, ...rest }) => rest);
    expect(strip(readJsonLines(cleanOut))).toEqual(strip(decisions));

    fuzzFigures.add('JSON Lines: tapline backtest', {
      lines: lineCount,
      decided: counts.taps,
      duplicates: counts.duplicates,
      applied: counts.refunds,
      rejected: counts.rejected,
      lost: lineCount - decisions.length - counts.refunds - counts.rejected,
      seconds,
      byCode,
    });
  }, 240_000);

  it('settle: every hostile line rejected with a reason, the statement as without them', () => {
    const statement = join(dir, 'statement.json');
    const rej = join(dir, 'settle-rejects.jsonl');
    const args = ['settle', '--period', '2026-03', '--contracts', contracts];
    const started = Date.now();
    const run = tapline([...args, '--input', hostileFile, '--output', statement, '--rejects', rej]);
    const seconds = (Date.now() - started) / 1000;
    expect(run.status, run.stderr).toBe(0);
    const byCode = expectRejects(readJsonLines(rej));

    const n = (label: string) => {
      const m = new RegExp(`^${label}\\s+(\\d+)`, 'm').exec(run.stderr);
      expect(m, `${label} in the summary:\n${run.stderr}`).not.toBeNull();
      return Number(m![1]);
    };
    const refunds = fuzz.lines.filter((l) => l.class === 'refund').length;
    const taps = fuzz.lines.filter((l) => l.class === 'tap').length;
    const duplicates = fuzz.lines.filter((l) => l.class === 'duplicate').length;
    const m = /adjustments applied\s+(\d+) \(earlier months: (\d+), later: (\d+) left\)/.exec(run.stderr);
    expect(m, run.stderr).not.toBeNull();
    const [applied, earlier, later] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(n('records read')).toBe(lineCount);
    expect(n('taps')).toBe(taps);
    expect(n('duplicates ignored')).toBe(duplicates);
    expect(n('rejects')).toBe(hostileLineNos.size);
    expect(applied + earlier + later).toBe(refunds);
    expect(taps + duplicates + applied + earlier + later + hostileLineNos.size).toBe(lineCount);

    // The hostile lines moved no won: the statement equals the clean file's, bar the input's name.
    const cleanStatement = join(dir, 'clean-statement.json');
    const clean = tapline([...args, '--input', cleanFile, '--output', cleanStatement]);
    expect(clean.status, clean.stderr).toBe(0);
    const load = (p: string) => {
      const { generated_from: _g, ...rest } = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
      return rest;
    };
    const hostileStatement = load(statement);
    expect((hostileStatement['lines'] as unknown[]).length).toBeGreaterThan(0);
    expect(hostileStatement).toEqual(load(cleanStatement));

    fuzzFigures.add('JSON Lines: tapline settle', {
      lines: lineCount,
      taps,
      duplicates,
      applied: applied + earlier + later,
      rejected: hostileLineNos.size,
      lost: lineCount - taps - duplicates - applied - earlier - later - hostileLineNos.size,
      seconds,
      byCode,
    });
  }, 240_000);
});
