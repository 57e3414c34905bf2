/**
 * Kafka client construction from the configuration, kafkajs logs routed into pino, and the topics
 * Tapline needs. Connection failures become KAFKA_UNAVAILABLE errors naming KAFKA_BROKERS.
 */
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

export function createKafka(config: Config, logger: Logger, clientSuffix = ''): Kafka {
  const k = config.kafka;
  const options: KafkaConfig = {
    clientId: clientSuffix ? `${k.clientId}-${clientSuffix}` : k.clientId,
    brokers: k.brokers,
    ssl: k.ssl,
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
  return new TaplineError(
    'KAFKA_UNAVAILABLE',
    `Cannot reach Kafka at ${config.kafka.brokers.join(',')} (KAFKA_BROKERS): ${(cause as Error)?.message ?? cause}. ` +
      `Start the local broker with \`npm run services -- up kafka\` or point KAFKA_BROKERS at a running cluster.`,
    { cause, canRetry: true },
  );
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
