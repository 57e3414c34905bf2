/**
 * Every error code Tapline can raise, in one place. Errors carry a `code`, an optional `cause`,
 * and whether retrying can help. Users see `message` (what is wrong and what to do); logs keep `cause`.
 */
export const errorCodes = [
  'CONFIG_INVALID',
  'USAGE',
  'NOT_IMPLEMENTED',
  'NODE_TOO_OLD',
  'SERVICE_UNREACHABLE',
  'SERVICE_FAILED',
  'KAFKA_UNAVAILABLE',
  'REDIS_UNAVAILABLE',
  'CLICKHOUSE_UNAVAILABLE',
  'CLICKHOUSE_QUERY',
  'CLICKHOUSE_AUTH',
  'CHDB_PATH_IN_USE',
  'SCHEMA_NEWER',
  'DECODE_FAILED',
  'VALIDATION_FAILED',
  'UNKNOWN_SCHEMA_ID',
  'DUPLICATE_CONFLICT',
  'ADJUSTMENT_REJECTED',
  'TAP_UNKNOWN',
  'RULES_INVALID',
  'CONTRACTS_INVALID',
  'INPUT_UNREADABLE',
  'PERIOD_CLOSED',
  'PERIOD_ORDER',
  'SECRET_MISSING',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** Codes that are the user's to fix: the CLI exits 2 for these. */
const usageCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONFIG_INVALID',
  'USAGE',
  'NOT_IMPLEMENTED',
  'NODE_TOO_OLD',
  'RULES_INVALID',
  'CONTRACTS_INVALID',
  'SECRET_MISSING',
]);

export interface TaplineErrorOptions {
  cause?: unknown;
  canRetry?: boolean;
}

export class TaplineError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;

  constructor(code: ErrorCode, message: string, options: TaplineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaplineError';
    this.code = code;
    this.canRetry = options.canRetry ?? false;
  }

  /** Exit status for the CLI: 2 for bad usage or configuration, 1 for anything else. */
  get exitCode(): 1 | 2 {
    return usageCodes.has(this.code) ? 2 : 1;
  }
}

export function isTaplineError(e: unknown): e is TaplineError {
  return e instanceof TaplineError;
}

/** A short, safe description of any thrown value, for messages shown to users. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
