/**
 * The CLI's JSON Lines format: one tap or adjustment per line, discriminated by `type`, timestamps
 * ISO-8601 with a zone. The same validation as the Avro path applies (schemas/validate.ts).
 */
import { createReadStream } from 'node:fs';
import { formatIsoTimestamp } from './timestamps.ts';
import type { Adjustment, Decision, InputRecord, Tap } from './types.ts';
import { show, validateAdjustment, validateTap, type ValidateOptions } from './validate.ts';

export type ParseOutcome =
  | { ok: true; record: InputRecord }
  | { ok: false; code: 'DECODE_FAILED' | 'VALIDATION_FAILED'; reason: string };

/** Longest line accepted; a real record is well under 2 KiB, so this only stops runaway input. */
export const maxLineLength = 64 * 1024;

/** Parses and validates one line of a JSON Lines input file. Never throws. */
export function parseInputLine(text: string, options: ValidateOptions = {}): ParseOutcome {
  if (text.length > maxLineLength) {
    return {
      ok: false,
      code: 'DECODE_FAILED',
      reason: `line is longer than ${maxLineLength} characters, the limit (is it really JSON Lines?)`,
    };
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: 'DECODE_FAILED', reason: `not valid JSON: ${(e as Error).message}` };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { ok: false, code: 'DECODE_FAILED', reason: `expected a JSON object, got ${show(obj)}` };
  }
  const o = obj as Record<string, unknown>;
  // Epoch numbers are refused in files: seconds or milliseconds cannot be told apart by eye.
  if (typeof o['occurred_at'] === 'number') {
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      reason: `occurred_at: must be an ISO-8601 timestamp with a zone such as 2026-11-03T09:15:02.120Z, got ${show(o['occurred_at'])}`,
    };
  }
  if (o['type'] === 'tap') {
    const v = validateTap(o, options);
    return v.ok ? { ok: true, record: { type: 'tap', ...v.value } } : v;
  }
  if (o['type'] === 'adjustment') {
    const v = validateAdjustment(o, options);
    return v.ok ? { ok: true, record: { type: 'adjustment', ...v.value } } : v;
  }
  return {
    ok: false,
    code: 'VALIDATION_FAILED',
    reason: `type: must be "tap" or "adjustment", got ${show(o['type'])}`,
  };
}

/** Lines of one read chunk: texts and their 1-based line numbers, side by side. */
export interface LineBatch {
  lineNos: number[];
  texts: string[];
}

/**
 * Streams the lines of a file of any size, a read chunk (256 KiB) of them at a time, with their
 * 1-based line numbers: one await per chunk instead of one per line. Blank lines are skipped but
 * still counted, so a reject's line number matches what an editor shows. CRLF and a leading
 * byte-order mark are tolerated. Memory stays bounded even on a file with no newlines: a line longer
 * than maxLineLength is cut there (the rest up to its newline is skipped), which parseInputLine
 * then refuses as too long.
 */
export async function* readLineBatches(path: string): AsyncIterable<LineBatch> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let lineNo = 0;
  let pending = '';
  let oversize = false;
  let batch: LineBatch = { lineNos: [], texts: [] };
  const emit = (raw: string) => {
    lineNo += 1;
    let text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (lineNo === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    // A JSON line starts with `{`: only other lines need the look for blanks.
    if (text.charCodeAt(0) === 123 || text.trim() !== '') {
      batch.lineNos.push(lineNo);
      batch.texts.push(text);
    }
  };
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
        const raw = oversize
          ? pending
          : pending === ''
            ? chunk.slice(from, nl)
            : pending + chunk.slice(from, nl);
        pending = '';
        oversize = false;
        emit(raw);
        from = nl + 1;
      }
      if (!oversize) {
        pending += chunk.slice(from);
        if (pending.length > maxLineLength) {
          pending = pending.slice(0, maxLineLength + 1);
          oversize = true;
        }
      }
      if (batch.texts.length > 0) {
        yield batch;
        batch = { lineNos: [], texts: [] };
      }
    }
    if (pending !== '') emit(pending);
    if (batch.texts.length > 0) yield batch;
  } finally {
    input.destroy();
  }
}

/** readLineBatches one line at a time. */
export async function* readLines(path: string): AsyncIterable<{ lineNo: number; text: string }> {
  for await (const { lineNos, texts } of readLineBatches(path))
    for (let i = 0; i < texts.length; i++) yield { lineNo: lineNos[i]!, text: texts[i]! };
}

let lastDecidedAt = NaN;
let lastDecidedAtText = '';

/**
 * One decision line: snake_case, ISO-8601 UTC `decided_at`, `duplicate` and `late` only when true.
 * Written field by field with the bytes JSON.stringify gives the same object (one per tap in a
 * backtest); every decision of a batch shares its `decided_at`, so its text is kept.
 */
export function formatDecisionLine(d: Decision): string {
  if (d.decided_at !== lastDecidedAt) {
    lastDecidedAtText = formatIsoTimestamp(d.decided_at);
    lastDecidedAt = d.decided_at;
  }
  const rules = d.rules.length === 0 ? '[]' : JSON.stringify(d.rules);
  const reasons = d.reasons.length === 0 ? '[]' : JSON.stringify(d.reasons);
  return (
    `{"tap_id":${JSON.stringify(d.tap_id)},"decision":${JSON.stringify(d.decision)},"rules":${rules},` +
    `"reasons":${reasons},"rules_version":${JSON.stringify(d.rules_version)},` +
    `"geo_db":${JSON.stringify(d.geo_db)},"decided_at":"${lastDecidedAtText}"` +
    `${d.duplicate === true ? ',"duplicate":true' : ''}${d.late === true ? ',"late":true' : ''}}`
  );
}

/** One input line (as the simulator writes them): `type` first, ISO timestamps, nulls left out. */
export function formatInputLine(r: InputRecord): string {
  const line: Record<string, unknown> = { type: r.type };
  const fields: Record<string, unknown> = r.type === 'tap' ? tapLine(r) : adjustmentLine(r);
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined) line[k] = v;
  return JSON.stringify(line);
}

function tapLine(t: Tap): Record<string, unknown> {
  return {
    tap_id: t.tap_id,
    occurred_at: formatIsoTimestamp(t.occurred_at),
    account_id: t.account_id,
    msisdn: t.msisdn,
    carrier: t.carrier,
    device_id: t.device_id,
    ip: t.ip,
    platform_id: t.platform_id,
    creator_id: t.creator_id,
    item_id: t.item_id,
    channel: t.channel,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    retry_of: t.retry_of,
  };
}

function adjustmentLine(a: Adjustment): Record<string, unknown> {
  return {
    adjustment_id: a.adjustment_id,
    occurred_at: formatIsoTimestamp(a.occurred_at),
    tap_id: a.tap_id,
    kind: a.kind,
    amount: a.amount,
    reason: a.reason,
  };
}
