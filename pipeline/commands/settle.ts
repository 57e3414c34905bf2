/**
 * `tapline settle`: a period's statement, offline from a JSON Lines history (--input) or from the
 * ClickHouse store (stored back into settlement_lines and payouts). Writes the statement JSON, optional
 * rejects and finance CSVs, and a summary on stderr; a progress bar when stderr is a terminal.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';
import {
  assertPeriodOpen,
  settleFromStore,
  settlementSteps,
  storedOpening,
  writeRun,
} from '../../settlement/clickhouseSource.ts';
import { loadContracts, type Contracts } from '../../settlement/contracts.ts';
import { describeFile, fileItems, inputSize } from '../../settlement/fileSource.ts';
import { settleRecords, type SettlementRun } from '../../settlement/offline.ts';
import { parsePeriod, type SettlementPeriod } from '../../settlement/period.ts';
import type { OpeningBalance } from '../../settlement/statement.ts';
import { parseOpening, payoutCsvFiles, statementToJson } from '../../settlement/statementFormat.ts';
import { formatSummary } from '../../settlement/summary.ts';
import { currentSchemaVersion } from '../../sinks/clickhouse/migrate.ts';
import { settledAdjustments } from '../../sinks/clickhouse/migrations/004_settled_adjustments.ts';
import { openAnalystStore, type AnalystStore } from '../../sinks/clickhouse/store.ts';

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
  if (o.close && o.input) {
    throw new TaplineError(
      'USAGE',
      '--close applies to periods stored in ClickHouse; an offline statement is a file. Drop --close.',
    );
  }
  const contracts = await loadContracts(o.contracts);
  const openingFile = o.opening ? await readOpening(o.opening, period) : undefined;
  const result = o.input
    ? await settleFile(o.input, { period, contracts, opening: openingFile ?? [] }, ctx)
    : await settleStore({ period, contracts, openingFile, close: o.close === true }, ctx);
  await writeOutputs(result, o, ctx);
  return 0;
}

async function readOpening(path: string, period: SettlementPeriod): Promise<OpeningBalance[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TaplineError('USAGE', `cannot read --opening ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseOpening(text, period, path);
}

/** A progress bar on stderr when it is a terminal; none on a pipe or a file. */
function terminalBar(ctx: CliContext, format: string): cliProgress.SingleBar | undefined {
  const stderr = ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (!stderr.isTTY) return undefined;
  return new cliProgress.SingleBar(
    { stream: stderr, format, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}

async function settleFile(
  input: string,
  args: { period: SettlementPeriod; contracts: Contracts; opening: OpeningBalance[] },
  ctx: CliContext,
): Promise<SettlementRun> {
  const size = await inputSize(input);
  const bar = terminalBar(ctx, 'settle {bar} {percentage}% | {value}/{total} bytes');
  bar?.start(size, 0);
  let done = 0;
  try {
    const generatedFrom = await describeFile(input);
    const items = fileItems(input, (n) => {
      done += n;
      // Redraw every 64 KiB or so: a redraw per line would cost more than the settlement.
      if (bar && done % 65_536 < n) bar.update(Math.min(done, size));
    });
    return await settleRecords(items, { ...args, generatedFrom });
  } finally {
    bar?.update(size);
    bar?.stop();
  }
}

/** Settlement reads and writes tables of migration 4 (settled_adjustments): an older store says how to upgrade. */
async function assertSchemaForSettlement(store: AnalystStore): Promise<void> {
  const needed = settledAdjustments.version;
  const version = await currentSchemaVersion(store).catch(() => 0);
  if (version < needed) {
    throw new TaplineError(
      'CONFIG_INVALID',
      `the ClickHouse database ${store.database} at ${store.location} has schema version ${version}; ` +
        `settlement needs ${needed} or later. Run \`tapline migrate\` (tapline sink also migrates when it starts).`,
    );
  }
}

/** From ClickHouse: the previous run's balances unless --opening names a statement; stores the run. */
async function settleStore(
  args: { period: SettlementPeriod; contracts: Contracts; openingFile?: OpeningBalance[]; close: boolean },
  ctx: CliContext,
): Promise<SettlementRun> {
  const store = await openAnalystStore(ctx.config());
  // On a terminal, one bar step per phase: the work happens inside ClickHouse, where rows are not countable.
  const steps = [...Object.values(settlementSteps), 'storing the run'];
  const bar = terminalBar(ctx, 'settle {bar} {value}/{total} {step}');
  const step = (name: string) => bar?.update(steps.indexOf(name), { step: name });
  bar?.start(steps.length, 0, { step: steps[0] });
  try {
    await assertSchemaForSettlement(store);
    await assertPeriodOpen(store, args.period);
    const opening = args.openingFile ?? (await storedOpening(store, args.period));
    const result = await settleFromStore(store, {
      period: args.period,
      contracts: args.contracts,
      opening,
      onStep: (s) => step(settlementSteps[s]),
    });
    step('storing the run');
    const runId = await writeRun(store, result, args.period, args.close);
    bar?.update(steps.length, { step: 'done' });
    bar?.stop();
    ctx.stderr.write(
      `stored run ${runId} of ${args.period.id} in ${store.location}` +
        `${args.close ? ' (closed: immutable from now on)' : ''}\n`,
    );
    return result;
  } finally {
    bar?.stop();
    await store.close();
  }
}

async function writeOutputs(result: SettlementRun, o: SettleOptions, ctx: CliContext): Promise<void> {
  const json = statementToJson(result.statement);
  if (o.output) await writeAtomically(o.output, json);
  else ctx.stdout.write(json);
  if (o.rejects) {
    await writeAtomically(o.rejects, result.rejects.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  if (o.csvDir) {
    await mkdir(o.csvDir, { recursive: true });
    for (const f of payoutCsvFiles(result.statement)) await writeAtomically(join(o.csvDir, f.name), f.text);
  }
  ctx.stderr.write(formatSummary(result));
  if (result.rejects.length > 0 && !o.rejects) {
    ctx.stderr.write(
      `${result.rejects.length} rejected line(s): rerun with --rejects FILE to see them with reasons.\n`,
    );
  }
}

/** Write then rename, so a reader never sees half a statement. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
