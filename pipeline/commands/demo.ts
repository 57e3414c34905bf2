/**
 * `tapline demo`: the main job end to end (pipeline/demo/runDemo.ts), then the terminal report on
 * stdout and the HTML and JSON reports on disk. Exit 0 when every tap was decided exactly once and
 * stored; 1 (with the reports still written) when a check failed.
 */
import { resolve } from 'node:path';
import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';
import { renderHtmlReport } from '../demo/htmlReport.ts';
import { runDemo, writeReports } from '../demo/runDemo.ts';
import { formatTerminalReport } from '../demo/terminalReport.ts';

function positive(name: string, value: unknown, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isSafeInteger(n)))
    throw new TaplineError(
      'USAGE',
      `--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${String(value)}).`,
    );
  return n;
}

export async function run(
  options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const minutes = positive('minutes', options['minutes'] ?? 1);
  const rate = positive('rate', options['rate'] ?? 300);
  const seed = Number(options['seed'] ?? 42);
  if (!Number.isSafeInteger(seed))
    throw new TaplineError('USAGE', `--seed must be an integer (got ${String(options['seed'])}).`);
  const reportPath = resolve(String(options['report'] ?? 'reports/demo.html'));
  // commander turns --no-services into services: false.
  const services = options['services'] !== false;

  const logPath = reportPath.replace(/\.html?$/i, '') + '.log';
  const { report, problems } = await runDemo({ minutes, rate, seed, services, logPath }, ctx);
  ctx.stdout.write(formatTerminalReport(report));
  const files = await writeReports(report, reportPath, renderHtmlReport);
  ctx.stdout.write(`\nHTML report: ${files.html}\nJSON report: ${files.json}\nLogs: ${logPath}\n`);
  // Each run has its own database in the store: say how to look at this one afterwards.
  ctx.stdout.write(
    `Query this run: CLICKHOUSE_DATABASE=${String(report.run['clickhouse_database'])} ` +
      `npx tapline query "SELECT decision, count() FROM decisions GROUP BY decision"\n`,
  );
  if (problems.length > 0) {
    ctx.stderr.write(`tapline demo: checks failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}
