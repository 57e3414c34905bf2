/**
 * Phone numbers (MSISDN): Korean national forms and E.164 become one canonical E.164 string, which is
 * then replaced by a keyed hash before anything is stored or logged. Functions here never put the
 * number itself into an error text: callers may log those texts.
 */
import { createHmac } from 'node:crypto';
import type { EnrichedTap, Tap } from './types.ts';

/** Longest raw text we try to read as a phone number; anything longer is not one. */
const maxRawLength = 32;

/**
 * Normalizes a phone number to E.164 (`+821012345678`), or returns null when it is not one.
 * Accepts Korean national mobile forms (010-1234-5678, 01012345678, 011-123-4567), +82 forms
 * with or without the trunk 0 (+82 10 1234 5678, +82 (0)10-1234-5678), the bare 82… form carrier
 * systems use, and any other E.164 number (kept as is, separators removed).
 */
export function normalizeMsisdn(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > maxRawLength) return null;
  // Only digits, one leading plus and the usual separators; letters or other symbols mean garbage.
  if (!/^\+?[0-9\s\-.()]+$/.test(raw)) return null;
  const plus = raw.startsWith('+');
  const digits = raw.replace(/[^0-9]/g, '');
  if (plus) {
    if (digits.startsWith('820')) return korean(digits.slice(3));
    if (digits.startsWith('82')) return korean(digits.slice(2));
    // E.164: country code never starts with 0, at most 15 digits; 8 is the shortest real number.
    return /^[1-9][0-9]{7,14}$/.test(digits) ? `+${digits}` : null;
  }
  if (digits.startsWith('0')) return korean(digits.slice(1));
  if (digits.startsWith('82') && (digits.length === 11 || digits.length === 12))
    return korean(digits.slice(2));
  return null;
}

/** Korean mobile national significant number: 10 + 8 digits, or the legacy 11/16/17/18/19 + 7–8 digits. */
function korean(nsn: string): string | null {
  if (/^10[0-9]{8}$/.test(nsn) || /^1[16789][0-9]{7,8}$/.test(nsn)) return `+82${nsn}`;
  return null;
}

/** HMAC-SHA256 of the E.164 number under the PII key, lowercase hex (64 characters). */
export function hashMsisdn(e164: string, key: string): string {
  return createHmac('sha256', key).update(e164, 'utf8').digest('hex');
}

export interface PiiKey {
  key: string;
  version: number;
}

/**
 * Hashes already computed, by E.164 number, for one process that enriches many taps of the same
 * phones (a backtest: the HMAC was 7% of its CPU). Cleared when full, so it stays bounded; it lives
 * only in that process's memory, like the input it was read from.
 */
export type PhoneHashCache = Map<string, string>;
const phoneHashCacheSize = 200_000;

/**
 * The tap as it may be stored: the phone number normalized and replaced by its keyed hash and the
 * key's version. Built field by field so the raw number cannot ride along.
 */
export function enrichTap(tap: Tap, pii: PiiKey, hashes?: PhoneHashCache): EnrichedTap | { error: string } {
  const e164 = normalizeMsisdn(tap.msisdn);
  if (e164 === null) {
    return { error: 'msisdn: not a Korean national (010-…) or E.164 (+…) phone number' };
  }
  let msisdnHash = hashes?.get(e164);
  if (msisdnHash === undefined) {
    msisdnHash = hashMsisdn(e164, pii.key);
    if (hashes) {
      if (hashes.size >= phoneHashCacheSize) hashes.clear();
      hashes.set(e164, msisdnHash);
    }
  }
  return {
    tap_id: tap.tap_id,
    occurred_at: tap.occurred_at,
    account_id: tap.account_id,
    msisdn_hash: msisdnHash,
    msisdn_key_version: pii.version,
    carrier: tap.carrier,
    device_id: tap.device_id,
    ip: tap.ip,
    platform_id: tap.platform_id,
    creator_id: tap.creator_id,
    item_id: tap.item_id,
    channel: tap.channel,
    amount: tap.amount,
    currency: tap.currency,
    status: tap.status,
    retry_of: tap.retry_of,
  };
}
