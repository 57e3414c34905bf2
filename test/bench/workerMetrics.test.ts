/**
 * bench/workerMetrics.ts: a worker's cycle profile read from its Prometheus text, and the figures the
 * scale-out benchmark prints from it.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../pipeline/metrics.ts';
import { cycleFigures, cycleProfile, freePort } from '../../bench/workerMetrics.ts';

describe('cycleProfile', () => {
  it('sums each phase over the cycles, from the worker’s own registry', async () => {
    const metrics = createWorkerMetrics();
    // Two cycles of 300 and 100 records from two topics.
    metrics.recordsIn.inc({ topic: 'taps' }, 300);
    metrics.recordsIn.inc({ topic: 'adjustments' }, 100);
    for (const [phase, seconds] of [
      ['fetch', 0.004],
      ['decide', 0.05],
      ['decide', 0.07],
      ['produce', 0.01],
      ['produce', 0.02],
      ['commit', 0.002],
      ['commit', 0.002],
    ] as const)
      metrics.cyclePhaseSeconds.observe({ phase }, seconds);
    metrics.commitVisibleSeconds.observe(0.006);
    metrics.commitVisibleSeconds.observe(0.002);

    const profile = cycleProfile(await metrics.registry.metrics());
    expect(profile?.cycles).toBe(2);
    expect(profile?.recordsPerCycle).toBe(200);
    expect(profile?.seconds.get('decide')).toBeCloseTo(0.12, 9);
    expect(profile?.seconds.get('produce')).toBeCloseTo(0.03, 9);
    expect(profile?.seconds.get('visible')).toBeCloseTo(0.008, 9);
    // A phase never observed counts as none.
    expect(profile?.seconds.get('offsets')).toBe(0);

    const figures = new Map(cycleFigures('1 worker', profile).map((f) => [f.metric, f.value]));
    expect(figures.get('cycle, 1 worker: taps per fetch')).toBe(200);
    expect(figures.get('cycle, 1 worker: decide')).toBeCloseTo(60, 6);
    expect(figures.get('cycle, 1 worker: visible')).toBeCloseTo(4, 6);
    // decide 120 ms of 4 + 120 + 30 + 4 + 8 = 166 ms
    expect(figures.get('cycle, 1 worker: decide share')).toBeCloseTo((120 / 166) * 100, 6);
  });

  it('gives nothing for a worker that never committed (a stand-in, or no metrics)', async () => {
    const metrics = createWorkerMetrics();
    expect(cycleProfile(await metrics.registry.metrics())).toBeUndefined();
    expect(cycleProfile('')).toBeUndefined();
    expect(cycleFigures('1 worker', undefined)).toEqual([]);
  });
});

describe('freePort', () => {
  it('gives a port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
