import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatDecisionLine,
  formatInputLine,
  maxLineLength,
  parseInputLine,
  readLines,
} from '../../schemas/jsonLines.ts';
import type { InputRecord } from '../../schemas/types.ts';

const now = Date.UTC(2026, 10, 30);
const examples = join(import.meta.dirname, '../fixtures/example/events.jsonl');

async function collect(path: string) {
  const out: { lineNo: number; text: string }[] = [];
  for await (const line of readLines(path)) out.push(line);
  return out;
}

describe('parseInputLine', () => {
  it('reads every line of the worked example', async () => {
    const lines = await collect(examples);
    expect(lines).toHaveLength(15);
    const parsed = lines.map((l) => parseInputLine(l.text, { now }));
    expect(parsed.every((p) => p.ok)).toBe(true);
    const first = parsed[0]!;
    expect(first.ok && first.record).toEqual({
      type: 'tap',
      tap_id: 'ex-01',
      occurred_at: Date.UTC(2026, 10, 9, 11),
      account_id: 'acc-jiho',
      msisdn: '+821098760001',
      carrier: 'KT',
      device_id: 'dev-a1',
      ip: '164.124.101.2',
      platform_id: 'toonville',
      creator_id: 'c-mina',
      item_id: null,
      channel: null,
      amount: 1000,
      currency: 'KRW',
      status: 'APPROVED',
      retry_of: null,
    });
    expect(parsed.filter((p) => p.ok && p.record.type === 'adjustment')).toHaveLength(2);
  });

  it.each<[string, 'DECODE_FAILED' | 'VALIDATION_FAILED', string]>([
    ['{"type":"tap",', 'DECODE_FAILED', 'not valid JSON'],
    ['[1,2]', 'DECODE_FAILED', 'expected a JSON object, got [1,2]'],
    ['"tap"', 'DECODE_FAILED', 'expected a JSON object, got "tap"'],
    ['{"type":"refund"}', 'VALIDATION_FAILED', 'type: must be "tap" or "adjustment", got "refund"'],
    ['{"tap_id":"x"}', 'VALIDATION_FAILED', 'type: must be "tap" or "adjustment", got nothing'],
    [
      '{"type":"adjustment","adjustment_id":"a","tap_id":"t","kind":"REFUND","amount":1,"occurred_at":1762686000000}',
      'VALIDATION_FAILED',
      'occurred_at: must be an ISO-8601 timestamp with a zone',
    ],
    [`{"type":"tap","x":"${'y'.repeat(70_000)}"}`, 'DECODE_FAILED', 'line is longer than 65536 characters'],
  ])('refuses %s', (text, code, reason) => {
    const r = parseInputLine(text, { now });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(code);
    expect(!r.ok && r.reason).toContain(reason);
  });
});

describe('readLines', () => {
  it('skips blank lines but keeps their numbers, and tolerates CRLF and a BOM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-lines-'));
    const path = join(dir, 'in.jsonl');
    writeFileSync(path, '\uFEFF{"a":1}\r\n\r\n   \n{"b":2}\n\n{"c":3}');
    expect(await collect(path)).toEqual([
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 4, text: '{"b":2}' },
      { lineNo: 6, text: '{"c":3}' },
    ]);
  });

  it('cuts a runaway line at the limit and goes on with the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-lines-'));
    const path = join(dir, 'runaway.jsonl');
    writeFileSync(path, `{"a":1}\n${'z'.repeat(3_000_000)}\n{"b":2}\n`);
    const lines = await collect(path);
    expect(lines.map((l) => [l.lineNo, l.text.length])).toEqual([
      [1, 7],
      [2, maxLineLength + 1],
      [3, 7],
    ]);
    expect(parseInputLine(lines[1]!.text)).toMatchObject({ ok: false, code: 'DECODE_FAILED' });
  });

  it('keeps lines that straddle read chunks, multi-byte characters included, and a last line without newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-lines-'));
    const path = join(dir, 'chunks.jsonl');
    const texts = Array.from({ length: 5000 }, (_, i) => `{"i":${i},"s":"${'가'.repeat(i % 97)}"}`);
    writeFileSync(path, texts.join('\n'));
    const lines = await collect(path);
    expect(lines.map((l) => l.text)).toEqual(texts);
    expect(lines.at(-1)!.lineNo).toBe(5000);
  });

  it('streams a large file line by line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapline-lines-'));
    const path = join(dir, 'big.jsonl');
    writeFileSync(path, Array.from({ length: 200_000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n');
    let count = 0;
    let last = '';
    for await (const l of readLines(path)) {
      count += 1;
      last = l.text;
    }
    expect(count).toBe(200_000);
    expect(last).toBe('{"i":199999}');
  });
});

describe('formatDecisionLine', () => {
  it('writes snake_case JSON with a UTC decided_at and flags only when true', () => {
    const base = {
      tap_id: 'ex-08',
      decision: 'REVIEW' as const,
      rules: ['account_burst'],
      reasons: ['6 taps of the account within 60 s (limit 5)'],
      rules_version: 'defaults-1',
      geo_db: 'geolite2-city-2026-06-17',
      decided_at: Date.UTC(2026, 10, 9, 12, 1, 2, 30),
    };
    expect(formatDecisionLine({ ...base, duplicate: false, late: false })).toBe(
      '{"tap_id":"ex-08","decision":"REVIEW","rules":["account_burst"],' +
        '"reasons":["6 taps of the account within 60 s (limit 5)"],"rules_version":"defaults-1",' +
        '"geo_db":"geolite2-city-2026-06-17","decided_at":"2026-11-09T12:01:02.030Z"}',
    );
    expect(JSON.parse(formatDecisionLine({ ...base, duplicate: true, late: true }))).toMatchObject({
      duplicate: true,
      late: true,
    });
  });
});

describe('formatInputLine', () => {
  it('round-trips every record of the worked example through parseInputLine', () => {
    const lines = readFileSync(examples, 'utf8').split('\n').filter(Boolean);
    for (const text of lines) {
      const first = parseInputLine(text, { now });
      if (!first.ok) throw new Error(first.reason);
      const again = parseInputLine(formatInputLine(first.record), { now });
      expect(again).toEqual(first);
    }
  });

  it('writes type first, ISO timestamps, and leaves nulls out', () => {
    const r: InputRecord = {
      type: 'adjustment',
      adjustment_id: 'adj-1',
      occurred_at: Date.UTC(2026, 10, 20, 1, 2, 3, 4),
      tap_id: 'ex-10',
      kind: 'UNPAID',
      amount: 5000,
      reason: null,
    };
    expect(formatInputLine(r)).toBe(
      '{"type":"adjustment","adjustment_id":"adj-1","occurred_at":"2026-11-20T01:02:03.004Z",' +
        '"tap_id":"ex-10","kind":"UNPAID","amount":5000}',
    );
  });
});
