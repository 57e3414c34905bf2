/**
 * `npm run bench [-- --only a,b] [--runs N] [--set name=value ...] [--no-write] [--list]`
 *
 * Runs the selected benchmarks against the real local services, each `--runs` times (default 3),
 * prints a table of medians with their spread, and updates each benchmark's block in
 * docs/BENCHMARKS.md with the machine, versions, command and date. Exits 1 if any run failed and 2 on
 * bad usage; never because a figure misses its target.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../pipeline/config.ts';
import {
  BenchSkip,
  summarize,
  type BenchContext,
  type BenchOutcome,
  type Benchmark,
  type Figure,
} from './harness.ts';
import { describeMachine } from './machine.ts';
import { loadBenchmarks } from './registry.ts';
import {
  consoleTable,
  machineLine,
  markdownBlock,
  upsertBlock,
  versionsLine,
  type RunInfo,
} from './report.ts';

const docsUrl = new URL('../docs/BENCHMARKS.md', import.meta.url);

export interface BenchArgs {
  only: string[] | undefined;
  runs: number;
  options: Map<string, string>;
  write: boolean;
  list: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      runs: { type: 'string', default: '3' },
      set: { type: 'string', multiple: true, default: [] },
      'no-write': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new UsageError(`--runs ${values.runs}: expected an integer ≥ 1`);
  const options = new Map<string, string>();
  for (const pair of values.set) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${pair}: expected name=value`);
    options.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { only, runs, options, write: !values['no-write'], list: values.list };
}

class UsageError extends Error {}

function isSkip(e: unknown): e is Error {
  return e instanceof BenchSkip || (e instanceof Error && e.name === 'BenchSkip');
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Formats the docs as `npm run lint` expects them (prettier), so a bench run leaves no lint noise. */
async function formatMarkdown(text: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const path = fileURLToPath(docsUrl);
    const options = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...options, filepath: path });
  } catch {
    return text; // prettier is a dev dependency; without it the content is the same, only unaligned
  }
}

async function measure(benchmark: Benchmark, ctx: BenchContext, runs: number): Promise<BenchOutcome> {
  const { name, title } = benchmark;
  const started = performance.now();
  let prepared: unknown;
  try {
    prepared = benchmark.setup ? await benchmark.setup(ctx) : undefined;
  } catch (e) {
    if (isSkip(e)) return { name, title, status: 'skipped', reason: e.message };
    return { name, title, status: 'failed', error: `setup: ${describe(e)}`, summaries: [] };
  }
  const results: Figure[][] = [];
  let failure: string | undefined;
  let skipped: string | undefined;
  for (let i = 0; i < runs; i++) {
    ctx.log(`${name}: run ${i + 1}/${runs}`);
    try {
      results.push(await benchmark.run(ctx, prepared));
    } catch (e) {
      if (isSkip(e)) skipped = e.message;
      else failure = `run ${i + 1}: ${describe(e)}`;
      break;
    }
  }
  try {
    await benchmark.teardown?.(ctx, prepared);
  } catch (e) {
    ctx.log(`${name}: teardown failed: ${describe(e)}`);
  }
  if (skipped !== undefined && results.length === 0)
    return { name, title, status: 'skipped', reason: skipped };
  const summaries = summarize(results);
  if (failure !== undefined) return { name, title, status: 'failed', error: failure, summaries };
  const seconds = (performance.now() - started) / 1000;
  return { name, title, status: 'ok', runs: results.length, summaries, seconds };
}

export async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${describe(e)}\n`);
    return 2;
  }
  const all = await loadBenchmarks();
  if (args.list) {
    for (const b of all) process.stdout.write(`${b.name.padEnd(20)} ${b.title}\n`);
    return 0;
  }
  const unknown = (args.only ?? []).filter((n) => !all.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown benchmark ${unknown.join(', ')}; available: ${all.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = args.only ? all.filter((b) => args.only!.includes(b.name)) : all;

  const { config } = loadConfig();
  const outcomes: BenchOutcome[] = [];
  const ctx: BenchContext = {
    kafkaBrokers: config.kafka.brokers,
    redisUrl: config.redis.url,
    runId: `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
    options: args.options,
    earlier: (name, metric) => {
      const outcome = outcomes.find((o) => o.name === name);
      if (outcome === undefined || outcome.status === 'skipped') return undefined;
      return outcome.summaries.find((s) => s.metric === metric)?.median;
    },
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  };
  const machine = await describeMachine(config.redis.url, config.clickhouse.url ?? 'http://127.0.0.1:8123');
  const info: RunInfo = {
    startedAt: new Date().toISOString(),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    runs: args.runs,
    machine,
  };
  ctx.log(`machine: ${machineLine(machine)}`);
  ctx.log(`versions: ${versionsLine(machine)}`);

  for (const benchmark of selected) {
    const outcome = await measure(benchmark, ctx, args.runs);
    outcomes.push(outcome);
    if (outcome.status === 'skipped') ctx.log(`${benchmark.name}: SKIPPED: ${outcome.reason}`);
    if (outcome.status === 'failed') ctx.log(`${benchmark.name}: FAILED: ${outcome.error}`);
    if (args.write) {
      // Written after each benchmark so a long run that is interrupted keeps what it measured.
      const doc = existsSync(docsUrl) ? readFileSync(docsUrl, 'utf8') : '';
      const updated = upsertBlock(doc, outcome.name, outcome.title, markdownBlock(outcome, info));
      writeFileSync(docsUrl, await formatMarkdown(updated));
    }
  }
  process.stdout.write(`${consoleTable(outcomes)}\n`);
  const loadNow = (await import('node:os')).loadavg()[0]!.toFixed(2);
  process.stdout.write(`\n${machineLine(machine)} (now ${loadNow})\n${versionsLine(machine)}\n`);
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
