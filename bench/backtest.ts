/**
 * `backtest`: issue 10 item 8, `tapline backtest` with the in-memory store as a user runs it. The
 * compiled CLI runs as a child process over a simulated JSON Lines file (`--set backtest-taps=N`,
 * 1,000,000; `--set backtest-days=D`, 30), written once in setup. Per run: taps/s and lines/s over the
 * wall time, taps per CPU-second (the input thread's CPU included), and peak RSS from the child's own
 * rusage (bench/exitUsage.ts), in MiB like the
 * other memory figures. A run fails unless every line is accounted for: the summary's records
 * equal the file's lines and the sum of decisions, duplicates, adjustments applied and rejects, the
 * decisions file has a line per decision and duplicate, and the rejects file a line per reject.
 *
 * The 10-million-line memory figure: `--set backtest-taps=10000000 --set backtest-days=300`. The
 * traffic starts early enough that no tap is dated after today (validation refuses event times more
 * than a day ahead of now); late follow-ups can still be, and are counted as rejects.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTrafficFiles } from '../simulator/fileOutput.ts';
import { defaultSimulation, generateTraffic } from '../simulator/traffic.ts';
import { defineBenchmark, intOption, type BenchContext, type Figure } from './harness.ts';
import { workerCli } from './workerProcess.ts';

const DAY_MS = 86_400_000;

interface Prepared {
  dir: string;
  input: string;
  /** Lines of the input file: taps plus adjustments. */
  lines: number;
}

/** The counts of the summary's last line: `records in X = decisions D + duplicates U + ...`. */
export interface BacktestCounts {
  records: number;
  decisions: number;
  duplicates: number;
  applied: number;
  rejects: number;
  taps: number;
}

/** Reads the counts out of `tapline backtest`'s summary (stderr); throws when a line is missing. */
export function parseBacktestSummary(stderr: string): BacktestCounts {
  const balance =
    /records in (\d+) = decisions (\d+) \+ duplicates (\d+) \+ adjustments applied (\d+) \+ rejects (\d+)/.exec(
      stderr,
    );
  const taps = /: (\d+) records, (\d+) taps/.exec(stderr);
  if (!balance || !taps) throw new Error(`no backtest summary in its stderr: ${stderr.trim().slice(-400)}`);
  const [records, decisions, duplicates, applied, rejects] = balance.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { records, decisions, duplicates, applied, rejects, taps: Number(taps[2]) };
}

/**
 * Every line ends decided, applied or rejected: null when the counts prove it, else what is wrong.
 * `outputLines` and `rejectLines` are the lines the run wrote to its decisions and rejects files.
 */
export function unaccounted(
  c: BacktestCounts,
  inputLines: number,
  outputLines: number,
  rejectLines: number,
): string | null {
  const sum = c.decisions + c.duplicates + c.applied + c.rejects;
  if (c.records !== inputLines)
    return `the summary counts ${c.records} records, the file has ${inputLines} lines`;
  if (sum !== c.records) return `records ${c.records} ≠ decisions + duplicates + applied + rejects ${sum}`;
  if (outputLines !== c.decisions + c.duplicates)
    return `${outputLines} decision lines written for ${c.decisions} decisions and ${c.duplicates} duplicates`;
  if (rejectLines !== c.rejects) return `${rejectLines} reject lines written for ${c.rejects} rejects`;
  return null;
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

interface ChildResult {
  stderr: string;
  seconds: number;
  usage: { maxRSS: number; userCPUTime: number; systemCPUTime: number };
}

function runCli(args: string[], usageFile: string): Promise<ChildResult> {
  const hook = fileURLToPath(new URL('exitUsage.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', hook, workerCli(), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        TAPLINE_ENV: 'development',
        LOG_LEVEL: 'warn',
        TAPLINE_BENCH_USAGE_FILE: usageFile,
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`tapline backtest exited with ${code ?? signal}: ${stderr.trim().slice(-600)}`));
        return;
      }
      resolve({
        stderr,
        seconds,
        usage: JSON.parse(readFileSync(usageFile, 'utf8')) as ChildResult['usage'],
      });
    });
  });
}

export const benchmark = defineBenchmark<Prepared>({
  name: 'backtest',
  title: 'Offline: `tapline backtest` over a simulated JSON Lines file (in-memory store)',
  async setup(ctx: BenchContext) {
    const count = intOption(ctx, 'backtest-taps', 1_000_000);
    const days = intOption(ctx, 'backtest-days', 30);
    const start = Math.min(defaultSimulation.start, Date.now() - (days + 2) * DAY_MS);
    workerCli(); // built here, so that no run's wall time includes the build
    const dir = mkdtempSync(join(tmpdir(), 'tapline-bench-backtest-'));
    const input = join(dir, 'traffic.jsonl');
    ctx.log(`backtest: simulating ${count.toLocaleString('en')} taps over ${days} days into ${input}`);
    const counts = await writeTrafficFiles(
      generateTraffic({ ...defaultSimulation, seed: 1, count, days, start, fraudShare: 0.02 }),
      input,
    );
    return { dir, input, lines: counts.taps + counts.adjustments };
  },
  async run(ctx, p) {
    const output = join(p.dir, 'decisions.jsonl');
    const rejects = join(p.dir, 'rejects.jsonl');
    const args = ['backtest', '--input', p.input, '--output', output, '--rejects', rejects];
    const r = await runCli(args, join(p.dir, 'usage.json'));
    const counts = parseBacktestSummary(r.stderr);
    const wrong = unaccounted(counts, p.lines, await countLines(output), await countLines(rejects));
    if (wrong) throw new Error(`tapline backtest lost lines: ${wrong}`);
    const cpuSeconds = (r.usage.userCPUTime + r.usage.systemCPUTime) / 1e6;
    ctx.log(`backtest: ${counts.records} lines in ${r.seconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} CPU-s`);
    const figures: Figure[] = [
      {
        metric: 'taps',
        unit: 'taps/s',
        value: counts.taps / r.seconds,
        better: 'higher',
        target: '≥ 200,000',
      },
      { metric: 'lines', unit: 'lines/s', value: counts.records / r.seconds, better: 'higher' },
      { metric: 'taps per CPU-second', unit: 'taps/s', value: counts.taps / cpuSeconds, better: 'higher' },
      { metric: 'peak RSS', unit: 'MB', value: r.usage.maxRSS / 1024, better: 'lower' },
      { metric: 'lines in the file', unit: 'lines', value: p.lines },
      { metric: 'wall time', unit: 's', value: r.seconds, better: 'lower' },
    ];
    return figures;
  },
  async teardown(_ctx, p) {
    rmSync(p.dir, { recursive: true, force: true });
  },
});
