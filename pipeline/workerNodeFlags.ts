/**
 * The V8 flags `tapline run` is deployed with: docker-compose.yml's NODE_OPTIONS for the worker (a
 * test keeps the two equal), and the flags the benchmarks and the fault tests start the worker with,
 * so what is measured and what is tested is what runs.
 *
 * The worker's live heap is bounded by design (one fetch of at most 256 KiB in flight, GeoIP caches of
 * at most 60,000 answers, ~21 MB): 40-60 MB after a full collection. Left to its defaults, V8 lets the
 * heap grow far past that before collecting, and RSS keeps the high-water mark (docs/BENCHMARKS.md,
 * worker memory):
 *  - a 16 MB semi-space, not the 64 MB V8 picks (which held ~130 MB more RSS under a backlog than
 *    8 MB). Scavenges copy the fetch in flight, so a smaller one costs CPU: 8 MB took 11% more worker CPU
 *    per tap than 16 MB (215 against 192 µs), for 4-5 MB less peak RSS (243 against 247-248 MB);
 *    32 MB saved 8% more CPU but peaked at 283 MB (docs/BENCHMARKS.md, 2026-11-24);
 *  - old space capped at OLD_SPACE_MB: V8 sizes and collects the heap for that limit. Peak RSS under a
 *    backlog 328 → 228 MB (128 MB gave no less), at a throughput cost the runs could not separate
 *    from their noise (up to ~10%).
 *  - a heap growing factor of 2, which NODE_OPTIONS cannot carry: `tapline run` sets it itself
 *    (tuneWorkerHeap below).
 * A live heap that outgrew the cap would end the worker with "heap out of memory", and it would
 * restart from its committed offsets: raise the cap through NODE_OPTIONS before raising the fetch size.
 */
import { setFlagsFromString } from 'node:v8';

export const OLD_SPACE_MB = 160;

export const WORKER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=16',
  `--max-old-space-size=${OLD_SPACE_MB}`,
];

/**
 * How far V8 lets the old space grow past what survived the last full collection before it collects
 * again: 100% (a factor of 2). Under an old-space cap below 256 MB, V8's own factor is 1.3, and the
 * worker promotes a lot (a fetch's Redis commands and entity states live through two scavenges while
 * the fetch is decided): at 1.3 it ran a mark-compact every ~200 ms at saturation. With 2, a third as
 * many: the worker's CPU per tap fell from 231-246 to 165-193 µs in alternated runs, peak RSS under a
 * backlog rose from 255-263 to 283-288 MB (docs/BENCHMARKS.md, 2026-11-24). The cap above still bounds
 * the old space whatever the factor.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Sets the heap growing factor for this process. V8 refuses --heap-growing-percent in NODE_OPTIONS, so
 * `tapline run` sets it itself at start; V8 reads it at every full collection.
 */
export function tuneWorkerHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
