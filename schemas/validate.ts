/**
 * Validation beyond types, shared by the JSON Lines and Avro paths: every refusal names the field
 * path and what is wrong, in words a producer's engineer can act on. Phone numbers and IP addresses
 * are never echoed in a reason (reasons end up in the DLQ, rejects files and logs).
 */
import { isIP } from 'node:net';
import { isKnownCurrency } from './currencies.ts';
import { adjustmentFields, tapFields, type Presence } from './fields.ts';
import { normalizeMsisdn } from './msisdn.ts';
import { parseIsoTimestamp } from './timestamps.ts';
import {
  adjustmentKinds,
  carriers,
  channels,
  tapStatuses,
  type Adjustment,
  type Tap,
  type Validated,
} from './types.ts';

export type { Validated } from './types.ts';

export interface ValidateOptions {
  /** Reference time (epoch ms) for the "not in the future" check. @default Date.now() */
  now?: number;
}

/** Length limits (UTF-16 code units, which for these ASCII-ish ids equals characters). */
export const limits = {
  tapId: 64,
  id: 128,
  msisdnRaw: 32,
  ip: 64,
  reason: 512,
} as const;

/**
 * Largest amount of one record: far beyond any real payment, and inside the range avsc encodes as a
 * long without precision loss (it refuses |n| > 2^53 − 2), so JSON Lines and Avro accept the same.
 */
export const maxAmount = 1_000_000_000_000_000;

/** Event times before this are refused: no carrier-billing record of Tapline's era is older. */
export const earliestEventTime = Date.UTC(2000, 0, 1);
/** How far ahead of `now` an event time may be (producer clocks drift; a day is generous). */
export const maxFutureSkewMs = 24 * 60 * 60 * 1000;

// C0 controls and DEL, plus C1: they break logs, CSV exports and terminal output.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f-\u009f]/;
// Free text (reason) may hold tabs and newlines, but not other control characters.
// eslint-disable-next-line no-control-regex
const controlCharsExceptWhitespace = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Shows a refused value briefly and safely (quoted, truncated) for a reason text. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

const tapFieldList = Object.entries(tapFields);
const adjustmentFieldList = Object.entries(adjustmentFields);

class Checker {
  readonly problems: string[] = [];
  readonly obj: Record<string, unknown>;
  constructor(obj: Record<string, unknown>) {
    this.obj = obj;
  }

  fail(path: string, what: string): undefined {
    this.problems.push(`${path}: ${what}`);
    return undefined;
  }

  present(path: string, presence: Presence): unknown {
    const v = this.obj[path];
    if ((v === undefined || v === null) && presence === 'required') {
      return this.fail(path, `is required, got ${v === null ? 'null' : 'nothing'}`);
    }
    return v;
  }

  string(path: string, min: number, max: number, opts: { freeText?: boolean; secret?: boolean } = {}) {
    const v = this.obj[path];
    if (typeof v !== 'string')
      return this.fail(path, `must be a string, got ${opts.secret ? typeof v : show(v)}`);
    // Built only on refusal: showing the value costs more than checking it.
    const shown = () => (opts.secret ? `${v.length} characters` : show(v));
    if (v.length < min || v.length > max) {
      return this.fail(path, `must be ${min}–${max} characters long, got ${v.length}`);
    }
    if (!v.isWellFormed())
      return this.fail(path, `contains broken Unicode (a lone surrogate), got ${shown()}`);
    if ((opts.freeText ? controlCharsExceptWhitespace : controlChars).test(v)) {
      return this.fail(path, `contains control characters, got ${shown()}`);
    }
    return v;
  }

  oneOf<T extends string>(path: string, allowed: readonly T[]): T | undefined {
    const v = this.obj[path];
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(path, `must be one of ${allowed.join(', ')}, got ${show(v)}`);
  }

  amount(path: string): number | undefined {
    const v = this.obj[path];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      return this.fail(path, `must be a positive integer of minor units, got ${show(v)}`);
    }
    if (v > maxAmount) return this.fail(path, `must be at most ${maxAmount} minor units, got ${show(v)}`);
    return v;
  }

  eventTime(path: string, now: number): number | undefined {
    const v = this.obj[path];
    let ms: number;
    if (typeof v === 'string') {
      const parsed = parseIsoTimestamp(v);
      if (!parsed.ok) return this.fail(path, parsed.why);
      ms = parsed.ms;
    } else if (typeof v === 'number' && Number.isSafeInteger(v)) {
      ms = v; // Avro timestamp-millis, already epoch ms.
    } else {
      return this.fail(path, `must be an ISO-8601 timestamp with a zone, got ${show(v)}`);
    }
    if (ms < earliestEventTime) return this.fail(path, `is before 2000-01-01, got ${show(v)}`);
    if (ms > now + maxFutureSkewMs) {
      return this.fail(
        path,
        `is more than a day in the future (now ${new Date(now).toISOString()}), got ${show(v)}`,
      );
    }
    return ms;
  }

  /** Runs `check` only when the optional field holds a value; null and absent both mean "none". */
  optional<T>(path: string, check: () => T | undefined): T | null {
    const v = this.obj[path];
    if (v === undefined || v === null) return null;
    return check() ?? null;
  }

  unknownFields(known: Record<string, Presence>, extra: readonly string[] = []): void {
    for (const key of Object.keys(this.obj)) {
      if (!Object.hasOwn(known, key) && !extra.includes(key)) {
        this.fail(show(key), 'is not a field of this record (check the spelling)');
      }
    }
  }

  result<T>(value: T): Validated<T> {
    if (this.problems.length > 0) {
      return { ok: false, code: 'VALIDATION_FAILED', reason: this.problems.join('; ') };
    }
    return { ok: true, value };
  }
}

function asObject(obj: unknown, what: string): Record<string, unknown> | Validated<never> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { ok: false, code: 'VALIDATION_FAILED', reason: `${what}: must be an object, got ${show(obj)}` };
  }
  return obj as Record<string, unknown>;
}

function isRefusal(v: unknown): v is Validated<never> {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

/**
 * Validates a tap from JSON (ISO timestamps) or from Avro (epoch ms). Fields beyond the contract are
 * refused, so a misspelt optional field (`creater_id`) is not silently lost. `type` is tolerated for
 * JSON Lines. The msisdn stays raw here: enrichTap normalizes and hashes it.
 */
export function validateTap(obj: unknown, options: ValidateOptions = {}): Validated<Tap> {
  const o = asObject(obj, 'tap');
  if (isRefusal(o)) return o;
  const now = options.now ?? Date.now();
  const c = new Checker(o);
  for (const [field, presence] of tapFieldList) c.present(field, presence);
  c.unknownFields(tapFields, ['type']);
  const has = (f: string) => o[f] !== undefined && o[f] !== null;

  const tap_id = has('tap_id') ? c.string('tap_id', 1, limits.tapId) : undefined;
  const occurred_at = has('occurred_at') ? c.eventTime('occurred_at', now) : undefined;
  const account_id = has('account_id') ? c.string('account_id', 1, limits.id) : undefined;
  let msisdn: string | undefined;
  if (has('msisdn')) {
    msisdn = c.string('msisdn', 1, limits.msisdnRaw, { secret: true });
    if (msisdn !== undefined && normalizeMsisdn(msisdn) === null) {
      msisdn = c.fail('msisdn', 'is not a Korean national (010-…) or E.164 (+…) phone number');
    }
  }
  const carrier = has('carrier') ? c.oneOf('carrier', carriers) : undefined;
  const device_id = has('device_id') ? c.string('device_id', 1, limits.id) : undefined;
  let ip: string | undefined;
  if (has('ip')) {
    ip = c.string('ip', 2, limits.ip, { secret: true });
    if (ip !== undefined && isIP(ip) === 0) {
      ip = c.fail('ip', `is not a parseable IPv4 or IPv6 address (${ip.length} characters)`);
    }
  }
  const platform_id = has('platform_id') ? c.string('platform_id', 1, limits.id) : undefined;
  const creator_id = c.optional('creator_id', () => c.string('creator_id', 1, limits.id));
  const item_id = c.optional('item_id', () => c.string('item_id', 1, limits.id));
  const channel = c.optional('channel', () => c.oneOf('channel', channels));
  const amount = has('amount') ? c.amount('amount') : undefined;
  let currency: string | undefined;
  if (has('currency')) {
    currency = c.string('currency', 3, 3);
    if (currency !== undefined && !isKnownCurrency(currency)) {
      currency = c.fail(
        'currency',
        `must be an ISO 4217 code such as KRW (upper case), got ${show(currency)}`,
      );
    }
  }
  const status = has('status') ? c.oneOf('status', tapStatuses) : undefined;
  const retry_of = c.optional('retry_of', () => c.string('retry_of', 1, limits.tapId));
  if (retry_of !== null && retry_of === tap_id) c.fail('retry_of', 'names the tap itself');

  return c.result({
    tap_id: tap_id!,
    occurred_at: occurred_at!,
    account_id: account_id!,
    msisdn: msisdn!,
    carrier: carrier!,
    device_id: device_id!,
    ip: ip!,
    platform_id: platform_id!,
    creator_id,
    item_id,
    channel,
    amount: amount!,
    currency: currency!,
    status: status!,
    retry_of,
  });
}

/** Validates an adjustment from JSON (ISO timestamps) or from Avro (epoch ms). */
export function validateAdjustment(obj: unknown, options: ValidateOptions = {}): Validated<Adjustment> {
  const o = asObject(obj, 'adjustment');
  if (isRefusal(o)) return o;
  const now = options.now ?? Date.now();
  const c = new Checker(o);
  for (const [field, presence] of adjustmentFieldList) c.present(field, presence);
  c.unknownFields(adjustmentFields, ['type']);
  const has = (f: string) => o[f] !== undefined && o[f] !== null;

  const adjustment_id = has('adjustment_id') ? c.string('adjustment_id', 1, limits.id) : undefined;
  const occurred_at = has('occurred_at') ? c.eventTime('occurred_at', now) : undefined;
  const tap_id = has('tap_id') ? c.string('tap_id', 1, limits.tapId) : undefined;
  const kind = has('kind') ? c.oneOf('kind', adjustmentKinds) : undefined;
  const amount = has('amount') ? c.amount('amount') : undefined;
  const reason = c.optional('reason', () => c.string('reason', 1, limits.reason, { freeText: true }));

  return c.result({
    adjustment_id: adjustment_id!,
    occurred_at: occurred_at!,
    tap_id: tap_id!,
    kind: kind!,
    amount: amount!,
    reason,
  });
}
