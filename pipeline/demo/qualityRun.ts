/**
 * Detection quality without Kafka, for docs/QUALITY.md: `tapline simulate --output --labels` then
 * `tapline backtest` as child processes (exactly what a person would run), and the three files scored
 * with scoreDetection. Also renders the figures as Markdown with the targets of issue 9.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLines } from '../../schemas/jsonLines.ts';
import type { DecisionOutcome } from '../../schemas/types.ts';
import { scoreDetection, type Label, type QualityReport, type ScoredTap } from './quality.ts';

/** Issue 9: at least 95% of attack instances alerted, at most 0.1% of honest users alerted. */
export const qualityTargets = { detectionRate: 0.95, honestUserAlertRate: 0.001 } as const;

export interface QualityRun {
  seed: number;
  count: number;
  rulesVersion: string;
  report: QualityReport;
  /** Per scenario, the sizes (taps) of the instances that got no alert: why they were missed. */
  missedInstanceTaps: Record<string, number[]>;
}

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

function tapline(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LOG_LEVEL: 'error' } },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`tapline ${args[0]} failed: ${stderr.trim().slice(-2000)}`)) : resolve(),
    );
  });
}

async function* jsonLines<T>(path: string): AsyncIterable<T> {
  for await (const line of readLines(path)) {
    if (line.text.trim() !== '') yield JSON.parse(line.text) as T;
  }
}

/** Simulates `count` taps with `seed` into `dir`, backtests them, and scores the decisions. */
export async function measureQuality(o: { seed: number; count: number; dir: string }): Promise<QualityRun> {
  const traffic = join(o.dir, 'traffic.jsonl');
  const labelsPath = join(o.dir, 'labels.jsonl');
  const decisionsPath = join(o.dir, 'decisions.jsonl');
  await tapline([
    'simulate',
    '--count',
    String(o.count),
    '--seed',
    String(o.seed),
    '--output',
    traffic,
    '--labels',
    labelsPath,
  ]);
  await tapline(['backtest', '--input', traffic, '--output', decisionsPath]);

  const taps: ScoredTap[] = [];
  for await (const r of jsonLines<{ type: string; tap_id: string; account_id: string; occurred_at: string }>(
    traffic,
  )) {
    if (r.type === 'tap')
      taps.push({ tap_id: r.tap_id, account_id: r.account_id, occurred_at: Date.parse(r.occurred_at) });
  }
  const decisions = new Map<string, DecisionOutcome>();
  let rulesVersion = 'unknown';
  for await (const d of jsonLines<{
    tap_id: string;
    decision: DecisionOutcome;
    rules_version: string;
    duplicate?: boolean;
  }>(decisionsPath)) {
    if (d.duplicate) continue;
    decisions.set(d.tap_id, d.decision);
    rulesVersion = d.rules_version;
  }
  const labels: Label[] = [];
  for await (const l of jsonLines<Label>(labelsPath)) labels.push(l);
  const report = scoreDetection(taps, decisions, labels);
  return {
    seed: o.seed,
    count: o.count,
    rulesVersion,
    report,
    missedInstanceTaps: missedSizes(labels, decisions),
  };
}

function missedSizes(
  labels: Label[],
  decisions: ReadonlyMap<string, DecisionOutcome>,
): Record<string, number[]> {
  const instances = new Map<string, { scenario: string; taps: number; alerted: boolean }>();
  for (const l of labels) {
    const key = `${l.scenario}\u0000${l.instance_id}`;
    const entry = instances.get(key) ?? { scenario: l.scenario, taps: 0, alerted: false };
    entry.taps++;
    const o = decisions.get(l.tap_id);
    if (o === 'REVIEW' || o === 'BLOCK') entry.alerted = true;
    instances.set(key, entry);
  }
  const missed: Record<string, number[]> = {};
  for (const i of instances.values()) if (!i.alerted) (missed[i.scenario] ??= []).push(i.taps);
  for (const sizes of Object.values(missed)) sizes.sort((a, b) => a - b);
  return missed;
}

/** Scenarios below the detection target, and whether the honest-user target holds. */
export function shortfalls(run: QualityRun): { scenarios: string[]; honestOk: boolean } {
  return {
    scenarios: run.report.scenarios
      .filter((s) => s.detectionRate < qualityTargets.detectionRate)
      .map((s) => s.scenario),
    honestOk: run.report.honestUserAlertRate <= qualityTargets.honestUserAlertRate,
  };
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

/** The generated part of docs/QUALITY.md: how it was made, then the table against the targets. */
export function qualityMarkdown(run: QualityRun): string {
  const r = run.report;
  const rows = r.scenarios.map((s) => {
    const missed = run.missedInstanceTaps[s.scenario] ?? [];
    return (
      `| ${s.scenario} | ${s.instances} | ${s.detected} (${pct(s.detectionRate)}) | ` +
      `${s.detectionRate >= qualityTargets.detectionRate ? 'yes' : '**no**'} | ` +
      `${s.medianTapsToFirstAlert ?? '-'} | ${s.medianSecondsToFirstAlert === null ? '-' : s.medianSecondsToFirstAlert.toFixed(0)} | ` +
      `${s.alertedTaps}/${s.taps} (${pct(s.taps === 0 ? 0 : s.alertedTaps / s.taps)}) | ` +
      `${s.alertedTaps === 0 ? '-' : pct(s.precision)} | ` +
      `${missed.length === 0 ? '-' : missed.join(', ')} |`
    );
  });
  const short = shortfalls(run);
  return [
    `Generated by \`npm run quality -- --seed ${run.seed} --count ${run.count}\`: ` +
      `\`tapline simulate --count ${run.count} --seed ${run.seed} --output F --labels L\`, ` +
      `\`tapline backtest --input F\` with the built-in rules (**${run.rulesVersion}**), scored by ` +
      '`scoreDetection` (pipeline/demo/quality.ts).',
    '',
    `| scenario | instances | detected | ≥ ${pct(qualityTargets.detectionRate, 0)}? | median taps to 1st alert | median s to 1st alert | alerted taps of the scenario | tap precision | taps of the missed instances |`,
    '| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `- Fraud taps: ${r.fraudTaps}; honest taps: ${r.honestTaps}, of which ${r.honestAlertedTaps} alerted.`,
    '- Tap precision of a scenario: its alerted taps / (its alerted taps + alerted honest taps).',
    `- Tap-level precision (alerted taps that are labelled fraud): **${pct(r.precision)}**.`,
    `- Honest users alerted: ${r.honestUsersAlerted} of ${r.honestUsers} = **${pct(r.honestUserAlertRate, 3)}** ` +
      `(target ≤ ${pct(qualityTargets.honestUserAlertRate, 1)}: ${short.honestOk ? 'met' : '**missed**'}).`,
    `- Scenarios below the detection target: ${short.scenarios.length === 0 ? 'none' : short.scenarios.join(', ')}.`,
  ].join('\n');
}
