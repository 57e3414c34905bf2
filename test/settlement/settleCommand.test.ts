/** `tapline settle` offline, end to end through the CLI: files in, statement, rejects and CSVs out. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { main } from '../../pipeline/cli.ts';
import { createCliContext } from '../../pipeline/cliContext.ts';

const example = new URL('../fixtures/example/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tapline-settle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tapline(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await main(argv, createCliContext({}, out, err));
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const contracts = join(example, 'contracts.json');
const events = join(example, 'events.jsonl');

describe('tapline settle --input', () => {
  it('settles the worked example to the expected statement, the same bytes on every run', async () => {
    const out = join(dir, 'nov.json');
    const first = await tapline(
      'settle',
      '--period',
      '2026-11',
      '--input',
      events,
      '--contracts',
      contracts,
      '--output',
      out,
    );
    expect(first.code).toBe(0);
    const bytes = readFileSync(out, 'utf8');
    const expected = JSON.parse(readFileSync(join(example, 'statement.expected.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const got = JSON.parse(bytes) as Record<string, unknown>;
    // The file's SHA-256 is the one the expected statement names.
    expect(got['generated_from']).toBe(expected['generated_from']);
    expect(got).toEqual(expected);
    expect(first.stderr).toMatch(/KRW net\s+8,100/);
    expect(first.stderr).toMatch(/rejects\s+0/);

    const second = await tapline(
      'settle',
      '--period',
      '2026-11',
      '--input',
      events,
      '--contracts',
      contracts,
    );
    expect(second.stdout).toBe(bytes);
  });

  it('draws a progress bar on a terminal, none otherwise, and ends with the summary table', async () => {
    const run = async (tty: boolean) => {
      const err = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
      const chunks: Buffer[] = [];
      err.on('data', (c: Buffer) => chunks.push(c));
      const out = new PassThrough();
      out.resume();
      const argv = ['settle', '--period', '2026-11', '--input', events, '--contracts', contracts];
      const code = await main(argv, createCliContext({}, out, err));
      return { code, stderr: Buffer.concat(chunks).toString() };
    };
    const terminal = await run(true);
    expect(terminal.code).toBe(0);
    const size = readFileSync(events).length;
    expect(terminal.stderr).toMatch(new RegExp(`settle .*100% \\| ${size}/${size} bytes`));
    const piped = await run(false);
    expect(piped.stderr).not.toMatch(/bytes/);
    // The summary: lines, gross, net, fees, payouts, carried forward, rejects (statement.expected.json's
    // totals; 3,648 carried is c-joon's 1,256 and c-mina's 2,392, under the ₩10,000 minimum).
    for (const row of [
      /^lines\s+3$/m,
      /^KRW gross\s+9,100$/m,
      /^KRW net\s+8,100$/m,
      /^KRW carrier fees\s+405$/m,
      /^KRW PG fees\s+243$/m,
      /^KRW paid out \(all parties\)\s+2,452$/m,
      /^KRW carried forward\s+3,648$/m,
      /^rejects\s+0$/m,
    ]) {
      expect(piped.stderr).toMatch(row);
    }
  });

  it('gives the same lines and payouts whatever the order of the input lines', async () => {
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    const shuffled = file('shuffled.jsonl', `${[...lines].reverse().join('\n')}\n`);
    const a = await tapline('settle', '--period', '2026-11', '--input', events, '--contracts', contracts);
    const b = await tapline('settle', '--period', '2026-11', '--input', shuffled, '--contracts', contracts);
    const strip = (s: string) => ({ ...(JSON.parse(s) as object), generated_from: null });
    expect(strip(b.stdout)).toEqual(strip(a.stdout));
  });

  it('carries balances from an opening statement and releases an earlier hold', async () => {
    const history = [
      '{"type":"tap","tap_id":"t1","occurred_at":"2026-10-10T12:00:00+09:00","account_id":"a","msisdn":"010-1234-5678","carrier":"KT","device_id":"d","ip":"10.0.0.1","platform_id":"p","creator_id":"c","amount":20000,"currency":"KRW","status":"APPROVED"}',
      '{"type":"adjustment","adjustment_id":"u1","occurred_at":"2026-10-25T12:00:00+09:00","tap_id":"t1","kind":"UNPAID","amount":5000}',
    ];
    const oct = file('oct.jsonl', `${history.join('\n')}\n`);
    const octOut = join(dir, 'oct.json');
    expect(
      (
        await tapline(
          'settle',
          '--period',
          '2026-10',
          '--input',
          oct,
          '--contracts',
          contracts,
          '--output',
          octOut,
        )
      ).code,
    ).toBe(0);
    const octStatement = JSON.parse(readFileSync(octOut, 'utf8')) as {
      payouts: Array<Record<string, unknown>>;
    };
    expect(octStatement.payouts.find((p) => p['party_type'] === 'creator')).toMatchObject({
      earned: 12880,
      held: 3220,
      carried_forward: 9660,
    });

    const nov = file(
      'nov.jsonl',
      `${[...history, '{"type":"adjustment","adjustment_id":"c1","occurred_at":"2026-11-15T12:00:00+09:00","tap_id":"t1","kind":"COLLECTED","amount":5000}'].join('\n')}\n`,
    );
    const csvDir = join(dir, 'csv');
    const r = await tapline(
      'settle',
      '--period',
      '2026-11',
      '--input',
      nov,
      '--contracts',
      contracts,
      '--opening',
      octOut,
      '--csv-dir',
      csvDir,
    );
    expect(r.code).toBe(0);
    const novStatement = JSON.parse(r.stdout) as { payouts: Array<Record<string, unknown>> };
    expect(novStatement.payouts.find((p) => p['party_type'] === 'creator')).toMatchObject({
      carried_in: 9660,
      released: 3220,
      payable: 12880,
      paid: 12880,
      carried_forward: 0,
    });
    expect(readFileSync(join(csvDir, 'payouts-2026-11-creator.csv'), 'utf8')).toBe(
      'period,party_type,party_id,currency,carried_in,earned,held,released,payable,paid,carried_forward\r\n' +
        '2026-11,creator,c,KRW,9660,0,0,3220,12880,12880,0\r\n',
    );

    // An opening of the wrong month would skip or repeat balances.
    const wrong = await tapline(
      'settle',
      '--period',
      '2026-12',
      '--input',
      nov,
      '--contracts',
      contracts,
      '--opening',
      octOut,
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/statement of 2026-10; settling 2026-12 needs the one of 2026-11/);
  });

  it('writes rejected lines with line numbers and reasons, and still succeeds', async () => {
    const input = file(
      'bad.jsonl',
      [
        readFileSync(events, 'utf8').trim().split('\n')[0],
        'not json',
        '{"type":"adjustment","adjustment_id":"r9","occurred_at":"2026-11-20T00:00:00Z","tap_id":"ex-01","kind":"REFUND","amount":1001}',
        '{"type":"adjustment","adjustment_id":"r10","occurred_at":"2026-11-20T00:00:00Z","tap_id":"nope","kind":"REFUND","amount":1}',
      ].join('\n'),
    );
    const rejects = join(dir, 'rejects.jsonl');
    const r = await tapline(
      'settle',
      '--period',
      '2026-11',
      '--input',
      input,
      '--contracts',
      contracts,
      '--rejects',
      rejects,
    );
    expect(r.code).toBe(0);
    const rows = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => [x['line'], x['code']])).toEqual([
      [2, 'DECODE_FAILED'],
      [3, 'ADJUSTMENT_REJECTED'],
      [4, 'TAP_UNKNOWN'],
    ]);
    expect(r.stderr).toMatch(/rejects\s+3/);
  });

  it('exits 2 with a message saying what to do on bad usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['settle', '--input', events, '--contracts', contracts], /needs --period YYYY-MM/],
      [
        ['settle', '--period', '2026-13', '--input', events, '--contracts', contracts],
        /--period must be a month/,
      ],
      [['settle', '--period', '2026-11', '--input', events], /needs --contracts FILE/],
      [
        ['settle', '--period', '2026-11', '--input', join(dir, 'missing.jsonl'), '--contracts', contracts],
        /cannot read --input/,
      ],
      [
        [
          'settle',
          '--period',
          '2026-11',
          '--input',
          events,
          '--contracts',
          file(
            'c.json',
            '{"terms":[{"effective_from":"2026-01-01","carrier_fee":{"SKT":0.05},"pg_fee":"0.03","platform_share":{"default":"0.3"}}]}',
          ),
        ],
        /terms\[0\]\.carrier_fee\.SKT/,
      ],
      [
        ['settle', '--period', '2026-11', '--input', events, '--contracts', contracts, '--close'],
        /Drop --close/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await tapline(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
