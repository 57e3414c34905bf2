/**
 * A JSON Lines history file as settlement input: streamed line by line through the schemas' parser,
 * hashed on the side so the statement names exactly which bytes it was computed from.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { TaplineError } from '../pipeline/errors.ts';
import { parseInputLine, readLines } from '../schemas/jsonLines.ts';
import type { SourceItem } from './offline.ts';

/**
 * The event-time "not in the future" check of the schemas compares with the wall clock; a statement
 * must not depend on the day it is computed, so settlement validates against no clock at all.
 */
const noClock = { now: Number.MAX_SAFE_INTEGER };

/** Items of the file in order; `onBytes` hears roughly how many bytes each line took. */
export async function* fileItems(path: string, onBytes?: (n: number) => void): AsyncIterable<SourceItem> {
  for await (const { lineNo, text } of readLines(path)) {
    onBytes?.(text.length + 1);
    const parsed = parseInputLine(text, noClock);
    yield parsed.ok
      ? { lineNo, record: parsed.record }
      : { lineNo, error: { code: parsed.code, reason: parsed.reason } };
  }
}

/** `name sha256:hex` of a file, for the statement's generated_from. */
export async function describeFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `${basename(path)} sha256:${hash.digest('hex')}`;
}

/** Size in bytes, failing with a message that says what to fix. */
export async function inputSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a regular file');
    return s.size;
  } catch (e) {
    throw new TaplineError(
      'USAGE',
      `cannot read --input ${path}: ${(e as Error).message}; name a JSON Lines file.`,
      {
        cause: e,
      },
    );
  }
}
