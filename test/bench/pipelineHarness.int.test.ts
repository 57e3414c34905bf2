// The end-to-end harness against the real Kafka, with stand-in workers: a stub that exits like the
// NOT_IMPLEMENTED `tapline run` must give a skip, and an echo worker must give a latency for every tap.
// No figure is asserted against a speed: only that the measurement is complete and consistent.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchContext } from '../../bench/harness.ts';
import { benchmarks } from '../../bench/latency.ts';

const latency = benchmarks.find((b) => b.name === 'latency')!;

function context(options: Record<string, string>): BenchContext {
  return {
    kafkaBrokers: ['127.0.0.1:9092'],
    redisUrl: 'redis://127.0.0.1:6379',
    runId: `t${randomBytes(4).toString('hex')}`,
    options: new Map(Object.entries(options)),
    earlier: () => undefined,
    log: () => {},
  };
}
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('end-to-end harness', () => {
  it('skips with a clear reason while the worker answers NOT_IMPLEMENTED', async () => {
    const ctx = context({ 'worker-script': fixture('stubWorker.ts') });
    const prepared = await latency.setup!(ctx);
    await expect(latency.run(ctx, prepared)).rejects.toMatchObject({
      name: 'BenchSkip',
      message: expect.stringContaining('worker not implemented yet'),
    });
  });

  it('measures produce → decision for every tap through a worker process', async () => {
    const echo = fileURLToPath(new URL('../../bench/echoWorker.ts', import.meta.url));
    const trace = join(mkdtempSync(join(tmpdir(), 'latency-trace-')), 'run');
    const ctx = context({
      'worker-script': echo,
      rates: '200',
      'latency-seconds': '2',
      'latency-ramp-seconds': '1',
      'latency-trace': trace,
    });
    const prepared = await latency.setup!(ctx);
    const figures = await latency.run(ctx, prepared);
    const value = (metric: string) => figures.find((f) => f.metric === metric)?.value;
    const [p50, p99, max] = [value('p50 at 200/s'), value('p99 at 200/s'), value('max at 200/s')];
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50!);
    expect(max).toBeGreaterThanOrEqual(p99!);
    // The ramp's taps are measured too, apart from the steady window's.
    const rampP99 = value('p99 in the 1 s ramp to 200/s');
    expect(rampP99).toBeGreaterThan(0);
    expect(value('max in the 1 s ramp to 200/s')).toBeGreaterThanOrEqual(rampP99!);
    // Redis's forks in the window: a count read from INFO, not missing or NaN.
    expect(Number.isInteger(value('Redis forks (AOF rewrites) at 200/s'))).toBe(true);
    // CPU per tap of the worker and the machine over the window, read from /proc (Linux).
    if (process.platform === 'linux') {
      expect(value('CPU per tap, 200/s: workers')).toBeGreaterThan(0);
      expect(value('CPU per tap, 200/s: machine')).toBeGreaterThan(value('CPU per tap, 200/s: workers')!);
    }
    expect(value('worker peak RSS')).toBeGreaterThan(10);
    // The trace has a line per tap sent, ramp included (200/s for 1 + 2 s): wall-clock ms, latency.
    const lines = readFileSync(`${trace}-200.txt`, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(600);
    for (const line of lines) expect(line).toMatch(/^\d{13}\.\d \d+\.\d$/);
  }, 120_000);
});
