/**
 * Asia/Seoul calendar facts the simulator needs (hour of day, weekday, day and month boundaries),
 * computed with js-joda and cached per UTC hour: the generator asks millions of times, the answer
 * changes once an hour.
 */
import { Instant, ZoneId, ZonedDateTime, LocalDate, LocalTime } from '@js-joda/core';
import '../pipeline/timeZones.ts';

export const SEOUL = ZoneId.of('Asia/Seoul');
const HOUR = 3_600_000;

export interface SeoulHour {
  /** 0–23 in Asia/Seoul. */
  hour: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Days since the epoch of the local date, a key for daily budgets. */
  dayKey: number;
  /** yyyy*12 + month-1 of the local date, a key for monthly budgets. */
  monthKey: number;
}

// A pure memo (same answer for the same hour, whoever asks): a few thousand entries for a year.
const byHour = new Map<number, SeoulHour>();

export function seoulHour(epochMs: number): SeoulHour {
  const bucket = Math.floor(epochMs / HOUR);
  let found = byHour.get(bucket);
  if (found === undefined) {
    const z = ZonedDateTime.ofInstant(Instant.ofEpochMilli(bucket * HOUR), SEOUL);
    found = {
      hour: z.hour(),
      weekday: z.dayOfWeek().value(),
      dayKey: z.toLocalDate().toEpochDay(),
      monthKey: z.year() * 12 + z.monthValue() - 1,
    };
    if (byHour.size > 200_000) byHour.clear();
    byHour.set(bucket, found);
  }
  return found;
}

/** Epoch ms of the first instant of the Asia/Seoul month after the one holding epochMs. */
export function startOfNextSeoulMonth(epochMs: number): number {
  const local = ZonedDateTime.ofInstant(Instant.ofEpochMilli(Math.floor(epochMs)), SEOUL).toLocalDate();
  const first = LocalDate.of(local.year(), local.monthValue(), 1).plusMonths(1);
  return ZonedDateTime.of(first, LocalTime.MIDNIGHT, SEOUL).toInstant().toEpochMilli();
}

/** Epoch ms of the first instant of the Asia/Seoul month holding epochMs. */
export function startOfSeoulMonth(epochMs: number): number {
  const local = ZonedDateTime.ofInstant(Instant.ofEpochMilli(Math.floor(epochMs)), SEOUL).toLocalDate();
  const first = LocalDate.of(local.year(), local.monthValue(), 1);
  return ZonedDateTime.of(first, LocalTime.MIDNIGHT, SEOUL).toInstant().toEpochMilli();
}

/**
 * Relative tap intensity by Asia/Seoul hour: quiet 02–07, a lunch bump, commute peaks, and the
 * evening peak (21–23) when webtoon episodes drop and streams run.
 */
const hourShape = [
  0.9, 0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.55, 0.9, 0.8, 0.75, 0.85, 1.15, 1.05, 0.9, 0.9, 0.95, 1.05, 1.3,
  1.45, 1.6, 1.85, 2.0, 1.6,
];
/** Weekends run ~20% busier than weekdays; Friday evening already leans that way. */
const weekdayShape = [0, 0.93, 0.93, 0.95, 0.97, 1.05, 1.2, 1.15];

const hourMean = hourShape.reduce((a, b) => a + b, 0) / 24;
const weekdayMean = weekdayShape.reduce((a, b) => a + b, 0) / 7;

/** Upper bound of intensityAt, for thinning. */
export const maxIntensity = (Math.max(...hourShape) / hourMean) * (Math.max(...weekdayShape) / weekdayMean);

/** Relative intensity at an instant, averaging 1 over a week. */
export function intensityAt(epochMs: number): number {
  const h = seoulHour(epochMs);
  return (hourShape[h.hour]! / hourMean) * (weekdayShape[h.weekday]! / weekdayMean);
}
