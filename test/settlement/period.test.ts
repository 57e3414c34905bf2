import { describe, expect, it } from 'vitest';
import {
  containsInstant,
  parsePeriod,
  periodOf,
  previousPeriod,
  seoulDate,
} from '../../settlement/period.ts';
import { TaplineError } from '../../pipeline/errors.ts';

describe('settlement periods (calendar months in Asia/Seoul)', () => {
  it('puts 2026-11-30T15:30Z in December: it is 00:30 on December 1st in Seoul', () => {
    expect(periodOf(Date.parse('2026-11-30T15:30:00Z')).id).toBe('2026-12');
    expect(periodOf(Date.parse('2026-11-30T14:59:59.999Z')).id).toBe('2026-11');
    expect(seoulDate(Date.parse('2026-11-30T15:30:00Z'))).toBe('2026-12-01');
  });

  it('bounds a month by its first instants in Seoul (UTC+9, no DST)', () => {
    const p = parsePeriod('2026-11');
    expect(new Date(p.startMs).toISOString()).toBe('2026-10-31T15:00:00.000Z');
    expect(new Date(p.endMs).toISOString()).toBe('2026-11-30T15:00:00.000Z');
    expect(containsInstant(p, p.startMs)).toBe(true);
    expect(containsInstant(p, p.endMs)).toBe(false);
    expect(containsInstant(p, p.endMs - 1)).toBe(true);
  });

  it('goes back across a year', () => {
    expect(previousPeriod(parsePeriod('2027-01')).id).toBe('2026-12');
    expect(new Date(parsePeriod('2027-01').startMs).toISOString()).toBe('2026-12-31T15:00:00.000Z');
  });

  it('refuses what is not YYYY-MM with a USAGE error', () => {
    for (const bad of ['2026-13', '2026-1', 'november', '2026-11-01']) {
      expect(() => parsePeriod(bad)).toThrow(TaplineError);
      expect(() => parsePeriod(bad)).toThrow(/YYYY-MM/);
    }
  });
});
