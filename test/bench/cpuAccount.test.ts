import { describe, expect, it } from 'vitest';
import {
  cpuPerUnit,
  parseMachineBusySeconds,
  parseProcStatSeconds,
  sampleCpu,
  type CpuSample,
} from '../../bench/cpuAccount.ts';

describe('bench CPU accounting', () => {
  it('reads user+system and waited-for children from /proc/<pid>/stat, a name with spaces included', () => {
    // utime 250, stime 50, cutime 30, cstime 20 ticks (fields 14-17)
    const stat =
      '2327 (redis-server 127.0.0.1:6379) S 1 2327 2327 0 -1 4194560 1 0 0 0 250 50 30 20 20 0 6 0';
    expect(parseProcStatSeconds(stat, 100)).toEqual({ self: 3, children: 0.5 });
    expect(parseProcStatSeconds('garbage', 100)).toBeUndefined();
    expect(parseProcStatSeconds('1 (x) S 1 2', 100)).toBeUndefined();
  });

  it('counts the machine busy as everything but idle and iowait', () => {
    // user nice system idle iowait irq softirq steal
    const stat = 'cpu  1000 10 200 5000 300 0 40 50 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n';
    expect(parseMachineBusySeconds(stat, 100)).toBe(13);
    expect(parseMachineBusySeconds('intr 1 2 3', 100)).toBeUndefined();
  });

  it('divides the CPU of the samples around the window by the units done in it', () => {
    const sample = (at: number, worker: number, forks: number, machine: number): CpuSample => ({
      at,
      seconds: new Map([
        ['worker', worker],
        ['worker, forked children', 0],
        ['Redis, forked children', forks],
      ]),
      machine,
    });
    const samples = [
      sample(0, 1, 0, 10),
      sample(100, 1.5, 0, 11),
      sample(1100, 2.5, 0.2, 13),
      sample(1200, 2.6, 0.2, 13.2),
    ];
    // Window 150-1050 ms widens to the samples at 100 and 1100: 1 s of worker CPU over 1,000 taps.
    const cost = cpuPerUnit(samples, 150, 1050, 1_000)!;
    expect(cost.perProcess.get('worker')).toBeCloseTo(1_000);
    expect(cost.perProcess.get('Redis, forked children')).toBeCloseTo(200);
    // Children that used no CPU in the window are left out rather than shown as zero.
    expect(cost.perProcess.has('worker, forked children')).toBe(false);
    expect(cost.machine).toBeCloseTo(2_000);
    // No sample before the window: no figure rather than a wrong one.
    expect(cpuPerUnit(samples.slice(2), 150, 1050, 1_000)).toBeUndefined();
  });

  it('samples this process, whose CPU grows while it works', async () => {
    const sampler = sampleCpu(new Map([['me', [process.pid]]]), 20);
    const until = performance.now() + 120;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    await new Promise((r) => setTimeout(r, 30));
    sampler.stop();
    const taken = sampler.samples.length;
    sampler.stop(); // a second stop (a `finally` after the window's end) adds no sample
    expect(sampler.samples.length).toBe(taken);
    expect(x).toBeGreaterThan(0);
    const first = sampler.samples[0]!;
    const last = sampler.samples.at(-1)!;
    expect(sampler.samples.length).toBeGreaterThan(2);
    expect(last.seconds.get('me')! - first.seconds.get('me')!).toBeGreaterThan(0.05);
    expect(last.machine! - first.machine!).toBeGreaterThan(0.05);
  });
});
