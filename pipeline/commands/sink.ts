/**
 * `tapline sink`: Kafka → ClickHouse until SIGTERM/SIGINT, then flush, commit and leave the group.
 * With the embedded store it also answers `tapline query` on 127.0.0.1:TAPLINE_QUERY_PORT.
 */
import type { CliContext } from '../cliContext.ts';
import { createKafka, ensureTopics, kafkaUnavailable } from '../kafka.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { startQueryEndpoint, type QueryEndpoint } from '../../sinks/clickhouse/queryEndpoint.ts';
import { startSink, type SinkDecoder } from '../../sinks/clickhouse/sink.ts';
import { openAnalystStore } from '../../sinks/clickhouse/store.ts';

/** schemas/codec.ts `decode(kind, buf)`, loaded by path so this file compiles before the codec lands. */
async function loadDecoder(): Promise<SinkDecoder> {
  const codecPath = '../../schemas/codec.ts';
  const codec = (await import(codecPath)) as { decode: SinkDecoder };
  return (kind, value) => codec.decode(kind, value);
}

export async function run(
  _options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const config = ctx.config();
  const logger = ctx.logger();
  const decode = await loadDecoder();
  const store = await openAnalystStore(config, { createDatabase: true });
  let endpoint: QueryEndpoint | undefined;
  try {
    const migrated = await migrate(store, { retentionYears: config.clickhouse.retentionYears });
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'schema migrated');
    if (store.mode === 'embedded' && config.clickhouse.queryPort !== 0)
      endpoint = await startQueryEndpoint(store, config.clickhouse.queryPort, logger);
    const kafka = createKafka(config, logger, 'sink');
    const t = config.kafka.topics;
    try {
      await ensureTopics(kafka, [t.tapsEnriched, t.adjustmentsEnriched, t.decisions, t.alerts]);
    } catch (e) {
      throw kafkaUnavailable(config, e);
    }
    const sink = await startSink({ config, logger, store, kafka, decode });
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    await sink.stop();
    return 0;
  } finally {
    await endpoint?.close();
    await store.close();
  }
}
