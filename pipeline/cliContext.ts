/**
 * What every command gets: the validated configuration (loaded lazily, so `--help` and usage
 * errors need none), a logger, and the streams to write to.
 */
import { loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';

export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Validated configuration; throws CONFIG_INVALID on first use when it is wrong. */
  config(): Config;
  logger(): Logger;
}

export function createCliContext(
  env: Record<string, string | undefined> = process.env,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): CliContext {
  let config: Config | undefined;
  let logger: Logger | undefined;
  const ctx: CliContext = {
    env,
    stdout,
    stderr,
    config() {
      if (!config) {
        const loaded = loadConfig(env);
        config = loaded.config;
        const log = createLogger(config.logLevel, stderr);
        logger = log;
        for (const warning of loaded.warnings) log.warn(warning);
      }
      return config;
    },
    logger() {
      if (!logger) ctx.config();
      return logger!;
    },
  };
  return ctx;
}
