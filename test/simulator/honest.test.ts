import { beforeAll, describe, expect, it } from 'vitest';
import { generateTraffic, defaultSimulation } from '../../simulator/traffic.ts';
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { firedRules, type Geo } from './ruleReference.ts';
import { openGeo } from './geo.ts';

let geo: (ip: string) => Geo;
const taps: Tap[] = [];
const adjustments: Adjustment[] = [];

beforeAll(async () => {
  geo = await openGeo();
  for (const { record } of generateTraffic({
    ...defaultSimulation,
    seed: 11,
    count: 60_000,
    users: 5_000,
    fraudShare: 0,
    days: 30,
  })) {
    if (record.type === 'tap') {
      const { type: _t, ...tap } = record;
      taps.push(tap);
    } else {
      const { type: _t, ...adj } = record;
      adjustments.push(adj);
    }
  }
});

describe('honest users under the default rules', () => {
  it('trip no rule for more than 0.1% of users', () => {
    const fired = firedRules(taps, adjustments, geo);
    const accounts = new Set(taps.map((t) => t.account_id));
    const flagged = new Set<string>();
    const byRule = new Map<string, number>();
    const tapAccount = new Map(taps.map((t) => [t.tap_id, t.account_id]));
    for (const [tapId, rules] of fired) {
      flagged.add(tapAccount.get(tapId)!);
      for (const r of rules) byRule.set(r, (byRule.get(r) ?? 0) + 1);
    }
    expect(accounts.size).toBeGreaterThan(1000);
    expect(flagged.size / accounts.size, JSON.stringify([...byRule])).toBeLessThanOrEqual(0.001);
  });

  it('come only from Korean addresses', () => {
    const countries = new Set(taps.map((t) => geo(t.ip).country));
    expect([...countries]).toEqual(['KR']);
  });

  it('share carrier NAT addresses, one account per phone, at most two devices per account', () => {
    const usersPerIp = new Map<string, Set<string>>();
    const accountsPerMsisdn = new Map<string, Set<string>>();
    const devicesPerAccount = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, k: string, v: string) =>
      m.set(k, (m.get(k) ?? new Set()).add(v));
    for (const t of taps) {
      add(usersPerIp, t.ip, t.account_id);
      add(accountsPerMsisdn, t.msisdn.replace(/^010-(\d{4})-(\d{4})$/, '+8210$1$2'), t.account_id);
      add(devicesPerAccount, t.account_id, t.device_id);
    }
    expect(Math.max(...[...usersPerIp.values()].map((s) => s.size))).toBeGreaterThan(20);
    expect(Math.max(...[...accountsPerMsisdn.values()].map((s) => s.size))).toBe(1);
    expect(Math.max(...[...devicesPerAccount.values()].map((s) => s.size))).toBeLessThanOrEqual(2);
  });

  it('retry only failed taps, silently and soon after', () => {
    const byId = new Map(taps.map((t) => [t.tap_id, t]));
    const retries = taps.filter((t) => t.retry_of !== null);
    expect(retries.length).toBeGreaterThan(50);
    for (const r of retries) {
      const original = byId.get(r.retry_of!)!;
      expect(original.status).toBe('FAILED');
      expect(original.account_id).toBe(r.account_id);
      expect(r.occurred_at - original.occurred_at).toBeGreaterThan(0);
      expect(r.occurred_at - original.occurred_at).toBeLessThanOrEqual(10_000);
    }
  });
});
