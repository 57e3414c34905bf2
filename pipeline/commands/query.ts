/**
 * `tapline query SQL [--format table|json|csv]`: runs SQL on the configured store. With the embedded
 * store held by a running sink or demo, the query goes to that process (sinks/clickhouse/queryEndpoint.ts).
 */
import type { CliContext } from '../cliContext.ts';
import { TaplineError } from '../errors.ts';
import { findStoreOwner, queryThroughOwner } from '../../sinks/clickhouse/queryEndpoint.ts';
import { clickhouseFormat, renderResult, type OutputFormat } from '../../sinks/clickhouse/resultFormat.ts';
import { openAnalystStore } from '../../sinks/clickhouse/store.ts';
import { resolve } from 'node:path';

export async function run(
  options: Record<string, unknown>,
  args: string[],
  ctx: CliContext,
): Promise<number> {
  const format = String(options['format'] ?? 'table');
  if (!(format in clickhouseFormat))
    throw new TaplineError('USAGE', `--format must be table, json or csv (got ${JSON.stringify(format)}).`);
  const sql = args.join(' ').trim();
  if (sql === '')
    throw new TaplineError('USAGE', 'Give the SQL to run, e.g. tapline query "SELECT count() FROM taps".');
  const config = ctx.config();
  const chFormat = clickhouseFormat[format as OutputFormat];
  let text: string;
  const owner = config.clickhouse.url ? undefined : findStoreOwner(resolve(config.clickhouse.chdbPath));
  if (owner) {
    text = await queryThroughOwner(owner, sql, chFormat);
  } else {
    const store = await openAnalystStore(config, { createDatabase: false });
    try {
      text = await store.queryText(sql, chFormat);
    } finally {
      await store.close();
    }
  }
  ctx.stdout.write(renderResult(format as OutputFormat, text));
  return 0;
}
