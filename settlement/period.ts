/**
 * Settlement periods: calendar months in Asia/Seoul. In memory a period is its id (`YYYY-MM`) and its
 * bounds as UTC epoch milliseconds [startMs, endMs), so the hot path compares numbers and never builds
 * a zoned date per tap (a tap at 2026-11-30T15:30Z is 2026-12-01 00:30 KST: December).
 */
import type { LocalDate } from '@js-joda/core';
import { Instant, YearMonth, ZoneId, ZonedDateTime } from '@js-joda/core';
import '../pipeline/timeZones.ts';
import { TaplineError } from '../pipeline/errors.ts';

export const SETTLEMENT_ZONE = 'Asia/Seoul';
const zone = ZoneId.of(SETTLEMENT_ZONE);

export interface SettlementPeriod {
  /** `YYYY-MM`, the month in Asia/Seoul. */
  id: string;
  /** First instant of the month in Asia/Seoul, epoch ms UTC (inclusive). */
  startMs: number;
  /** First instant of the next month, epoch ms UTC (exclusive). */
  endMs: number;
}

const periodPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Parses `YYYY-MM`; throws USAGE naming the expected form. */
export function parsePeriod(text: string): SettlementPeriod {
  const m = periodPattern.exec(text);
  if (!m) {
    throw new TaplineError(
      'USAGE',
      `--period must be a month in the form YYYY-MM (e.g. 2026-11); got ${JSON.stringify(text)}.`,
    );
  }
  return periodFromYearMonth(YearMonth.of(Number(m[1]), Number(m[2])));
}

function periodFromYearMonth(ym: YearMonth): SettlementPeriod {
  return {
    id: ym.toString(),
    startMs: startOfDayMs(ym.atDay(1)),
    endMs: startOfDayMs(ym.plusMonths(1).atDay(1)),
  };
}

/** Epoch ms of 00:00 of a local date in Asia/Seoul. */
export function startOfDayMs(date: LocalDate): number {
  return date.atStartOfDay(zone).toInstant().toEpochMilli();
}

/** The period (Asia/Seoul month) an instant belongs to. */
export function periodOf(epochMs: number): SettlementPeriod {
  const local = ZonedDateTime.ofInstant(Instant.ofEpochMilli(epochMs), zone);
  return periodFromYearMonth(YearMonth.of(local.year(), local.monthValue()));
}

/** The month before: an opening statement must be of this period. */
export function previousPeriod(period: SettlementPeriod): SettlementPeriod {
  return periodFromYearMonth(YearMonth.parse(period.id).minusMonths(1));
}

/** The local date in Asia/Seoul of an instant, `YYYY-MM-DD`. */
export function seoulDate(epochMs: number): string {
  return ZonedDateTime.ofInstant(Instant.ofEpochMilli(epochMs), zone).toLocalDate().toString();
}

export function containsInstant(period: SettlementPeriod, epochMs: number): boolean {
  return epochMs >= period.startMs && epochMs < period.endMs;
}
