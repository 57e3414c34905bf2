/**
 * ISO-8601 timestamps with an explicit zone, to and from epoch milliseconds (UTC). A zoneless
 * timestamp is refused: read in the wrong zone it moves a tap by nine hours, into another window,
 * another day or another settlement month.
 */

const isoWithZone =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})$/;

const days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthDays(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : days[month - 1]!;
}

export type ParsedTimestamp = { ok: true; ms: number } | { ok: false; why: string };

/**
 * Parses `2026-11-03T09:15:02.120Z` or `2026-11-03T18:15:02+09:00` into epoch ms. Fractions finer
 * than a millisecond are truncated toward the past (windows are exact to the millisecond).
 */
export function parseIsoTimestamp(text: string): ParsedTimestamp {
  if (text.length > 40) return { ok: false, why: 'is too long for an ISO-8601 timestamp' };
  const m = isoWithZone.exec(text);
  if (!m) {
    const zoneless = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$/.test(text);
    return {
      ok: false,
      why: zoneless
        ? `has no zone; add Z or an offset such as +09:00, got ${JSON.stringify(text)}`
        : `must be an ISO-8601 timestamp with a zone such as 2026-11-03T09:15:02.120Z, got ${JSON.stringify(text)}`,
    };
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const millis = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  const daysInMonth = month >= 1 && month <= 12 ? monthDays(year, month) : 0;
  // Leap seconds (:60) are refused: JavaScript time has none, and producers should not send them.
  if (day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, why: `is not a real date and time, got ${JSON.stringify(text)}` };
  }
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const digits = zone!.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 18 || om > 59) return { ok: false, why: `has an impossible zone offset ${zone}` };
    offsetMinutes = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC maps years 0–99 to 1900–1999; those are refused later as before 2000 anyway.
  return { ok: true, ms: utc - offsetMinutes * 60_000 };
}

/** Epoch ms to `2026-11-03T09:15:02.120Z`. */
export function formatIsoTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}
