/** `tapline migrate`: create or upgrade the ClickHouse schema (safe to run twice). */
import type { CliContext } from '../cliContext.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { openAnalystStore } from '../../sinks/clickhouse/store.ts';

export async function run(
  _options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const config = ctx.config();
  const store = await openAnalystStore(config, { createDatabase: true });
  try {
    const result = await migrate(store, { retentionYears: config.clickhouse.retentionYears });
    const where = `${store.mode === 'embedded' ? 'embedded store' : 'ClickHouse'} ${store.location}, database ${store.database}`;
    ctx.stdout.write(
      result.applied.length === 0
        ? `Schema already at version ${result.version} (${where}); nothing to do.\n`
        : `Applied migrations ${result.applied.join(', ')}; schema at version ${result.version} (${where}).\n`,
    );
    if (result.retention.length > 0)
      ctx.stdout.write(
        `Retention set to ${config.clickhouse.retentionYears} years (TTL) on ` +
          `${result.retention.map((c) => `${c.table} (was ${c.fromYears ?? 'none'})`).join(', ')}.\n`,
      );
    return 0;
  } finally {
    await store.close();
  }
}
