/**
 * Which attack instances a run contains and when they start. The plan is made up front from the
 * fraud tap budget (share × count) so the fraud share is what was asked for; it holds one small
 * descriptor per instance (a few bytes per ~15 fraud taps), never the taps themselves.
 */
import { Random, Weighted, deriveSeed } from './random.ts';
import { scenarios } from './scenarios/index.ts';
import type { Scenario } from './scenarios/scenario.ts';

export interface PlannedInstance {
  scenario: Scenario;
  instance_id: string;
  taps: number;
  start: number;
  /** Seed of the instance's own generator, so instances do not depend on each other's draws. */
  seed: number;
}

export function planFraud(
  seed: number,
  budget: number,
  start: number,
  spanMs: number,
  available: readonly Scenario[] = scenarios,
): PlannedInstance[] {
  const rng = new Random(deriveSeed(seed, 2));
  const drafts: Array<Omit<PlannedInstance, 'instance_id' | 'seed'>> = [];
  let left = budget;
  for (;;) {
    const fitting = available.filter((s) => s.minTaps <= left);
    if (fitting.length === 0) break;
    const scenario = new Weighted(fitting.map((s) => [s, s.weight] as const)).sample(rng);
    const taps = Math.min(scenario.sampleTaps(rng), left);
    const drawn = start + rng.next() * spanMs;
    drafts.push({ scenario, taps, start: scenario.placeStart?.(drawn, start, rng) ?? drawn });
    left -= taps;
  }
  drafts.sort((a, b) => a.start - b.start);
  return drafts.map((d, i) => ({
    ...d,
    start: Math.round(d.start),
    instance_id: `${d.scenario.name}-${String(i + 1).padStart(5, '0')}`,
    seed: deriveSeed(seed, 3, i),
  }));
}
