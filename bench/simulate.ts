/**
 * `node bench/simulate.ts [TAPS]` (default 1,000,000): how fast the simulator generates traffic,
 * in memory only and written to a JSON Lines file with labels, and how much heap it holds while
 * doing so (it must not grow with the number of taps). Prints a human summary and, for
 * `npm run bench`, one `BENCH {...}` line per figure.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSimulation, generateTraffic, type SimulationOptions } from '../simulator/traffic.ts';
import { writeTrafficFiles } from '../simulator/fileOutput.ts';

const taps = Number(process.argv[2] ?? 1_000_000);
const options: SimulationOptions = { ...defaultSimulation, seed: 1, count: taps, days: 30, fraudShare: 0.02 };
const figure = (metric: string, unit: string, value: number) =>
  process.stdout.write(`BENCH ${JSON.stringify({ metric, unit, value: Math.round(value) })}\n`);

let peakHeap = 0;
const sampleHeap = () => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
};

// 1. Generation alone.
let t0 = performance.now();
let records = 0;
for (const _r of generateTraffic(options)) {
  if (++records % 100_000 === 0) sampleHeap();
}
const genSeconds = (performance.now() - t0) / 1000;
const generationHeap = peakHeap;

// 2. To a file, with labels, as `tapline simulate --output` does.
const dir = mkdtempSync(join(tmpdir(), 'tapline-bench-sim-'));
peakHeap = 0;
t0 = performance.now();
const counts = await writeTrafficFiles(
  generateTraffic(options),
  join(dir, 'taps.jsonl'),
  join(dir, 'labels.jsonl'),
  () => sampleHeap(),
);
const fileSeconds = (performance.now() - t0) / 1000;
const bytes = statSync(join(dir, 'taps.jsonl')).size;
rmSync(dir, { recursive: true });

process.stderr.write(
  `simulate ${taps.toLocaleString('en')} taps (+${counts.adjustments.toLocaleString('en')} adjustments, ` +
    `${options.days} days, ${options.fraudShare * 100}% fraud):\n` +
    `  generation only: ${(taps / genSeconds).toFixed(0)} taps/s (${genSeconds.toFixed(1)} s), peak heap ${(generationHeap / 1e6).toFixed(0)} MB\n` +
    `  to JSON Lines + labels: ${(taps / fileSeconds).toFixed(0)} taps/s (${fileSeconds.toFixed(1)} s), ` +
    `${(bytes / 1e6).toFixed(0)} MB written, peak heap ${(peakHeap / 1e6).toFixed(0)} MB\n`,
);
figure('generate', 'taps/s', taps / genSeconds);
figure('generate to file', 'taps/s', taps / fileSeconds);
figure('peak heap to file', 'MB', peakHeap / 1e6);
