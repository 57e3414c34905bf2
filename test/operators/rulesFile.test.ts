import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calendarMonth, capMonth } from '../../operators/calendarMonth.ts';
import {
  defaultRuleSet,
  loadRulesFile,
  resolveRules,
  watchRules,
  type Rules,
} from '../../operators/rulesFile.ts';

describe('rules file', () => {
  it('defaults are DESIGN.md’s table', () => {
    const r = defaultRuleSet().rules;
    expect(r.account_burst).toMatchObject({ window_ms: 60_000, more_than: 5, action: 'REVIEW' });
    expect(r.account_declines).toMatchObject({ window_ms: 600_000, at_least: 3 });
    expect(r.msisdn_daily_amount.more_than).toEqual({ KRW: 300_000 });
    expect(r.device_many_accounts.tiers).toEqual([
      { at_least: 3, action: 'REVIEW' },
      { at_least: 5, action: 'BLOCK' },
    ]);
    expect(r.monthly_cap).toMatchObject({
      action: 'BLOCK',
      more_than: { KRW: 1_000_000 },
      timezone: 'Asia/Seoul',
    });
    expect(r.blocklist.unpaid_block_ms).toBe(30 * 86_400_000);
    expect(defaultRuleSet().lateness_ms).toBe(600_000);
  });

  it('version: the file’s own, else a content hash that changes with the content', () => {
    expect(resolveRules({ version: 'v7' }).version).toBe('v7');
    const a = resolveRules({ rules: { account_burst: { more_than: 6 } } }).version;
    expect(a).toMatch(/^sha256:/);
    expect(a).not.toBe(defaultRuleSet().version);
    expect(resolveRules({ rules: { account_burst: { more_than: 6 } } }).version).toBe(a);
  });

  it('refuses unknown rules, bad actions and raw phone numbers without a key, naming the field', () => {
    expect(() => resolveRules({ rules: { account_bursts: {} } })).toThrow(/account_bursts/);
    expect(() => resolveRules({ rules: { ip_jump: { action: 'ALLOW' } } })).toThrow(/rules\.ip_jump\.action/);
    expect(() => resolveRules({ blocklist: { msisdns: ['+821012345678'] } })).toThrow(/PII key/);
    const r = resolveRules({ blocklist: { msisdns: ['+821012345678'] } }, { hashMsisdn: (m) => `h(${m})` });
    expect([...r.blocklist.msisdnHashes]).toEqual(['h(+821012345678)']);
  });

  it('watchRules picks up a replaced file and keeps the old rules when the new one is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const path = join(dir, 'rules.yaml');
    writeFileSync(path, 'version: one\n');
    expect(loadRulesFile(path).version).toBe('one');
    const seen: Rules[] = [];
    const errors: unknown[] = [];
    const w = watchRules(
      path,
      (r) => seen.push(r),
      (e) => errors.push(e),
    );
    try {
      writeFileSync(join(dir, 'tmp'), 'version: two\nrules:\n  account_burst:\n    more_than: 9\n');
      renameSync(join(dir, 'tmp'), path);
      await expect.poll(() => seen.map((r) => r.version), { timeout: 5000 }).toEqual(['two']);
      expect(seen[0]!.rules.account_burst.more_than).toBe(9);
      writeFileSync(path, 'rules: [');
      await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(seen).toHaveLength(1);
    } finally {
      w.close();
    }
  });
});

describe('calendar month in Asia/Seoul', () => {
  it('a tap at 2026-11-30T15:30Z is December; 14:59:59.999Z is November', () => {
    expect(calendarMonth(Date.parse('2026-11-30T15:30:00Z'))).toBe('2026-12');
    expect(calendarMonth(Date.parse('2026-11-30T15:00:00Z'))).toBe('2026-12');
    expect(calendarMonth(Date.parse('2026-11-30T14:59:59.999Z'))).toBe('2026-11');
    expect(capMonth(Date.parse('2026-12-31T15:00:00Z'))).toBe('2027-01');
  });
  it('the cached month equals js-joda’s for instants around every month boundary of 2026', () => {
    for (let m = 0; m < 12; m++) {
      const boundary = Date.UTC(2026, m, 1) - 9 * 3_600_000;
      for (const d of [-1, 0, 1, 899_999, 900_000])
        expect(capMonth(boundary + d)).toBe(calendarMonth(boundary + d));
    }
  });
});
