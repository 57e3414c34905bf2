/**
 * Kafka client construction from the configuration, kafkajs logs routed into pino, and the topics
 * Tapline needs. Connection failures become KAFKA_UNAVAILABLE errors naming KAFKA_BROKERS.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type ITopicConfig, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { TaplineError } from './errors.ts';

function logCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...rest } = log;
      // kafkajs logs broker addresses and error texts, never record payloads.
      const fields = { component: 'kafkajs', namespace: rest['namespace'], error: rest['error'] };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

function readTlsFile(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TaplineError('CONFIG_INVALID', `${variable}: cannot read ${path} (${(e as Error).message}).`, {
      cause: e,
    });
  }
}

/**
 * kafkajs `ssl` from KAFKA_SSL and its files: false, true (the system's CAs), or Node TLS options with
 * the CA, client certificate and key read from their files. The broker's certificate is always
 * verified (rejectUnauthorized stays true): there is deliberately no switch to turn that off.
 */
export function kafkaTls(k: Config['kafka']): boolean | ConnectionOptions {
  if (!k.ssl) return false;
  if (!k.sslCaFile && !k.sslCertFile) return true;
  const tls: ConnectionOptions = { rejectUnauthorized: true };
  if (k.sslCaFile) tls.ca = [readTlsFile(k.sslCaFile, 'KAFKA_SSL_CA_FILE')];
  if (k.sslCertFile) tls.cert = readTlsFile(k.sslCertFile, 'KAFKA_SSL_CERT_FILE');
  if (k.sslKeyFile) tls.key = readTlsFile(k.sslKeyFile, 'KAFKA_SSL_KEY_FILE');
  if (k.sslKeyPassword) tls.passphrase = k.sslKeyPassword;
  return tls;
}

export function createKafka(config: Config, logger: Logger, clientSuffix = ''): Kafka {
  const k = config.kafka;
  const options: KafkaConfig = {
    clientId: clientSuffix ? `${k.clientId}-${clientSuffix}` : k.clientId,
    brokers: k.brokers,
    ssl: kafkaTls(k),
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  };
  if (k.saslMechanism !== 'none') {
    options.sasl = {
      mechanism: k.saslMechanism,
      username: k.saslUsername ?? '',
      password: k.saslPassword ?? '',
    } as KafkaConfig['sasl'];
  }
  return new Kafka(options);
}

/** Turns a kafkajs connection failure into an error a person can act on. */
export function kafkaUnavailable(config: Config, cause: unknown): TaplineError {
  const message = String((cause as Error)?.message ?? cause).trim();
  const hint = tlsHint(config, message, cause);
  return new TaplineError(
    'KAFKA_UNAVAILABLE',
    `Cannot reach Kafka at ${config.kafka.brokers.join(',')} (KAFKA_BROKERS): ${message}. ` +
      (hint ??
        `Start the local broker with \`npm run services -- up kafka\` or point KAFKA_BROKERS at a running cluster.`),
    { cause, canRetry: hint === null },
  );
}

/** Node's TLS error codes that mean the broker's certificate could not be trusted. */
const untrustedCertificate =
  /SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate/i;

/** What to do about a TLS failure, or null when the failure is not about TLS. */
function tlsHint(config: Config, message: string, cause: unknown): string | null {
  const codes = [message];
  for (let c: unknown = cause; c instanceof Error; c = (c as { cause?: unknown }).cause) {
    codes.push(c.message, String((c as { code?: unknown }).code ?? ''));
  }
  const text = codes.join(' ');
  if (config.kafka.ssl && untrustedCertificate.test(text))
    return (
      "The broker's TLS certificate is not trusted: set KAFKA_SSL_CA_FILE to the PEM file of the CA that " +
      'signed it (and check that the certificate names the host in KAFKA_BROKERS).'
    );
  if (config.kafka.ssl && /handshake|certificate required|alert/i.test(text))
    return (
      'The TLS handshake failed: if the broker requires client certificates, set KAFKA_SSL_CERT_FILE and ' +
      'KAFKA_SSL_KEY_FILE; check that the listener at KAFKA_BROKERS speaks TLS.'
    );
  return null;
}

/** Creates the topics the pipeline reads and writes, if missing. Idempotent. */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions = 4,
  extra: Partial<ITopicConfig> = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          ...extra,
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
