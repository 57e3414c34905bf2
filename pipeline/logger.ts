/**
 * Structured logs (pino, JSON to stderr). Components take a child logger as an argument.
 * Phone numbers and IPs never reach the output: the redaction paths below catch them by field name
 * as a last line of defence; code should not log them in the first place.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const redactPaths = ['msisdn', 'ip', '*.msisdn', '*.ip', '*.*.msisdn', '*.*.ip', 'password', '*.password'];

export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { level, base: { app: 'tapline' }, redact: { paths: redactPaths, censor: '[redacted]' } },
    destination as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
