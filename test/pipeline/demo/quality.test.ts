import { describe, expect, it } from 'vitest';
import { scoreDetection, type ScoredTap } from '../../../pipeline/demo/quality.ts';
import type { DecisionOutcome } from '../../../schemas/types.ts';

const t = (tap_id: string, account_id: string, seconds: number): ScoredTap => ({
  tap_id,
  account_id,
  occurred_at: Date.UTC(2026, 10, 9) + seconds * 1000,
});

describe('scoreDetection', () => {
  const taps = [
    t('h1', 'honest-a', 0),
    t('h2', 'honest-b', 5),
    t('h3', 'honest-b', 9),
    t('f1', 'farm-1', 10),
    t('f2', 'farm-2', 20),
    t('f3', 'farm-3', 30),
    t('g1', 'farm-9', 40),
    t('c1', 'tester', 50),
  ];
  const labels = [
    { tap_id: 'f1', scenario: 'device_farm', instance_id: 'df-1' },
    { tap_id: 'f2', scenario: 'device_farm', instance_id: 'df-1' },
    { tap_id: 'f3', scenario: 'device_farm', instance_id: 'df-1' },
    { tap_id: 'g1', scenario: 'device_farm', instance_id: 'df-2' },
    { tap_id: 'c1', scenario: 'card_testing', instance_id: 'ct-1' },
  ];
  const decisions = new Map<string, DecisionOutcome>([
    ['h1', 'ALLOW'],
    ['h2', 'ALLOW'],
    ['h3', 'REVIEW'],
    ['f1', 'ALLOW'],
    ['f2', 'ALLOW'],
    ['f3', 'BLOCK'],
    ['g1', 'ALLOW'],
    ['c1', 'REVIEW'],
  ]);

  it('counts detected instances, taps and seconds to the first alert per scenario', () => {
    const q = scoreDetection(taps, decisions, labels);
    const farm = q.scenarios.find((s) => s.scenario === 'device_farm')!;
    expect(farm.instances).toBe(2);
    expect(farm.detected).toBe(1);
    expect(farm.detectionRate).toBe(0.5);
    expect(farm.medianTapsToFirstAlert).toBe(3);
    expect(farm.medianSecondsToFirstAlert).toBe(20);
    expect(farm.taps).toBe(4);
    expect(farm.alertedTaps).toBe(1);
    expect(q.scenarios.map((s) => s.scenario)).toEqual(['card_testing', 'device_farm']);
  });

  it('measures honest users alerted and tap-level precision', () => {
    const q = scoreDetection(taps, decisions, labels);
    expect(q.honestUsers).toBe(2);
    expect(q.honestUsersAlerted).toBe(1);
    expect(q.honestUserAlertRate).toBe(0.5);
    // 3 alerted taps, 2 of them fraud
    expect(q.precision).toBeCloseTo(2 / 3, 10);
    expect(q.fraudTaps).toBe(5);
    expect(q.honestTaps).toBe(3);
  });
});
