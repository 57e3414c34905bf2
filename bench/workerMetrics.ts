/**
 * What a benchmark worker says about its own cycle, read from its /metrics: the time of each phase of
 * a fetch's cycle (tapline_cycle_phase_seconds, and tapline_commit_visible_seconds for the wait after
 * the commit), per cycle, so a figure says where the cycle's time goes as well as how fast it is.
 */
import type { Figure } from './harness.ts';

/** The phases of a cycle in the order they run; `visible` is tapline_commit_visible_seconds. */
export const CYCLE_PHASES = [
  'fetch',
  'decide',
  'produce',
  'offsets',
  'membership',
  'commit',
  'visible',
] as const;

export interface CycleProfile {
  /** Committed cycles (one per fetch). */
  cycles: number;
  /** Records consumed. */
  records: number;
  /** Seconds spent in each phase, summed over the worker's life. */
  seconds: Map<(typeof CYCLE_PHASES)[number], number>;
}

function series(metrics: string, name: string): number | undefined {
  const escaped = name.replace(/[{}]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} ([0-9.eE+-]+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

/** The cycle profile in a worker's Prometheus text, or undefined when it has none (a stand-in worker). */
export function cycleProfile(metrics: string): CycleProfile | undefined {
  const cycles = series(metrics, 'tapline_commit_visible_seconds_count');
  if (cycles === undefined) return undefined;
  let records = 0;
  for (const m of metrics.matchAll(/^tapline_records_in_total\{[^}]*\} ([0-9.eE+-]+)$/gm))
    records += Number(m[1]);
  const seconds = new Map<(typeof CYCLE_PHASES)[number], number>();
  for (const phase of CYCLE_PHASES) {
    const sum =
      phase === 'visible'
        ? series(metrics, 'tapline_commit_visible_seconds_sum')
        : series(metrics, `tapline_cycle_phase_seconds_sum{phase="${phase}"}`);
    seconds.set(phase, sum ?? 0);
  }
  return { cycles, records, seconds };
}

/** The cycles between two readings of one worker's profile (undefined when either is). */
export function profileBetween(
  before: CycleProfile | undefined,
  after: CycleProfile | undefined,
): CycleProfile | undefined {
  if (!before || !after) return undefined;
  const seconds = new Map(
    [...after.seconds].map(([phase, s]) => [phase, s - (before.seconds.get(phase) ?? 0)] as const),
  );
  return { cycles: after.cycles - before.cycles, records: after.records - before.records, seconds };
}

/** Reads a worker's /metrics and gives its cycle profile, or undefined when it cannot. */
export async function readCycleProfile(port: number): Promise<CycleProfile | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.ok ? cycleProfile(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Figures: records per cycle, each phase's mean milliseconds per cycle, and decide's share of the
 * cycle; none without a profile or without a cycle.
 */
export function cycleFigures(label: string, profile: CycleProfile | undefined): Figure[] {
  if (!profile || profile.cycles <= 0) return [];
  const total = [...profile.seconds.values()].reduce((a, b) => a + b, 0);
  const figures: Figure[] = [
    { metric: `cycle, ${label}: taps per fetch`, unit: 'taps', value: profile.records / profile.cycles },
  ];
  for (const [phase, seconds] of profile.seconds) {
    figures.push({
      metric: `cycle, ${label}: ${phase}`,
      unit: 'ms',
      value: (seconds * 1000) / profile.cycles,
    });
  }
  figures.push({
    metric: `cycle, ${label}: decide share`,
    unit: '%',
    value: total > 0 ? ((profile.seconds.get('decide') ?? 0) / total) * 100 : 0,
  });
  return figures;
}
