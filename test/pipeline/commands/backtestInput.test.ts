// The backtest's input thread (pipeline/commands/backtestInput.ts) against reading in this thread, on
// hostile input: the same items in the same order, the file's bytes counted for progress, and the same
// decisions, rejects and summary from a whole backtest.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../pipeline/commands/backtest.ts';
import { readBacktestInput, type InputChunk } from '../../../pipeline/commands/backtestInput.ts';
import { openGeo, type Geo } from '../../../operators/geo.ts';
import { defaultRuleSet } from '../../../operators/rulesFile.ts';
import { hostileJsonLines } from '../../faults/jsonLinesHostile.ts';

const pii = { key: 'backtest-input-test-key-0123456789', version: 3 };
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tapline-backtest-input-'));
  input = join(dir, 'hostile.jsonl');
  const newline = Buffer.from('\n');
  writeFileSync(input, Buffer.concat(hostileJsonLines(6_000, 11).lines.flatMap((l) => [l.bytes, newline])));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function chunks(thread: boolean): Promise<InputChunk[]> {
  const all: InputChunk[] = [];
  for await (const c of readBacktestInput(input, pii, thread)) all.push(c);
  return all;
}

async function backtest(thread: boolean, geo: Geo) {
  const output = new PassThrough();
  const rejects = new PassThrough();
  let out = '';
  let rej = '';
  output.on('data', (c: Buffer) => (out += c.toString()));
  rejects.on('data', (c: Buffer) => (rej += c.toString()));
  const summary = await runBacktest({
    input,
    rules: defaultRuleSet(),
    geo,
    pii,
    output,
    rejects,
    inputThread: thread,
    batchSize: 500,
    clock: () => Date.parse('2026-11-20T00:00:00Z'),
  });
  return { summary, out, rej };
}

describe('the backtest input thread', () => {
  it('gives the items this thread reads, in file order, with the bytes read', async () => {
    const [threaded, here] = await Promise.all([chunks(true), chunks(false)]);
    expect(threaded.length).toBeGreaterThan(4);
    expect(threaded).toEqual(here);
    const items = threaded.flatMap((c) => c.items);
    expect(items).toHaveLength(6_000);
    expect(items.map((i) => i.lineNo)).toEqual(items.map((_, n) => n + 1));
    // Progress counts the UTF-8 of the decoded text: broken encodings count their replacement characters.
    expect(threaded.reduce((n, c) => n + c.bytes, 0)).toBeGreaterThanOrEqual(statSync(input).size);
    const kinds = new Set(items.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(['adjustment', 'reject', 'tap']);
    // Phones cross the thread only as keyed hashes.
    for (const i of items) if (i.kind === 'tap') expect(i.tap.msisdn_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes a whole backtest decide and reject exactly as without it', async () => {
    const geo = await openGeo();
    const threaded = await backtest(true, geo);
    const here = await backtest(false, geo);
    expect(threaded.summary.records).toBe(6_000);
    expect(threaded.summary.rejects).toBeGreaterThan(0);
    expect(threaded.summary.decisions.ALLOW).toBeGreaterThan(0);
    const strip = (text: string) => text.replace(/"decided_at":"[^"]*"/g, '');
    expect(strip(threaded.out)).toBe(strip(here.out));
    expect(threaded.rej).toBe(here.rej);
    expect(threaded.summary).toEqual(here.summary);
  });

  it('ends the thread when the reader stops early, and reports a file it cannot read', async () => {
    for await (const c of readBacktestInput(input, pii)) {
      expect(c.items.length).toBeGreaterThan(0);
      break;
    }
    const missing = readBacktestInput(join(dir, 'missing.jsonl'), pii);
    await expect(
      (async () => {
        for await (const _ of missing) void _;
      })(),
    ).rejects.toThrow(/missing\.jsonl/);
  });
});
