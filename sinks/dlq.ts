/**
 * The dead-letter path: a record that cannot be processed is kept with where it came from and why,
 * its original bytes encrypted with the data key (AES-256-GCM), so it can be replayed after a fix
 * without raw personal data (phone numbers, IPs) sitting readable in a topic.
 *
 * Payload layout: version byte (1), 12-byte random nonce, 16-byte GCM tag, ciphertext. The version
 * byte is authenticated too (as associated data), so it cannot be swapped for another scheme's.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { TaplineError } from '../pipeline/errors.ts';
import { normalizeMsisdn } from '../schemas/msisdn.ts';
import type { DlqRecord } from '../schemas/types.ts';

export const PAYLOAD_VERSION = 1;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + NONCE_LENGTH + TAG_LENGTH;
/** Longest reason kept; longer ones are cut (the bytes, not the reason, are the evidence). */
export const MAX_REASON_LENGTH = 1024;

function dataKey(keyHex: string): Buffer {
  if (typeof keyHex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(keyHex)) {
    throw new TaplineError('CONFIG_INVALID', 'TAPLINE_DATA_KEY must be 64 hex characters (32 bytes).');
  }
  return Buffer.from(keyHex, 'hex');
}

/** Encrypts the original record bytes for the DLQ. A fresh random nonce every call. */
export function encryptPayload(bytes: Buffer, keyHex: string): Buffer {
  const version = Buffer.from([PAYLOAD_VERSION]);
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', dataKey(keyHex), nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(version);
  const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
  return Buffer.concat([version, nonce, cipher.getAuthTag(), ciphertext]);
}

/** Recovers the original bytes; throws DECODE_FAILED when the key is wrong or the payload was altered. */
export function decryptPayload(payload: Buffer, keyHex: string): Buffer {
  const key = dataKey(keyHex);
  if (payload.length < HEADER_LENGTH) {
    throw new TaplineError(
      'DECODE_FAILED',
      `DLQ payload is ${payload.length} bytes, shorter than its ${HEADER_LENGTH}-byte header.`,
    );
  }
  if (payload[0] !== PAYLOAD_VERSION) {
    throw new TaplineError(
      'DECODE_FAILED',
      `DLQ payload version ${payload[0]} is unknown (this build reads version ${PAYLOAD_VERSION}).`,
    );
  }
  const nonce = payload.subarray(1, 1 + NONCE_LENGTH);
  const tag = payload.subarray(1 + NONCE_LENGTH, HEADER_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(payload.subarray(0, 1));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(payload.subarray(HEADER_LENGTH)), decipher.final()]);
  } catch (e) {
    throw new TaplineError(
      'DECODE_FAILED',
      'DLQ payload cannot be decrypted: it was encrypted with another TAPLINE_DATA_KEY, or altered.',
      { cause: e },
    );
  }
}

// Digit runs long enough to be a phone number, with the separators people type.
const phoneLike = /\+?\d[\d\s\-.()]{6,}\d/g;
const ipv4Like = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;
const ipv6Like = /[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:%[\w.]+)?/g;

/**
 * A digit run can hold a phone number next to other digits ("0 010-1234-5678 7", "0010-1234-5678"):
 * from each position, mask the longest span that reads as a phone number. Masking a little too much
 * is the safe side, and only spans of up to 32 characters are tried, so this stays linear.
 */
function scrubPhones(match: string): string {
  let out = '';
  let i = 0;
  while (i < match.length) {
    let end = -1;
    if (/[+\d]/.test(match[i]!)) {
      // normalizeMsisdn reads at most 32 characters, so longer spans need no try.
      for (let j = Math.min(match.length, i + 32); j > i && end < 0; j -= 1) {
        if (/\d/.test(match[j - 1]!) && normalizeMsisdn(match.slice(i, j)) !== null) end = j;
      }
    }
    if (end > 0) {
      out += '[phone]';
      i = end;
    } else {
      out += match[i];
      i += 1;
    }
  }
  return out;
}

/**
 * Removes anything that reads as a phone number or an IP address from a reason. The validators
 * never echo those, but reasons can also come from elsewhere (a library's message, a rule's text).
 */
export function scrubReason(reason: string): string {
  // Cut before scrubbing too, so a hostile megabyte of digits costs little; a digit run cut in two
  // by that is dropped whole, since half a phone number is still personal data.
  const head =
    reason.length > MAX_REASON_LENGTH * 2
      ? reason.slice(0, MAX_REASON_LENGTH * 2).replace(/[+\d][\d\s\-.()]*$/, '') || '[a long run of digits]'
      : reason;
  const scrubbed = head
    .replace(phoneLike, scrubPhones)
    .replace(ipv4Like, '[ip]')
    .replace(ipv6Like, (m) => (isIP(m) === 6 ? '[ip]' : m));
  return scrubbed.length > MAX_REASON_LENGTH ? `${scrubbed.slice(0, MAX_REASON_LENGTH - 1)}…` : scrubbed;
}

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string | number | bigint;
  /** An ErrorCode, e.g. DECODE_FAILED. */
  code: string;
  reason: string;
  /** The record's original bytes (Kafka message value). */
  bytes: Buffer;
  /** Epoch milliseconds. */
  failedAt: number;
}

/** The dlq.v1 value for a refused record: position, code, scrubbed reason, encrypted bytes. */
export function toDlqRecord(dead: DeadLetter, keyHex: string): DlqRecord {
  return {
    topic: dead.topic,
    partition: dead.partition,
    offset: String(dead.offset),
    code: dead.code,
    reason: scrubReason(dead.reason),
    failed_at: dead.failedAt,
    payload: encryptPayload(dead.bytes, keyHex),
  };
}
