/**
 * The backtest's input, read on a thread of its own: lines split, parsed, validated and their phones
 * normalized and hashed (parseInputLine, enrichTap) beside the detector, which gets records ready to
 * decide. That work is a quarter of a backtest's CPU, and on a thread it costs the detector only the
 * structured clone of each chunk (docs/BENCHMARKS.md, backtest). The taps' content hashes are computed
 * here too: this thread idles more than half the time, the detector's does not. Items keep file order;
 * the thread runs at most a few chunks ahead of the detector, so memory stays bounded whatever the file.
 *
 * The same module is the thread's entry point: loaded by the Worker below, it reads instead of exporting.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseInputLine, readLineBatches } from '../../schemas/jsonLines.ts';
import { enrichTap, type PhoneHashCache, type PiiKey } from '../../schemas/msisdn.ts';
import { tapContentHash } from '../../operators/tapContentHash.ts';
import type { Adjustment, EnrichedTap } from '../../schemas/types.ts';

export type InputItem =
  /** `hash`: its tapContentHash, computed here so that the detector's thread does not. */
  | { kind: 'tap'; lineNo: number; tap: EnrichedTap; hash: string }
  | { kind: 'adjustment'; lineNo: number; adjustment: Adjustment }
  /** A line refused before the detector; `tap` when it was a tap line (the summary counts those). */
  | { kind: 'reject'; lineNo: number; code: string; reason: string; tap: boolean };

/** The items of one read chunk, and the bytes of the file they came from (newlines included). */
export interface InputChunk {
  items: InputItem[];
  bytes: number;
}

/** Chunks the thread may post before the detector has taken the first of them. */
const AHEAD = 4;
const THREAD_ROLE = 'tapline-backtest-input';

/** Turns the lines of one read chunk into items (the work the thread takes off the detector). */
function chunkItems(lineNos: number[], texts: string[], pii: PiiKey, hashes: PhoneHashCache): InputChunk {
  const items: InputItem[] = [];
  let bytes = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    const lineNo = lineNos[i]!;
    bytes += Buffer.byteLength(text) + 1;
    const parsed = parseInputLine(text);
    if (!parsed.ok) {
      items.push({ kind: 'reject', lineNo, code: parsed.code, reason: parsed.reason, tap: false });
      continue;
    }
    const rec = parsed.record;
    if (rec.type === 'tap') {
      // enrichTap copies the fields it keeps, so `type` does not ride along.
      const enriched = enrichTap(rec, pii, hashes);
      if ('error' in enriched)
        items.push({ kind: 'reject', lineNo, code: 'VALIDATION_FAILED', reason: enriched.error, tap: true });
      else items.push({ kind: 'tap', lineNo, tap: enriched, hash: tapContentHash(enriched) });
    } else {
      const { type: _t, ...adjustment } = rec;
      items.push({ kind: 'adjustment', lineNo, adjustment });
    }
  }
  return { items, bytes };
}

/** The input in this thread: what a backtest does without `thread`, and what the thread runs. */
async function* readHere(path: string, pii: PiiKey): AsyncIterable<InputChunk> {
  const hashes: PhoneHashCache = new Map();
  for await (const { lineNos, texts } of readLineBatches(path)) yield chunkItems(lineNos, texts, pii, hashes);
}

/** Reads `path` on a worker thread, yielding its chunks in file order. Stopping early ends the thread. */
async function* readOnThread(path: string, pii: PiiKey): AsyncIterable<InputChunk> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { role: THREAD_ROLE, path, pii },
    // Its heap holds the phone-hash cache (up to 200,000 entries, ~30 MB) and a few chunks: bounded, so
    // that V8 does not let a second heap grow at its leisure beside the detector's (~100 MB more RSS).
    resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
  });
  const queue: InputChunk[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  worker.on('message', (chunk: InputChunk | null) => {
    if (chunk === null) ended = true;
    else queue.push(chunk);
    notify();
  });
  worker.on('error', (e: Error) => {
    failure = e;
    notify();
  });
  worker.on('exit', (code) => {
    if (!ended && !failure) failure = new Error(`the backtest's input thread exited with code ${code}`);
    notify();
  });
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        worker.postMessage('next');
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * The chunks of a JSON Lines input, in file order, parsed and enriched on a worker thread (`thread`,
 * the default) or in this one.
 */
export function readBacktestInput(path: string, pii: PiiKey, thread = true): AsyncIterable<InputChunk> {
  return thread ? readOnThread(path, pii) : readHere(path, pii);
}

/**
 * The thread's side: post chunks, at most AHEAD beyond those the detector has taken, then null. The
 * reader on the main thread ends the thread when it is done with it.
 */
async function runThread(port: NonNullable<typeof parentPort>, path: string, pii: PiiKey): Promise<void> {
  let credit = AHEAD;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    credit++;
    wake?.();
    wake = null;
  });
  for await (const chunk of readHere(path, pii)) {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    port.postMessage(chunk);
  }
  port.postMessage(null);
}

const data = workerData as { role?: string; path: string; pii: PiiKey } | null;
if (!isMainThread && parentPort && data?.role === THREAD_ROLE)
  await runThread(parentPort, data.path, data.pii);
