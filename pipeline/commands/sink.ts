/**
 * `tapline sink`: Kafka → ClickHouse until SIGTERM/SIGINT, then flush, commit and leave the group.
 * With the embedded store it also answers `tapline query` on 127.0.0.1:TAPLINE_QUERY_PORT.
 */
import type { CliContext } from '../cliContext.ts';
import { createCodec } from '../../schemas/codec.ts';
import { schemaKinds, type SchemaKind } from '../../schemas/catalog.ts';
import { createKafka, ensureTopics, kafkaUnavailable } from '../kafka.ts';
import { migrate } from '../../sinks/clickhouse/migrate.ts';
import { startQueryEndpoint, type QueryEndpoint } from '../../sinks/clickhouse/queryEndpoint.ts';
import { startSink, type SinkDecoder } from '../../sinks/clickhouse/sink.ts';
import { openStoreWhenReachable } from '../../sinks/clickhouse/openWhenReachable.ts';

/**
 * schemas/codec.ts. Applied adjustments need their tap's context (pipeline/topology.ts
 * AppliedAdjustment): the catalog's `adjustmentApplied` kind when it exists; a plain adjustment
 * without that context is refused as undecodable rather than stored with empty columns.
 */
export function codecDecoder(): SinkDecoder {
  const codec = createCodec();
  const kinds = new Set<string>(schemaKinds);
  return (kind, value) => {
    const codecKind = kind === 'adjustment' && kinds.has('adjustmentApplied') ? 'adjustmentApplied' : kind;
    const outcome = codec.decode(codecKind as SchemaKind, value);
    if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.reason}`);
    const decoded = outcome.value as unknown as Record<string, unknown>;
    if (kind === 'adjustment' && typeof decoded['tap_occurred_at'] !== 'number')
      throw new Error('adjustment without its tap context (account, platform, carrier, tap_occurred_at)');
    return decoded;
  };
}

export async function run(
  _options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  const config = ctx.config();
  const logger = ctx.logger();
  const decode = codecDecoder();
  // SIGTERM/SIGINT while ClickHouse is still unreachable ends the wait: nothing was consumed yet.
  const early = new AbortController();
  const stopWaiting = () => early.abort();
  process.once('SIGTERM', stopWaiting);
  process.once('SIGINT', stopWaiting);
  let store;
  try {
    store = await openStoreWhenReachable(config, { logger, createDatabase: true, signal: early.signal });
  } catch (e) {
    if (!early.signal.aborted) throw e;
    logger.info('stopped while waiting for ClickHouse; nothing was consumed');
    return 0;
  } finally {
    process.off('SIGTERM', stopWaiting);
    process.off('SIGINT', stopWaiting);
  }
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
      // An insert that failed for good ends the run: stop() rethrows it, so the exit says why.
      void sink.failed.then(onSignal);
    });
    await sink.stop();
    return 0;
  } finally {
    await endpoint?.close();
    await store.close();
  }
}
