/**
 * Where `npm run bench` finds benchmarks. The harness's own modules are listed here; the stage
 * benchmarks other parts of the project write (bench/decode.ts, detect.ts, simulate.ts, settle.ts,
 * sink.ts) join when their file exists, in one of two shapes:
 *  - a module exporting `benchmark` (one) or `benchmarks` (an array) of bench/harness.ts's Benchmark:
 *    it runs in-process with medians, spread, skips and docs blocks like the others;
 *  - any other script: it is run as a child (`node bench/X.ts`, plus the arguments of `--set X-args=…`)
 *    once per run, its exit status decides success, and each stdout line
 *    `BENCH {"metric":..,"unit":..,"value":..}` becomes a figure.
 * The source is checked for those exports before importing it, so a plain script is never executed by
 * the import.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Figure } from './harness.ts';

const ownModules = [
  'baseline.ts',
  'platformaticBaseline.ts',
  'redisReference.ts',
  'latency.ts',
  'workerMemory.ts',
  'scaleOut.ts',
  'pipelineSink.ts',
  'backtest.ts',
];
const stageModules = ['decode.ts', 'detect.ts', 'simulate.ts', 'settle.ts', 'sink.ts'];

/** True when the module source declares the in-process export shape. */
export function exportsBenchmarks(source: string): boolean {
  return (
    /export\s+(const|let)\s+benchmarks?\b/.test(source) ||
    /export\s*\{[^}]*\bbenchmarks?\b[^}]*\}/.test(source)
  );
}

/** Parses `BENCH {...}` lines of a script benchmark's stdout into figures; other lines are ignored. */
export function parseFigureLines(stdout: string): Figure[] {
  const figures: Figure[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^BENCH\s+(\{.*\})\s*$/.exec(line.trim());
    if (!m) continue;
    const raw = JSON.parse(m[1]!) as Partial<Figure>;
    if (typeof raw.metric !== 'string' || typeof raw.unit !== 'string' || typeof raw.value !== 'number') {
      throw new Error(`malformed figure line: ${line.trim()}`);
    }
    figures.push(raw as Figure);
  }
  return figures;
}

/**
 * A script benchmark's command-line arguments from `--set NAME-args="…"` (whitespace-separated), so the
 * harness can run it at the size an issue asks for, e.g. `--set "settle-args=10000000 --clickhouse-only"`.
 */
export function scriptArgs(name: string, options: ReadonlyMap<string, string>): string[] {
  return (options.get(`${name}-args`) ?? '').split(/\s+/).filter(Boolean);
}

function scriptBenchmark(file: string, path: string): Benchmark {
  const name = file.replace(/\.ts$/, '');
  return {
    name,
    title: `${name} (script bench/${file})`,
    run: (ctx) =>
      new Promise<Figure[]>((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, [path, ...scriptArgs(name, ctx.options)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) => {
          const seconds = (performance.now() - started) / 1000;
          if (code !== 0) {
            const tail = stderr.trim().split('\n').slice(-3).join(' / ');
            reject(new Error(`bench/${file} exited with ${code ?? signal}: ${tail}`));
            return;
          }
          try {
            const figures = parseFigureLines(stdout);
            ctx.log(`${name}: script finished in ${seconds.toFixed(1)} s`);
            resolve([...figures, { metric: 'wall time', unit: 's', value: seconds, better: 'lower' }]);
          } catch (e) {
            reject(e as Error);
          }
        });
      }),
  };
}

async function loadModule(file: string): Promise<Benchmark[]> {
  const url = new URL(`./${file}`, import.meta.url);
  const path = fileURLToPath(url);
  if (!exportsBenchmarks(readFileSync(path, 'utf8'))) return [scriptBenchmark(file, path)];
  const mod = (await import(url.href)) as { benchmark?: Benchmark; benchmarks?: Benchmark[] };
  return [...(mod.benchmarks ?? []), ...(mod.benchmark ? [mod.benchmark] : [])];
}

/** Every benchmark available in this checkout, in a stable order: the harness's own, then the stages'. */
export async function loadBenchmarks(): Promise<Benchmark[]> {
  const all: Benchmark[] = [];
  for (const file of [...ownModules, ...stageModules]) {
    if (!existsSync(new URL(`./${file}`, import.meta.url))) continue;
    all.push(...(await loadModule(file)));
  }
  return all;
}
