/**
 * `tapline backtest --input FILE [--rules FILE] [--output FILE] [--rejects FILE]`: the detectors over a
 * JSON Lines file with the in-memory store, records in file order as a stream would deliver them.
 * One decision line per tap in input order (a repeated tap repeats its first decision with
 * `"duplicate": true`), adjustments applied, bad lines and refused adjustments to --rejects with their
 * line number and reason, a summary on stderr. Memory is bounded: lines are streamed in batches and
 * the store evicts state by event-time TTLs. Exit 0 even with rejects; 2 for usage errors.
 */
import { createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { SingleBar, Presets } from 'cli-progress';
import { createDetector, type DetectorInput } from '../../operators/detector.ts';
import { openGeo, type Geo } from '../../operators/geo.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { defaultRuleSet, loadRulesFile, type Rules } from '../../operators/rulesFile.ts';
import { formatDecisionLine } from '../../schemas/jsonLines.ts';
import { hashMsisdn, normalizeMsisdn, type PiiKey } from '../../schemas/msisdn.ts';
import { readBacktestInput } from './backtestInput.ts';
import type { CliContext } from '../cliContext.ts';
import { TaplineError, type ErrorCode } from '../errors.ts';

export interface BacktestSummary {
  records: number;
  taps: number;
  decisions: Record<'ALLOW' | 'REVIEW' | 'BLOCK', number>;
  ruleHits: Record<string, number>;
  duplicates: number;
  late: number;
  adjustmentsApplied: number;
  rejects: number;
  rejectsByCode: Record<string, number>;
}

export interface BacktestOptions {
  input: string;
  rules: Rules;
  geo: Geo;
  pii: PiiKey;
  output: NodeJS.WritableStream;
  rejects?: NodeJS.WritableStream;
  /**
   * Records per detector batch. A batch's plans, operations and outcomes live until it is written, and
   * every scavenge copies what is alive: at 2,000 that working set made GC the largest cost. @default 500
   */
  batchSize?: number;
  /** Parse and enrich the input on a worker thread (pipeline/commands/backtestInput.ts). @default true */
  inputThread?: boolean;
  /** Called after each batch with the bytes read so far. */
  onProgress?: (bytes: number) => void;
  clock?: () => number;
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Runs a backtest; resolves to the summary (records = decisions + duplicates + applied + rejects). */
export async function runBacktest(o: BacktestOptions): Promise<BacktestSummary> {
  const store = createMemoryStore();
  const detector = createDetector({ store, rules: o.rules, geo: o.geo, clock: o.clock });
  const s: BacktestSummary = {
    records: 0,
    taps: 0,
    decisions: { ALLOW: 0, REVIEW: 0, BLOCK: 0 },
    ruleHits: {},
    duplicates: 0,
    late: 0,
    adjustmentsApplied: 0,
    rejects: 0,
    rejectsByCode: {},
  };
  const batchSize = o.batchSize ?? 500;
  let bytes = 0;
  let out = '';
  let rej = '';
  const reject = (line: number, code: ErrorCode | string, reason: string) => {
    s.rejects++;
    s.rejectsByCode[code] = (s.rejectsByCode[code] ?? 0) + 1;
    if (o.rejects) rej += `${JSON.stringify({ line, code, reason })}\n`;
  };
  // Entries keep rejects in input order relative to each other; decisions keep tap order.
  let batch: DetectorInput[] = [];
  let lineNos: number[] = [];
  const flush = async () => {
    const outcomes = batch.length > 0 ? await detector.processBatch(batch) : [];
    outcomes.forEach((outcome, i) => {
      const line = lineNos[i]!;
      switch (outcome.kind) {
        case 'decision': {
          const d = outcome.decision;
          out += `${formatDecisionLine(d)}\n`;
          if (d.duplicate) {
            s.duplicates++;
            return;
          }
          s.decisions[d.decision]++;
          if (d.late) s.late++;
          for (const r of d.rules) s.ruleHits[r] = (s.ruleHits[r] ?? 0) + 1;
          return;
        }
        case 'applied':
          if (outcome.duplicate) s.duplicates++;
          else s.adjustmentsApplied++;
          return;
        case 'pending':
          // Offline the whole history is in the file: a tap not seen before its adjustment is missing.
          reject(line, 'TAP_UNKNOWN', `${outcome.reason}: not in the input before this line`);
          return;
        case 'rejected':
          reject(line, outcome.code, outcome.reason);
          return;
      }
    });
    batch = [];
    lineNos = [];
    if (out) await write(o.output, out);
    if (rej && o.rejects) await write(o.rejects, rej);
    out = '';
    rej = '';
    o.onProgress?.(bytes);
  };

  for await (const chunk of readBacktestInput(o.input, o.pii, o.inputThread)) {
    bytes += chunk.bytes;
    for (const item of chunk.items) {
      s.records++;
      switch (item.kind) {
        case 'reject':
          if (item.tap) s.taps++;
          reject(item.lineNo, item.code, item.reason);
          continue;
        case 'tap':
          s.taps++;
          batch.push({ kind: 'tap', tap: item.tap, hash: item.hash });
          break;
        case 'adjustment':
          batch.push({ kind: 'adjustment', adjustment: item.adjustment });
          break;
      }
      lineNos.push(item.lineNo);
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  return s;
}

export function formatSummary(s: BacktestSummary, rulesVersion: string): string {
  const hits = Object.entries(s.ruleHits)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const decided = s.decisions.ALLOW + s.decisions.REVIEW + s.decisions.BLOCK;
  const codes = Object.entries(s.rejectsByCode)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  return [
    `backtest (rules ${rulesVersion}): ${s.records} records, ${s.taps} taps`,
    `  decisions: ${decided} (ALLOW ${s.decisions.ALLOW}, REVIEW ${s.decisions.REVIEW}, BLOCK ${s.decisions.BLOCK}; late ${s.late})`,
    `  rule hits: ${hits || 'none'}`,
    `  duplicates: ${s.duplicates}`,
    `  adjustments applied: ${s.adjustmentsApplied}`,
    `  rejects: ${s.rejects}${codes ? ` (${codes})` : ''}`,
    `  records in ${s.records} = decisions ${decided} + duplicates ${s.duplicates} + adjustments applied ${s.adjustmentsApplied} + rejects ${s.rejects}`,
    '',
  ].join('\n');
}

export async function run(
  options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const input = options['input'];
  if (typeof input !== 'string' || input === '')
    throw new TaplineError(
      'USAGE',
      'tapline backtest needs --input FILE (a JSON Lines file of taps and adjustments).',
    );
  let size: number;
  try {
    size = statSync(input).size;
  } catch (e) {
    throw new TaplineError('INPUT_UNREADABLE', `cannot read --input ${input}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const config = ctx.config();
  const pii: PiiKey = { key: config.secrets.piiKey!, version: config.secrets.piiKeyVersion };
  const hash = (raw: string) => {
    const e164 = normalizeMsisdn(raw);
    if (e164 === null)
      throw new TaplineError(
        'RULES_INVALID',
        'a phone number in the rules file lists is not a valid number.',
      );
    return hashMsisdn(e164, pii.key);
  };
  const rulesPath = typeof options['rules'] === 'string' ? options['rules'] : config.detection.rulesPath;
  const rules = rulesPath ? loadRulesFile(rulesPath, { hashMsisdn: hash }) : defaultRuleSet();
  const geo = await openGeo(config.detection.geoDbPath);

  const output = typeof options['output'] === 'string' ? createWriteStream(options['output']) : ctx.stdout;
  const rejects = typeof options['rejects'] === 'string' ? createWriteStream(options['rejects']) : undefined;
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY === true;
  const bar = tty
    ? new SingleBar(
        { stream: ctx.stderr as NodeJS.WriteStream, format: 'backtest [{bar}] {percentage}% | {eta}s left' },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0);
  try {
    const summary = await runBacktest({
      input,
      rules,
      geo,
      pii,
      output,
      rejects,
      onProgress: (b) => bar?.update(Math.min(b, size)),
    });
    bar?.stop();
    ctx.stderr.write(formatSummary(summary, rules.version));
  } finally {
    bar?.stop();
    for (const stream of [output, rejects]) {
      if (stream && stream !== ctx.stdout) {
        const ws = stream as NodeJS.WritableStream & { end(cb?: () => void): void };
        await new Promise<void>((resolve) => ws.end(() => resolve()));
      }
    }
  }
  return 0;
}
