import { beforeAll, describe, expect, it } from 'vitest';
import type { Tap } from '../../schemas/types.ts';
import { defaultSimulation } from '../../simulator/traffic.ts';
import { scenarioNames, type ScenarioName } from '../../simulator/records.ts';
import { seoulHour } from '../../simulator/koreanTime.ts';
import { collect, type Sample } from './collect.ts';
import { firedRules, normalizeMsisdn, type Geo } from './ruleReference.ts';
import { openGeo } from './geo.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

let s: Sample;
let geo: (ip: string) => Geo;
let instances: Map<string, { scenario: ScenarioName; taps: Tap[] }>;
let fired: Map<string, Set<string>>;

beforeAll(async () => {
  geo = await openGeo();
  // Fraud only: instances share no account, phone or device, so each one's shape stands alone.
  s = collect({ ...defaultSimulation, seed: 77, count: 12_000, fraudShare: 1, days: 10 });
  instances = new Map();
  for (const tap of s.taps) {
    const label = s.labels.get(tap.tap_id)!;
    const entry = instances.get(label.instance_id) ?? { scenario: label.scenario, taps: [] };
    entry.taps.push(tap);
    instances.set(label.instance_id, entry);
  }
  fired = firedRules(s.taps, s.adjustments, geo);
});

function of(name: ScenarioName): Tap[][] {
  const list = [...instances.values()].filter((i) => i.scenario === name).map((i) => i.taps);
  expect(list.length, name).toBeGreaterThan(2);
  return list;
}

const distinct = <T>(items: T[]) => new Set(items).size;
const span = (taps: Tap[]) => taps[taps.length - 1]!.occurred_at - taps[0]!.occurred_at;
const fires = (taps: Tap[], rule: string) => taps.some((t) => fired.get(t.tap_id)?.has(rule));

describe('fraud scenarios have the shape that defines them', () => {
  it('labels every tap, and every scenario occurs', () => {
    expect(s.labels.size).toBe(s.taps.length);
    expect(new Set([...instances.values()].map((i) => i.scenario))).toEqual(new Set(scenarioNames));
  });

  it('card_testing: one account, 3+ declines within minutes, then an approval', () => {
    for (const taps of of('card_testing')) {
      expect(distinct(taps.map((t) => t.account_id))).toBe(1);
      const last = taps[taps.length - 1]!;
      expect(last.status).toBe('APPROVED');
      expect(taps.slice(0, -1).every((t) => t.status === 'DECLINED')).toBe(true);
      expect(taps.length - 1).toBeGreaterThanOrEqual(3);
      expect(span(taps)).toBeLessThan(10 * MIN);
      expect(fires(taps, 'account_declines')).toBe(true);
    }
  });

  it('device_farm: 5+ accounts on one device within 24 h', () => {
    for (const taps of of('device_farm')) {
      expect(distinct(taps.map((t) => t.device_id))).toBe(1);
      expect(distinct(taps.map((t) => t.account_id))).toBeGreaterThanOrEqual(5);
      expect(span(taps)).toBeLessThan(24 * HOUR);
      expect(fires(taps, 'device_many_accounts')).toBe(true);
    }
  });

  it('account_takeover: one account in two countries within 6 h', () => {
    for (const taps of of('account_takeover')) {
      expect(distinct(taps.map((t) => t.account_id))).toBe(1);
      const countries = taps.map((t) => geo(t.ip).country);
      expect(countries[0]).toBe('KR');
      expect(distinct(countries)).toBe(2);
      expect(span(taps)).toBeLessThan(6 * HOUR);
      expect(fires(taps, 'ip_jump')).toBe(true);
    }
  });

  it('monthly_cap: one phone past ₩1,000,000 approved within one Korean month', () => {
    for (const taps of of('monthly_cap')) {
      expect(distinct(taps.map((t) => normalizeMsisdn(t.msisdn)))).toBe(1);
      expect(distinct(taps.map((t) => seoulHour(t.occurred_at).monthKey))).toBe(1);
      const approved = taps.filter((t) => t.status === 'APPROVED').reduce((n, t) => n + t.amount, 0);
      expect(approved).toBeGreaterThan(1_000_000);
      expect(fires(taps, 'monthly_cap')).toBe(true);
    }
  });

  it('stolen_msisdn: one phone number billed by 3+ accounts within 24 h', () => {
    for (const taps of of('stolen_msisdn')) {
      expect(distinct(taps.map((t) => normalizeMsisdn(t.msisdn)))).toBe(1);
      expect(distinct(taps.map((t) => t.account_id))).toBeGreaterThanOrEqual(3);
      expect(span(taps)).toBeLessThan(24 * HOUR);
      expect(fires(taps, 'msisdn_many_accounts')).toBe(true);
    }
  });

  it('small_tap_burst: more than 5 small taps of one account within 60 s', () => {
    for (const taps of of('small_tap_burst')) {
      expect(distinct(taps.map((t) => t.account_id))).toBe(1);
      expect(taps.length).toBeGreaterThan(5);
      expect(span(taps)).toBeLessThan(MIN);
      expect(taps.every((t) => t.amount === 300 || t.amount === 500)).toBe(true);
      expect(fires(taps, 'account_burst')).toBe(true);
    }
  });
});
