/**
 * `tapline settle`: a period's statement, offline from a JSON Lines history (--input) or from the
 * ClickHouse store. Writes the statement JSON, optional rejects and finance CSVs, and a summary on
 * stderr; a progress bar when stderr is a terminal.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';
import { loadContracts } from '../../settlement/contracts.ts';
import { describeFile, fileItems, inputSize } from '../../settlement/fileSource.ts';
import { settleRecords, type SettlementRun } from '../../settlement/offline.ts';
import { parsePeriod } from '../../settlement/period.ts';
import { parseOpening, payoutCsvFiles, statementToJson } from '../../settlement/statementFormat.ts';
import { formatSummary } from '../../settlement/summary.ts';
import type { OpeningBalance } from '../../settlement/statement.ts';

interface SettleOptions {
  period?: string;
  input?: string;
  contracts?: string;
  opening?: string;
  output?: string;
  csvDir?: string;
  rejects?: string;
  close?: boolean;
}

export async function run(
  options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const o = options as SettleOptions;
  if (!o.period) {
    throw new TaplineError(
      'USAGE',
      'settle needs --period YYYY-MM (a calendar month in Asia/Seoul), e.g. --period 2026-11.',
    );
  }
  const period = parsePeriod(o.period);
  if (!o.contracts) {
    throw new TaplineError(
      'USAGE',
      'settle needs --contracts FILE: the contracts file (JSON) with the terms to apply.',
    );
  }
  if (!o.input) {
    throw new TaplineError(
      'NOT_IMPLEMENTED',
      'settling from ClickHouse is not available yet; settle offline with --input FILE (a JSON Lines history of taps and adjustments).',
    );
  }
  if (o.close) {
    throw new TaplineError(
      'USAGE',
      '--close applies to periods stored in ClickHouse; an offline statement is a file. Drop --close.',
    );
  }
  const size = await inputSize(o.input);
  const contracts = await loadContracts(o.contracts);
  let opening: OpeningBalance[] = [];
  if (o.opening) {
    let text: string;
    try {
      text = await readFile(o.opening, 'utf8');
    } catch (e) {
      throw new TaplineError('USAGE', `cannot read --opening ${o.opening}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    opening = parseOpening(text, period, o.opening);
  }

  const stderr = ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  const bar = stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: stderr, format: 'settle {bar} {percentage}% | {value}/{total} bytes', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0);
  let done = 0;
  let run: SettlementRun;
  try {
    const [generatedFrom, items] = [
      await describeFile(o.input),
      fileItems(o.input, (n) => {
        done += n;
        if (bar && done % 65_536 < n) bar.update(Math.min(done, size));
      }),
    ];
    run = await settleRecords(items, { period, contracts, opening, generatedFrom });
  } finally {
    bar?.update(size);
    bar?.stop();
  }

  const json = statementToJson(run.statement);
  if (o.output) await writeAtomically(o.output, json);
  else ctx.stdout.write(json);
  if (o.rejects) {
    await writeAtomically(o.rejects, run.rejects.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  if (o.csvDir) {
    await mkdir(o.csvDir, { recursive: true });
    for (const f of payoutCsvFiles(run.statement)) await writeAtomically(join(o.csvDir, f.name), f.text);
  }
  ctx.stderr.write(formatSummary(run));
  if (run.rejects.length > 0 && !o.rejects) {
    ctx.stderr.write(
      `${run.rejects.length} rejected line(s): rerun with --rejects FILE to see them with reasons.\n`,
    );
  }
  return 0;
}

/** Write then rename, so a reader never sees half a statement. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
