/**
 * bench/workerMetrics.ts: a worker's cycle profile read from its Prometheus text, and the figures the
 * scale-out benchmark prints from it.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../pipeline/metrics.ts';
import { cycleFigures, cycleProfile, profileBetween } from '../../bench/workerMetrics.ts';

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
    expect(profile?.records).toBe(400);
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

  it('gives no figures for a worker without the metrics (a stand-in) or without a commit yet', async () => {
    const metrics = createWorkerMetrics();
    const fresh = cycleProfile(await metrics.registry.metrics());
    expect(fresh?.cycles).toBe(0);
    expect(cycleFigures('1 worker', fresh)).toEqual([]);
    expect(cycleProfile('')).toBeUndefined();
    expect(cycleFigures('1 worker', undefined)).toEqual([]);
  });

  it('gives the cycles between two readings, the first taken before any commit', async () => {
    const metrics = createWorkerMetrics();
    const before = cycleProfile(await metrics.registry.metrics());
    metrics.recordsIn.inc({ topic: 'taps' }, 50);
    metrics.cyclePhaseSeconds.observe({ phase: 'decide' }, 0.01);
    metrics.commitVisibleSeconds.observe(0.001);
    const middle = cycleProfile(await metrics.registry.metrics());
    metrics.recordsIn.inc({ topic: 'taps' }, 30);
    metrics.cyclePhaseSeconds.observe({ phase: 'decide' }, 0.02);
    metrics.commitVisibleSeconds.observe(0.003);
    const after = cycleProfile(await metrics.registry.metrics());

    expect(profileBetween(before, middle)).toMatchObject({ cycles: 1, records: 50 });
    const second = profileBetween(middle, after);
    expect(second).toMatchObject({ cycles: 1, records: 30 });
    expect(second?.seconds.get('decide')).toBeCloseTo(0.02, 9);
    expect(second?.seconds.get('visible')).toBeCloseTo(0.003, 9);
    expect(profileBetween(undefined, after)).toBeUndefined();
  });
});
