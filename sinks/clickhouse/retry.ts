/**
 * Retrying a store call while ClickHouse is briefly away: exponential backoff with jitter, forever for
 * errors that say a retry can help (the caller stays blocked, which is what pauses consumption), at
 * once for the rest. A stop signal ends the wait.
 */
import { isTaplineError } from '../../pipeline/errors.ts';
import type { Logger } from '../../pipeline/logger.ts';

export interface RetryOptions {
  logger: Logger;
  /** What is being retried, for the logs. */
  what: string;
  /** @default 200 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
  /** Called at each wait (kafkajs heartbeats, so the group keeps the consumer while it waits). */
  onWait?: () => Promise<void>;
  /** When aborted, the current error is thrown instead of waiting again. */
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function withRetry<T>(run: () => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs ?? 200;
  const max = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (e) {
      if (!isTaplineError(e) || !e.canRetry || options.signal?.aborted) throw e;
      options.logger.warn(
        { err: { code: e.code, message: e.message }, attempt, delayMs: delay },
        `${options.what}: retrying`,
      );
      await options.onWait?.().catch(() => {});
      await sleep(delay * (0.75 + Math.random() * 0.5), options.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}
