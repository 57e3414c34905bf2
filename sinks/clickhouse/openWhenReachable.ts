/**
 * Opening the analyst store for a long-running process (`tapline sink`): a server that is down or
 * still starting is waited for with backoff, each attempt logged with what to fix, instead of exiting
 * at once and leaving an orchestrator to crash-loop the sink. Errors a retry cannot help (refused
 * credentials, an embedded data path held by another process) still end start-up at once.
 */
import type { Config } from '../../pipeline/config.ts';
import type { Logger } from '../../pipeline/logger.ts';
import { withRetry } from './retry.ts';
import { openAnalystStore, type AnalystStore, type OpenStoreOptions } from './store.ts';

export interface OpenWhenReachableOptions extends OpenStoreOptions {
  logger: Logger;
  /** Aborting (SIGTERM while waiting) makes the current error the result instead of waiting again. */
  signal?: AbortSignal;
  /** @default 500 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
}

export function openStoreWhenReachable(
  config: Pick<Config, 'clickhouse'>,
  options: OpenWhenReachableOptions,
): Promise<AnalystStore> {
  const { logger, signal, initialDelayMs, maxDelayMs, ...storeOptions } = options;
  return withRetry(
    async () => {
      const store = await openAnalystStore(config, storeOptions);
      try {
        await store.ping();
        return store;
      } catch (e) {
        await store.close().catch(() => {});
        throw e;
      }
    },
    {
      logger,
      what: 'waiting for ClickHouse',
      initialDelayMs: initialDelayMs ?? 500,
      maxDelayMs: maxDelayMs ?? 10_000,
      signal,
    },
  );
}
