/**
 * The one typed configuration object. Parsed and validated once at start-up from the environment
 * (and an optional JSON or YAML file named by TAPLINE_CONFIG, which the environment overrides);
 * nothing else in Tapline reads process.env. Every field is documented with its variable and default.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { TaplineError } from './errors.ts';

/** Development default for the PII key: usable only when TAPLINE_ENV=development. */
export const DEV_PII_KEY = 'tapline-development-pii-key-not-secret';
/** Development default for the DLQ data key (32 bytes, hex). */
export const DEV_DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

const brokerList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port')).min(1));

const positiveInt = z.coerce.number().int().positive();
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const configSchema = z.object({
  /** TAPLINE_ENV: `development` allows built-in development secrets; `production` requires real ones. @default development */
  env: z.enum(['development', 'production', 'test']).default('development'),
  /** LOG_LEVEL: pino level. @default info */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  kafka: z.object({
    /** KAFKA_BROKERS: comma-separated host:port list. @default 127.0.0.1:9092 */
    brokers: brokerList.default(['127.0.0.1:9092']),
    /** KAFKA_CLIENT_ID. @default tapline */
    clientId: z.string().min(1).default('tapline'),
    /** KAFKA_SASL_MECHANISM: none, plain, scram-sha-256 or scram-sha-512. @default none */
    saslMechanism: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
    /** KAFKA_SASL_USERNAME */
    saslUsername: z.string().optional(),
    /** KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) */
    saslPassword: z.string().optional(),
    /** KAFKA_SSL: connect with TLS (the certificate is always verified). @default false */
    ssl: bool.default(false),
    /** KAFKA_SSL_CA_FILE: PEM file of the CA(s) that signed the brokers' certificates; unset means the system's CAs. */
    sslCaFile: z.string().min(1).optional(),
    /** KAFKA_SSL_CERT_FILE: PEM client certificate, for brokers that require one (mutual TLS). */
    sslCertFile: z.string().min(1).optional(),
    /** KAFKA_SSL_KEY_FILE: PEM private key of KAFKA_SSL_CERT_FILE. */
    sslKeyFile: z.string().min(1).optional(),
    /** KAFKA_SSL_KEY_PASSWORD (or KAFKA_SSL_KEY_PASSWORD_FILE): passphrase of an encrypted KAFKA_SSL_KEY_FILE. */
    sslKeyPassword: z.string().optional(),
    /** KAFKA_VERSION: the broker release the scripts provision. @default 3.9.1 */
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .default('3.9.1'),
    topics: z.object({
      /** TOPIC_TAPS @default taps */
      taps: z.string().min(1).default('taps'),
      /** TOPIC_ADJUSTMENTS @default adjustments */
      adjustments: z.string().min(1).default('adjustments'),
      /** TOPIC_DECISIONS @default decisions */
      decisions: z.string().min(1).default('decisions'),
      /** TOPIC_ALERTS @default fraud-alerts */
      alerts: z.string().min(1).default('fraud-alerts'),
      /** TOPIC_DLQ @default taps-dlq */
      dlq: z.string().min(1).default('taps-dlq'),
      /** TOPIC_TAPS_ENRICHED: validated taps (phone hashed) for the sink. @default taps-enriched */
      tapsEnriched: z.string().min(1).default('taps-enriched'),
      /** TOPIC_ADJUSTMENTS_ENRICHED: applied adjustments for the sink. @default adjustments-enriched */
      adjustmentsEnriched: z.string().min(1).default('adjustments-enriched'),
      /** TOPIC_ADJUSTMENTS_RETRY: adjustments waiting for their tap. @default adjustments-retry */
      adjustmentsRetry: z.string().min(1).default('adjustments-retry'),
    }),
    /** TAPLINE_WORKER_GROUP: consumer group of `tapline run`. @default tapline-workers */
    workerGroup: z.string().min(1).default('tapline-workers'),
    /** TAPLINE_SINK_GROUP: consumer group of `tapline sink`. @default tapline-sink */
    sinkGroup: z.string().min(1).default('tapline-sink'),
  }),
  redis: z.object({
    /** REDIS_URL @default redis://127.0.0.1:6379 */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'expected redis://host:port')
      .default('redis://127.0.0.1:6379'),
    /** REDIS_KEY_PREFIX: every key Tapline writes starts with it (ACLs can be limited to it). @default tl: */
    keyPrefix: z.string().default('tl:'),
  }),
  clickhouse: z.object({
    /** CLICKHOUSE_URL: a ClickHouse server over HTTP; unset means embedded chDB. */
    url: z.string().url().optional(),
    /** CLICKHOUSE_USER @default default */
    user: z.string().default('default'),
    /** CLICKHOUSE_PASSWORD (or CLICKHOUSE_PASSWORD_FILE) @default empty */
    password: z.string().default(''),
    /** CLICKHOUSE_DATABASE @default tapline */
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier')
      .default('tapline'),
    /** CHDB_PATH: data directory of the embedded store. @default ./data/chdb */
    chdbPath: z.string().min(1).default('./data/chdb'),
    /** CLICKHOUSE_RETENTION_YEARS: how long transaction rows are kept. @default 5 */
    retentionYears: positiveInt.default(5),
    /** TAPLINE_QUERY_PORT: 127.0.0.1 port where the process owning the embedded store answers `tapline query`; 0 disables. @default 8124 */
    queryPort: z.coerce.number().int().min(0).max(65535).default(8124),
  }),
  schemaRegistry: z.object({
    /** SCHEMA_REGISTRY_URL: a Confluent-compatible registry; unset means the bundled local catalog. */
    url: z.string().url().optional(),
  }),
  secrets: z.object({
    /** TAPLINE_PII_KEY (or TAPLINE_PII_KEY_FILE): HMAC key for phone-number hashes. */
    piiKey: z.string().min(16, 'must be at least 16 characters').optional(),
    /** TAPLINE_PII_KEY_VERSION: recorded beside every hash so keys can rotate. @default 1 */
    piiKeyVersion: positiveInt.default(1),
    /** TAPLINE_DATA_KEY (or TAPLINE_DATA_KEY_FILE): AES-256-GCM key for DLQ payloads, 64 hex chars. */
    dataKey: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters (32 bytes)')
      .optional(),
  }),
  detection: z.object({
    /** TAPLINE_RULES: rules file (JSON or YAML); unset means DESIGN.md's defaults. */
    rulesPath: z.string().optional(),
    /** TAPLINE_GEOIP_DB: a MaxMind-format city database; unset means the bundled GeoLite2 City. */
    geoDbPath: z.string().optional(),
    /** TAPLINE_TAP_INDEX_DAYS: how long adjustments can find their tap. @default 400 */
    tapIndexDays: positiveInt.default(400),
    /** TAPLINE_ADJUSTMENT_WAIT_MS: how long an adjustment waits for its unknown tap before the DLQ. @default 30000 */
    adjustmentWaitMs: z.coerce.number().int().nonnegative().default(30_000),
  }),
  worker: z.object({
    /** TAPLINE_WORKER_ID: stable per worker instance (its Kafka transactional id). @default the host name */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore')
      .default(hostname()),
    /** TAPLINE_METRICS_PORT: /metrics, /healthz and /readyz; 0 disables. @default 9464 */
    metricsPort: z.coerce.number().int().min(0).max(65535).default(9464),
    /** TAPLINE_SHUTDOWN_MS: deadline for a graceful stop. @default 15000 */
    shutdownMs: positiveInt.default(15_000),
    /** TAPLINE_MAX_INFLIGHT: records a worker may hold before it pauses fetching. @default 20000 */
    maxInflight: positiveInt.default(20_000),
    /**
     * TAPLINE_SESSION_TIMEOUT_MS: how long the group waits for a silent worker (frozen, cut off) before
     * giving its partitions to another member. Heartbeats go every third of it, at most every 3 s.
     * Within the broker's group.min/max.session.timeout.ms (6 s to 30 min by default). @default 30000
     */
    sessionTimeoutMs: z.coerce.number().int().min(6_000).max(1_800_000).default(30_000),
    /**
     * TAPLINE_FETCH_MAX_BYTES: bytes a worker fetches at a time, from one partition or several. A
     * fetch's records are decided together and committed in one transaction, so a larger fetch spreads
     * each transaction's fixed cost over more taps but holds more in memory (docs/BENCHMARKS.md, the
     * worker's cycle and the per-partition fetch limit).
     * @default 262144
     */
    fetchMaxBytes: z.coerce.number().int().min(65_536).max(16_777_216).default(262_144),
  }),
});

export type Config = z.infer<typeof configSchema>;
type Env = Record<string, string | undefined>;

/** Maps each environment variable to its place in the config object. */
const envMap: Record<string, string> = {
  TAPLINE_ENV: 'env',
  LOG_LEVEL: 'logLevel',
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_CLIENT_ID: 'kafka.clientId',
  KAFKA_SASL_MECHANISM: 'kafka.saslMechanism',
  KAFKA_SASL_USERNAME: 'kafka.saslUsername',
  KAFKA_SASL_PASSWORD: 'kafka.saslPassword',
  KAFKA_SSL: 'kafka.ssl',
  KAFKA_SSL_CA_FILE: 'kafka.sslCaFile',
  KAFKA_SSL_CERT_FILE: 'kafka.sslCertFile',
  KAFKA_SSL_KEY_FILE: 'kafka.sslKeyFile',
  KAFKA_SSL_KEY_PASSWORD: 'kafka.sslKeyPassword',
  KAFKA_VERSION: 'kafka.version',
  TOPIC_TAPS: 'kafka.topics.taps',
  TOPIC_ADJUSTMENTS: 'kafka.topics.adjustments',
  TOPIC_DECISIONS: 'kafka.topics.decisions',
  TOPIC_ALERTS: 'kafka.topics.alerts',
  TOPIC_DLQ: 'kafka.topics.dlq',
  TOPIC_TAPS_ENRICHED: 'kafka.topics.tapsEnriched',
  TOPIC_ADJUSTMENTS_ENRICHED: 'kafka.topics.adjustmentsEnriched',
  TOPIC_ADJUSTMENTS_RETRY: 'kafka.topics.adjustmentsRetry',
  TAPLINE_WORKER_GROUP: 'kafka.workerGroup',
  TAPLINE_SINK_GROUP: 'kafka.sinkGroup',
  REDIS_URL: 'redis.url',
  REDIS_KEY_PREFIX: 'redis.keyPrefix',
  CLICKHOUSE_URL: 'clickhouse.url',
  CLICKHOUSE_USER: 'clickhouse.user',
  CLICKHOUSE_PASSWORD: 'clickhouse.password',
  CLICKHOUSE_DATABASE: 'clickhouse.database',
  CHDB_PATH: 'clickhouse.chdbPath',
  CLICKHOUSE_RETENTION_YEARS: 'clickhouse.retentionYears',
  TAPLINE_QUERY_PORT: 'clickhouse.queryPort',
  SCHEMA_REGISTRY_URL: 'schemaRegistry.url',
  TAPLINE_PII_KEY: 'secrets.piiKey',
  TAPLINE_PII_KEY_VERSION: 'secrets.piiKeyVersion',
  TAPLINE_DATA_KEY: 'secrets.dataKey',
  TAPLINE_RULES: 'detection.rulesPath',
  TAPLINE_GEOIP_DB: 'detection.geoDbPath',
  TAPLINE_TAP_INDEX_DAYS: 'detection.tapIndexDays',
  TAPLINE_ADJUSTMENT_WAIT_MS: 'detection.adjustmentWaitMs',
  TAPLINE_WORKER_ID: 'worker.id',
  TAPLINE_METRICS_PORT: 'worker.metricsPort',
  TAPLINE_SHUTDOWN_MS: 'worker.shutdownMs',
  TAPLINE_MAX_INFLIGHT: 'worker.maxInflight',
  TAPLINE_SESSION_TIMEOUT_MS: 'worker.sessionTimeoutMs',
  TAPLINE_FETCH_MAX_BYTES: 'worker.fetchMaxBytes',
};

/** Variables whose value may instead be read from a file named by VAR_FILE (for mounted secrets). */
const fileSecrets = [
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SSL_KEY_PASSWORD',
  'CLICKHOUSE_PASSWORD',
  'TAPLINE_PII_KEY',
  'TAPLINE_DATA_KEY',
];
const secretPaths = new Set([
  'kafka.saslPassword',
  'kafka.sslKeyPassword',
  'clickhouse.password',
  'secrets.piiKey',
  'secrets.dataKey',
]);
const pathToVar = new Map(Object.entries(envMap).map(([k, v]) => [v, k]));

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function readFileOption(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TaplineError('CONFIG_INVALID', `${what}: cannot read ${path} (${(e as Error).message}).`, {
      cause: e,
    });
  }
}

function rawConfig(env: Env): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const file = env['TAPLINE_CONFIG'];
  if (file) {
    const text = readFileOption(file, 'TAPLINE_CONFIG');
    try {
      Object.assign(raw, parseYaml(text) as Record<string, unknown>);
    } catch (e) {
      throw new TaplineError('CONFIG_INVALID', `TAPLINE_CONFIG: ${file} is not valid JSON or YAML.`, {
        cause: e,
      });
    }
  }
  for (const name of fileSecrets) {
    const path = env[`${name}_FILE`];
    if (path && env[name] === undefined)
      setPath(raw, envMap[name]!, readFileOption(path, `${name}_FILE`).trim());
  }
  for (const [name, path] of Object.entries(envMap)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  for (const section of [
    'kafka',
    'redis',
    'clickhouse',
    'schemaRegistry',
    'secrets',
    'detection',
    'worker',
  ]) {
    if (raw[section] === undefined) raw[section] = {};
  }
  const kafka = raw['kafka'] as Record<string, unknown>;
  if (kafka['topics'] === undefined) kafka['topics'] = {};
  return raw;
}

export interface LoadedConfig {
  config: Config;
  /** Human warnings about development defaults in use; the caller logs them once. */
  warnings: string[];
}

/** Parses and validates the configuration; throws CONFIG_INVALID or SECRET_MISSING naming the setting. */
export function loadConfig(env: Env = process.env): LoadedConfig {
  const parsed = configSchema.safeParse(rawConfig(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const segments = issue.path.map(String);
      while (segments.length > 1 && !pathToVar.has(segments.join('.'))) segments.pop();
      const path = segments.join('.');
      const name = pathToVar.get(path) ?? issue.path.join('.');
      const shown = secretPaths.has(path) ? '' : ` (got ${JSON.stringify(getPath(rawConfig(env), path))})`;
      return `${name}: ${issue.message}${shown}`;
    });
    throw new TaplineError('CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = parsed.data;
  const warnings: string[] = [];
  if (config.env === 'production') {
    const missing = [
      config.secrets.piiKey ? null : 'TAPLINE_PII_KEY',
      config.secrets.dataKey ? null : 'TAPLINE_DATA_KEY',
    ].filter((m): m is string => m !== null);
    if (missing.length > 0) {
      throw new TaplineError(
        'SECRET_MISSING',
        `TAPLINE_ENV=production needs ${missing.join(' and ')} (or the matching *_FILE variable); ` +
          `the development defaults are refused in production.`,
      );
    }
  } else {
    if (!config.secrets.piiKey) {
      config.secrets.piiKey = DEV_PII_KEY;
      warnings.push(
        'TAPLINE_PII_KEY is not set: using the public development key; phone hashes are not secret.',
      );
    }
    if (!config.secrets.dataKey) {
      config.secrets.dataKey = DEV_DATA_KEY;
      warnings.push(
        'TAPLINE_DATA_KEY is not set: using the public development key; DLQ payloads are not secret.',
      );
    }
  }
  if (config.kafka.saslMechanism !== 'none' && (!config.kafka.saslUsername || !config.kafka.saslPassword)) {
    throw new TaplineError(
      'CONFIG_INVALID',
      `KAFKA_SASL_MECHANISM=${config.kafka.saslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.`,
    );
  }
  checkKafkaTls(config.kafka);
  return { config, warnings };
}

/** TLS files must go with KAFKA_SSL=true, a certificate with its key, and every file must be readable. */
function checkKafkaTls(k: Config['kafka']): void {
  const files: Array<[string, string | undefined]> = [
    ['KAFKA_SSL_CA_FILE', k.sslCaFile],
    ['KAFKA_SSL_CERT_FILE', k.sslCertFile],
    ['KAFKA_SSL_KEY_FILE', k.sslKeyFile],
  ];
  const set = files.filter(([, path]) => path !== undefined);
  if (!k.ssl && set.length > 0) {
    throw new TaplineError(
      'CONFIG_INVALID',
      `${set.map(([name]) => name).join(' and ')} set but KAFKA_SSL is not true: set KAFKA_SSL=true to connect with TLS.`,
    );
  }
  if ((k.sslCertFile === undefined) !== (k.sslKeyFile === undefined)) {
    throw new TaplineError(
      'CONFIG_INVALID',
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: a client certificate needs its private key.',
    );
  }
  for (const [name, path] of set) readFileOption(path!, name);
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Names of the environment variables, for the README and `--help`. */
export const configVariables = Object.keys(envMap);
