/**
 * `tapline run`: one pipeline worker until SIGTERM/SIGINT; then it stops fetching, finishes and commits
 * the batch in flight, closes its connections and exits 0 within TAPLINE_SHUTDOWN_MS. A signal that
 * arrives while the worker is still starting stops it as soon as it has started.
 */
import type { CliContext } from '../cliContext.ts';
import { startWorkerFromConfig } from '../wiring.ts';
import { tuneWorkerHeap } from '../workerNodeFlags.ts';

export async function run(
  _options: Record<string, unknown>,
  _args: string[],
  ctx: CliContext,
): Promise<number> {
  tuneWorkerHeap();
  const config = ctx.config();
  const logger = ctx.logger().child({ component: 'run' });
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(s);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const worker = await startWorkerFromConfig(config, ctx.logger());
  const signal = await signalled;
  logger.info({ signal }, 'stopping: draining the batch in flight');
  const deadline = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), config.worker.shutdownMs).unref(),
  );
  const result = await Promise.race([worker.stop().then(() => 'stopped' as const), deadline]);
  if (result === 'timeout') {
    logger.error(
      { shutdownMs: config.worker.shutdownMs },
      'shutdown deadline passed; exiting without a clean stop',
    );
    return 1;
  }
  logger.info('stopped cleanly');
  return 0;
}
