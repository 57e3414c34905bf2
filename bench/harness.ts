/**
 * The benchmark contract and the statistics of the harness. A benchmark is measured several times; each
 * run returns figures (metric, unit, value) and the harness reports, per metric, the median and the
 * spread (min–max) over the runs. A benchmark that cannot run yet (its stage is not implemented) throws
 * BenchSkip with a reason; any other error is a failed run, and `npm run bench` then exits non-zero.
 * Slowness never fails a run: targets are printed beside the figures, not asserted.
 */

export interface Figure {
  /** Short name, stable across runs (it is the row key in docs/BENCHMARKS.md). */
  metric: string;
  /** Unit shown after the value: 'msg/s', 'taps/s', 'ms', 'MB', 'B/entity', ... */
  unit: string;
  value: number;
  /** Which direction is better, so the table can show the target sense; informative only. */
  better?: 'higher' | 'lower';
  /** A target from issue 10, shown next to the figure (e.g. '≥ 100,000', '< 50'). */
  target?: string;
}

export interface BenchContext {
  /** Kafka bootstrap brokers (KAFKA_BROKERS, default 127.0.0.1:9092). */
  kafkaBrokers: string[];
  /** REDIS_URL (default redis://127.0.0.1:6379). */
  redisUrl: string;
  /** A string unique to this invocation, for topic names, groups and key prefixes. */
  runId: string;
  /** Free-form options from the command line (`--set name=value`), for scaling workloads. */
  options: ReadonlyMap<string, string>;
  /**
   * Median of a figure measured earlier in the same invocation (e.g. the baseline), so a benchmark can
   * report its ratio to it on the same machine under the same load.
   */
  earlier(benchmark: string, metric: string): number | undefined;
  /** Progress line to stderr (never stdout, which carries the table). */
  log(message: string): void;
}

export interface Benchmark<S = unknown> {
  /** Selectable with `--only`: lower-case, dash-separated. */
  name: string;
  /** One line for the table and the docs. */
  title: string;
  /** Once before the runs (e.g. preload a topic); its result is handed to every run and to teardown. */
  setup?(ctx: BenchContext): Promise<S>;
  run(ctx: BenchContext, prepared: S): Promise<Figure[]>;
  teardown?(ctx: BenchContext, prepared: S): Promise<void>;
}

/** Lets a module declare a benchmark with typed setup state and still sit in one registry. */
export function defineBenchmark<S>(benchmark: Benchmark<S>): Benchmark<unknown> {
  return benchmark as Benchmark<unknown>;
}

/** Thrown by a benchmark that cannot run in this checkout yet; the reason is printed and recorded. */
export class BenchSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BenchSkip';
  }
}

export interface Summary {
  metric: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  better?: 'higher' | 'lower';
  target?: string;
}

export type BenchOutcome =
  | { name: string; title: string; status: 'ok'; runs: number; summaries: Summary[]; seconds: number }
  | { name: string; title: string; status: 'skipped'; reason: string }
  | { name: string; title: string; status: 'failed'; error: string; summaries: Summary[] };

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Nearest-rank percentile (p in (0, 100]) of a sample: the smallest value with at least p% of the sample
 * at or below it. Nearest-rank never invents a latency nobody observed, unlike interpolation.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} outside (0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/** Per metric, in first-seen order: median and min–max over the runs that reported it. */
export function summarize(runs: readonly Figure[][]): Summary[] {
  const byMetric = new Map<string, { first: Figure; values: number[] }>();
  for (const figures of runs) {
    for (const f of figures) {
      const entry = byMetric.get(f.metric);
      if (entry === undefined) byMetric.set(f.metric, { first: f, values: [f.value] });
      else entry.values.push(f.value);
    }
  }
  return [...byMetric.values()].map(({ first, values }) => {
    const summary: Summary = {
      metric: first.metric,
      unit: first.unit,
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      runs: values.length,
    };
    if (first.better !== undefined) summary.better = first.better;
    if (first.target !== undefined) summary.target = first.target;
    return summary;
  });
}

/** Reads an integer workload option (`--set taps=200000`), with a default. */
export function intOption(ctx: BenchContext, name: string, fallback: number): number {
  const raw = ctx.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new RangeError(`--set ${name}=${raw}: expected a positive integer`);
  return n;
}
