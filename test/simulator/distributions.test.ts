import { beforeAll, describe, expect, it } from 'vitest';
import { defaultSimulation } from '../../simulator/traffic.ts';
import { carrierMix, nationalFormShare } from '../../simulator/population.ts';
import { amountsByKind, platforms, pricePoints } from '../../simulator/catalog.ts';
import { planFraud } from '../../simulator/fraudPlan.ts';
import { scenarios } from '../../simulator/scenarios/index.ts';
import { seoulHour } from '../../simulator/koreanTime.ts';
import { honestRates } from '../../simulator/honest.ts';
import { collect, type Sample } from './collect.ts';

const DAY = 86_400_000;
let s: Sample;

beforeAll(() => {
  s = collect({ ...defaultSimulation, seed: 2024, count: 200_000, fraudShare: 0.02, days: 28 });
});

const share = (n: number, total: number) => n / total;

describe('simulated traffic distributions (200,000 taps)', () => {
  it('has the requested number of taps and fraud share', () => {
    expect(s.taps).toHaveLength(200_000);
    expect(Math.abs(share(s.labels.size, s.taps.length) - 0.02)).toBeLessThan(0.0005);
  });

  it('spreads honest users over carriers in market proportions (±1.5 points)', () => {
    const carrierOf = new Map<string, string>();
    for (const t of s.taps) if (!s.labels.has(t.tap_id)) carrierOf.set(t.account_id, t.carrier);
    const counts = new Map<string, number>();
    for (const c of carrierOf.values()) counts.set(c, (counts.get(c) ?? 0) + 1);
    carrierMix.items.forEach((carrier, i) => {
      expect(
        Math.abs(share(counts.get(carrier) ?? 0, carrierOf.size) - carrierMix.share(i)),
        carrier,
      ).toBeLessThan(0.015);
    });
  });

  it('charges honest users only real price points, in the catalogue’s proportions (±2.5 points)', () => {
    const honest = s.taps.filter((t) => !s.labels.has(t.tap_id));
    const expected = new Map<number, number>();
    const platformTotal = platforms.reduce((n, p) => n + p.weight, 0);
    for (const p of platforms) {
      const mix = amountsByKind[p.kind];
      mix.items.forEach((amount, i) => {
        expected.set(amount, (expected.get(amount) ?? 0) + (p.weight / platformTotal) * mix.share(i));
      });
    }
    const counts = new Map<number, number>();
    for (const t of honest) counts.set(t.amount, (counts.get(t.amount) ?? 0) + 1);
    expect([...counts.keys()].filter((a) => !(pricePoints as readonly number[]).includes(a))).toEqual([]);
    for (const [amount, p] of expected) {
      expect(Math.abs(share(counts.get(amount) ?? 0, honest.length) - p), `₩${amount}`).toBeLessThan(0.025);
    }
    expect(Math.min(...counts.keys())).toBe(300);
    expect(Math.max(...counts.keys())).toBe(5000);
  });

  it('writes about 30% of phone numbers in the national 010- form', () => {
    const national = s.taps.filter((t) => t.msisdn.startsWith('010-')).length;
    expect(Math.abs(share(national, s.taps.length) - nationalFormShare)).toBeLessThan(0.02);
    for (const t of s.taps) expect(t.msisdn).toMatch(/^(\+8210\d{8}|010-\d{4}-\d{4})$/);
  });

  it('fills the requested span of days with honest taps (±5%)', () => {
    const last = s.taps.findLast((t) => !s.labels.has(t.tap_id))!.occurred_at;
    expect((last - defaultSimulation.start) / DAY).toBeGreaterThan(28 * 0.95);
    expect((last - defaultSimulation.start) / DAY).toBeLessThan(28 * 1.05);
  });

  it('follows the Korean day: evenings far busier than the small hours, weekends busier than weekdays', () => {
    const byHour = new Array<number>(24).fill(0);
    const perDay = new Map<number, { weekday: number; n: number }>();
    const firstDay = seoulHour(defaultSimulation.start).dayKey;
    for (const t of s.taps) {
      const h = seoulHour(t.occurred_at);
      byHour[h.hour]!++;
      // Three whole weeks, so the end of the run does not cut a day short.
      if (h.dayKey - firstDay < 21) {
        const d = perDay.get(h.dayKey) ?? { weekday: h.weekday, n: 0 };
        d.n++;
        perDay.set(h.dayKey, d);
      }
    }
    const evening = byHour[21]! + byHour[22]!;
    const night = byHour[4]! + byHour[5]!;
    expect(evening / night).toBeGreaterThan(6);
    const mean = (days: Array<{ n: number }>) => days.reduce((a, d) => a + d.n, 0) / days.length;
    const days = [...perDay.values()];
    expect(days).toHaveLength(21);
    const weekend = mean(days.filter((d) => d.weekday >= 6));
    const weekday = mean(days.filter((d) => d.weekday < 6));
    expect(weekend / weekday).toBeGreaterThan(1.12);
  });

  it('declines and fails some taps, retries failures silently, refunds some and charges back a few', () => {
    const honest = s.taps.filter((t) => !s.labels.has(t.tap_id) && t.retry_of === null);
    const declined = honest.filter((t) => t.status === 'DECLINED').length;
    const failed = honest.filter((t) => t.status === 'FAILED').length;
    expect(Math.abs(share(declined, honest.length) - honestRates.declined)).toBeLessThan(0.005);
    expect(Math.abs(share(failed, honest.length) - honestRates.failed)).toBeLessThan(0.004);
    const retries = s.taps.filter((t) => t.retry_of !== null).length;
    expect(Math.abs(retries / failed - honestRates.retryAfterFailure)).toBeLessThan(0.06);
    const kinds = new Map<string, number>();
    for (const a of s.adjustments) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
    const approved = s.taps.filter((t) => t.status === 'APPROVED').length;
    expect(Math.abs(share(kinds.get('REFUND') ?? 0, approved) - honestRates.refund)).toBeLessThan(0.003);
    expect(kinds.get('CHARGEBACK')).toBeGreaterThan(0);
    expect(kinds.get('UNPAID')).toBeGreaterThan(0);
    expect(kinds.get('COLLECTED')).toBeGreaterThan(0);
    expect(kinds.get('WRITE_OFF')).toBeGreaterThan(0);
  });

  it('refunds mostly within days, and reports unpaid bills one to two months after the tap', () => {
    const tapAt = new Map(s.taps.map((t) => [t.tap_id, t.occurred_at]));
    const refundDelays = s.adjustments
      .filter((a) => a.kind === 'REFUND')
      .map((a) => a.occurred_at - tapAt.get(a.tap_id)!);
    expect(share(refundDelays.filter((d) => d < 7 * DAY).length, refundDelays.length)).toBeGreaterThan(0.75);
    const honestUnpaid = s.adjustments.filter((a) => a.kind === 'UNPAID' && !s.labels.has(a.tap_id));
    expect(honestUnpaid.length).toBeGreaterThan(0);
    for (const a of honestUnpaid) {
      const delay = a.occurred_at - tapAt.get(a.tap_id)!;
      expect(delay).toBeGreaterThanOrEqual(30 * DAY);
      expect(delay).toBeLessThanOrEqual(62 * DAY);
    }
  });

  it('concentrates creator earnings Zipf-like: the top 1% of creators take a large share', () => {
    const byCreator = new Map<string, number>();
    for (const t of s.taps)
      if (t.creator_id) byCreator.set(t.creator_id, (byCreator.get(t.creator_id) ?? 0) + 1);
    const sorted = [...byCreator.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const top = sorted.slice(0, Math.ceil(sorted.length / 100)).reduce((a, b) => a + b, 0);
    expect(share(top, total)).toBeGreaterThan(0.15);
    expect(s.taps.some((t) => t.creator_id === null)).toBe(true);
  });
});

describe('fraud plan', () => {
  it('mixes scenarios in their weights (±1.5 points over many instances) and spends the budget exactly', () => {
    const plan = planFraud(9, 2_000_000, 0, 30 * DAY);
    const total = scenarios.reduce((n, sc) => n + sc.weight, 0);
    for (const sc of scenarios) {
      const n = plan.filter((p) => p.scenario.name === sc.name).length;
      expect(Math.abs(share(n, plan.length) - sc.weight / total), sc.name).toBeLessThan(0.015);
    }
    const spent = plan.reduce((n, p) => n + p.taps, 0);
    expect(2_000_000 - spent).toBeLessThan(Math.min(...scenarios.map((sc) => sc.minTaps)));
    expect(plan.every((p, i) => i === 0 || plan[i - 1]!.start <= p.start)).toBe(true);
    expect(new Set(plan.map((p) => p.instance_id)).size).toBe(plan.length);
  });

  it('leaves out scenarios too large for a small budget instead of overshooting it', () => {
    const plan = planFraud(9, 100, 0, DAY);
    expect(plan.every((p) => p.scenario.name !== 'monthly_cap')).toBe(true);
    expect(plan.reduce((n, p) => n + p.taps, 0)).toBeLessThanOrEqual(100);
  });
});
