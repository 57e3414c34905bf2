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
 * A live heap that outgrew the cap would end the worker with "heap out of memory", and it would
 * restart from its committed offsets: raise the cap through NODE_OPTIONS before raising the fetch size.
 */
export const OLD_SPACE_MB = 160;

export const WORKER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=16',
  `--max-old-space-size=${OLD_SPACE_MB}`,
];
