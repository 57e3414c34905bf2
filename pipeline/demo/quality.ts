/**
 * Detection quality against the simulator's ground truth: per fraud scenario, the share of attack
 * instances that got at least one alert (REVIEW or BLOCK), how many of the instance's taps and how
 * many seconds of event time passed before the first alert, and tap-level precision; and the share of
 * honest users who got any alert. Pure: decisions, labels and taps in, figures out.
 */
import type { DecisionOutcome } from '../../schemas/types.ts';

export interface Label {
  tap_id: string;
  scenario: string;
  instance_id: string;
}

export interface ScoredTap {
  tap_id: string;
  account_id: string;
  occurred_at: number;
}

export interface ScenarioQuality {
  scenario: string;
  instances: number;
  detected: number;
  /** detected / instances, 0..1. */
  detectionRate: number;
  /** Median over detected instances of the 1-based index of the first alerted tap. */
  medianTapsToFirstAlert: number | null;
  /** Median over detected instances of event-time seconds from the first tap to the first alert. */
  medianSecondsToFirstAlert: number | null;
  taps: number;
  alertedTaps: number;
  /** Alerted taps of this scenario / alerted taps that are this scenario's or honest. */
  precision: number;
}

export interface QualityReport {
  scenarios: ScenarioQuality[];
  fraudTaps: number;
  honestTaps: number;
  honestUsers: number;
  honestUsersAlerted: number;
  /** Taps of honest users that got an alert (false positives at tap level). */
  honestAlertedTaps: number;
  /** honestUsersAlerted / honestUsers, 0..1. */
  honestUserAlertRate: number;
  /** Alerted taps that are labelled fraud / all alerted taps. */
  precision: number;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function scoreDetection(
  taps: Iterable<ScoredTap>,
  decisions: ReadonlyMap<string, DecisionOutcome>,
  labels: Iterable<Label>,
): QualityReport {
  const labelByTap = new Map<string, Label>();
  for (const l of labels) labelByTap.set(l.tap_id, l);

  interface InstanceState {
    scenario: string;
    taps: ScoredTap[];
  }
  const instances = new Map<string, InstanceState>();
  const honestUsers = new Set<string>();
  const honestAlerted = new Set<string>();
  const fraudAccounts = new Set<string>();
  let fraudTaps = 0;
  let honestTaps = 0;
  let alerted = 0;
  let alertedFraud = 0;
  let honestAlertedTaps = 0;

  const allTaps: ScoredTap[] = [];
  for (const tap of taps) {
    allTaps.push(tap);
    const label = labelByTap.get(tap.tap_id);
    if (label) fraudAccounts.add(tap.account_id);
  }
  for (const tap of allTaps) {
    const label = labelByTap.get(tap.tap_id);
    const outcome = decisions.get(tap.tap_id);
    const isAlert = outcome === 'REVIEW' || outcome === 'BLOCK';
    if (isAlert) alerted++;
    if (label) {
      fraudTaps++;
      if (isAlert) alertedFraud++;
      const key = `${label.scenario}\u0000${label.instance_id}`;
      const state = instances.get(key) ?? { scenario: label.scenario, taps: [] };
      state.taps.push(tap);
      instances.set(key, state);
    } else if (!fraudAccounts.has(tap.account_id)) {
      // An account that also carried fraud taps is not an honest user (e.g. a taken-over account).
      honestTaps++;
      honestUsers.add(tap.account_id);
      if (isAlert) {
        honestAlerted.add(tap.account_id);
        honestAlertedTaps++;
      }
    }
  }

  const byScenario = new Map<string, { instances: InstanceState[] }>();
  for (const state of instances.values()) {
    const entry = byScenario.get(state.scenario) ?? { instances: [] };
    entry.instances.push(state);
    byScenario.set(state.scenario, entry);
  }
  const scenarios: ScenarioQuality[] = [...byScenario.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scenario, { instances: list }]) => {
      let detected = 0;
      let tapsTotal = 0;
      let alertedTaps = 0;
      const tapsToFirst: number[] = [];
      const secondsToFirst: number[] = [];
      for (const instance of list) {
        const ordered = [...instance.taps].sort((a, b) => a.occurred_at - b.occurred_at);
        tapsTotal += ordered.length;
        const firstIndex = ordered.findIndex((t) => {
          const o = decisions.get(t.tap_id);
          return o === 'REVIEW' || o === 'BLOCK';
        });
        for (const t of ordered) {
          const o = decisions.get(t.tap_id);
          if (o === 'REVIEW' || o === 'BLOCK') alertedTaps++;
        }
        if (firstIndex >= 0) {
          detected++;
          tapsToFirst.push(firstIndex + 1);
          secondsToFirst.push((ordered[firstIndex]!.occurred_at - ordered[0]!.occurred_at) / 1000);
        }
      }
      return {
        scenario,
        instances: list.length,
        detected,
        detectionRate: list.length === 0 ? 0 : detected / list.length,
        medianTapsToFirstAlert: median(tapsToFirst),
        medianSecondsToFirstAlert: median(secondsToFirst),
        taps: tapsTotal,
        alertedTaps,
        precision: alertedTaps === 0 ? 0 : alertedTaps / (alertedTaps + honestAlertedTaps),
      };
    });

  return {
    scenarios,
    fraudTaps,
    honestTaps,
    honestUsers: honestUsers.size,
    honestUsersAlerted: honestAlerted.size,
    honestAlertedTaps,
    honestUserAlertRate: honestUsers.size === 0 ? 0 : honestAlerted.size / honestUsers.size,
    precision: alerted === 0 ? 0 : alertedFraud / alerted,
  };
}
