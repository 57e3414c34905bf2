/**
 * The one place where errors from ClickHouse (server over HTTP or embedded chDB) become TaplineErrors.
 * Users see what is wrong and what to do; the original error stays in `cause` for the logs.
 */
import { TaplineError } from '../../pipeline/errors.ts';

/** ClickHouse server codes meaning the credentials were refused (old servers use 192/193). */
const authCodes = new Set(['516', '192', '193', '194', '195']);
/** Codes where the server is alive but busy or restarting: retrying later helps. */
const transientCodes = new Set(['159', '164', '202', '209', '210', '241', '242', '252', '319', '425']);
/** Node socket errors meaning the server cannot be reached right now. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  type?: unknown;
  clickhouseCode?: unknown;
  cause?: unknown;
}

/** Where the error came from, for messages: `ClickHouse at URL` or `the embedded store at PATH`. */
export interface ErrorSource {
  describe: string;
  /** What the user should check, e.g. the variables to set. */
  hint: string;
}

function networkCode(e: ErrorLike | undefined, depth = 0): string | undefined {
  if (!e || depth > 4) return undefined;
  if (typeof e.code === 'string' && networkCodes.has(e.code)) return e.code;
  const message = typeof e.message === 'string' ? e.message : '';
  for (const code of networkCodes) if (message.includes(code)) return code;
  if (/socket hang up|Timeout error|other side closed/i.test(message)) return 'ECONNRESET';
  return networkCode(e.cause as ErrorLike | undefined, depth + 1);
}

/** First line of the server's text, without the stack trace ClickHouse appends. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/\s*\(version [^)]*\)\s*$/, '').slice(0, 400);
}

/** Turns anything ClickHouse or chDB threw into a typed TaplineError. */
export function parseClickHouseError(e: unknown, source: ErrorSource): TaplineError {
  if (e instanceof TaplineError) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as ErrorLike;
  const message = typeof err.message === 'string' ? err.message : String(e);
  // Servers before 22.x answer `Code: 193, e.displayText() = ...`, which the client leaves unparsed.
  const serverCode =
    typeof err.code === 'string' && /^\d+$/.test(err.code)
      ? err.code
      : typeof err.clickhouseCode === 'number'
        ? String(err.clickhouseCode)
        : /^Code: (\d+)[,.]/.exec(message)?.[1];
  if (
    (serverCode && authCodes.has(serverCode)) ||
    /Authentication failed|password is incorrect|Wrong password|Unknown user/i.test(message)
  ) {
    return new TaplineError(
      'CLICKHOUSE_AUTH',
      `${source.describe} refused the credentials. Check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD.`,
      { cause: e },
    );
  }
  const net = networkCode(err);
  if (net) {
    return new TaplineError(
      'CLICKHOUSE_UNAVAILABLE',
      `Cannot reach ${source.describe} (${net}). ${source.hint}`,
      { cause: e, canRetry: true },
    );
  }
  if (serverCode && transientCodes.has(serverCode)) {
    return new TaplineError(
      'CLICKHOUSE_UNAVAILABLE',
      `${source.describe} is busy or restarting: ${firstLine(message)}`,
      { cause: e, canRetry: true },
    );
  }
  if (err.code === 'CHDB_CONNECTION') {
    return new TaplineError('CHDB_PATH_IN_USE', `${source.describe}: ${firstLine(message)}`, {
      cause: e,
    });
  }
  return new TaplineError(
    'CLICKHOUSE_QUERY',
    `${source.describe} rejected the query: ${firstLine(message)}`,
    {
      cause: e,
    },
  );
}
