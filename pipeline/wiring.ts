/**
 * Builds the streaming worker from the configuration: codecs (schemas/), phone hashing, the detector
 * on the Redis store (operators/), the DLQ encoding (sinks/dlq.ts), plugged into the topology
 * (pipeline/topology.ts) and run by the Kafka runtime (pipeline/worker.ts). `tapline run` and
 * `tapline demo` both start workers through here.
 */
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { TaplineError } from './errors.ts';
import { createKafka, ensureTopics, kafkaUnavailable } from './kafka.ts';
import type { Logger } from './logger.ts';
import { createWorkerMetrics, startMetricsServer, type WorkerMetrics } from './metrics.ts';
import { createTopology, type Stages } from './topology.ts';
import { startWorker, type RunningWorker } from './worker.ts';
import { createCodec } from '../schemas/codec.ts';
import { enrichTap } from '../schemas/msisdn.ts';
import { createDetector, type Detector } from '../operators/detector.ts';
import { createRedisStore } from '../operators/redisStore.ts';
import { openGeo } from '../operators/geo.ts';
import { defaultRuleSet, loadRulesFile, watchRules, type Rules } from '../operators/rulesFile.ts';
import { hashMsisdn } from '../schemas/msisdn.ts';
import { toDlqRecord } from '../sinks/dlq.ts';

export interface StartedWorker extends RunningWorker {
  metrics: WorkerMetrics;
  detector: Detector;
  /** Port of /metrics, /healthz, /readyz (when enabled). */
  metricsPort: number | null;
}

function loadRules(config: Config): Rules {
  const hash = (msisdn: string) => hashMsisdn(msisdn, config.secrets.piiKey!);
  return config.detection.rulesPath
    ? loadRulesFile(config.detection.rulesPath, { hashMsisdn: hash })
    : defaultRuleSet();
}

async function connectRedis(config: Config, logger: Logger): Promise<Redis> {
  const log = logger.child({ component: 'redis' });
  const host = new URL(config.redis.url).host;
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    // While Redis is down, a command fails after one reconnection attempt instead of waiting in the
    // client's queue: the worker then retries the whole batch with backoff and says so
    // (pipeline/worker.ts). Reconnection itself never gives up.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // One line per outage, not one per reconnection attempt (ioredis prints unhandled errors raw).
  let down = false;
  redis.on('error', (e: Error) => {
    if (down) return;
    down = true;
    log.error(
      { err: e, redis: host },
      'Redis connection lost (REDIS_URL); reconnecting, batches wait and are retried meanwhile',
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: host }, 'Redis reachable again');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw new TaplineError(
      'REDIS_UNAVAILABLE',
      `Cannot reach Redis at REDIS_URL (${new URL(config.redis.url).host}): ${(e as Error).message}. ` +
        'Start it with `npm run services -- up redis` or point REDIS_URL at a running server.',
      { cause: e, canRetry: true },
    );
  }
  return redis;
}

export async function startWorkerFromConfig(config: Config, logger: Logger): Promise<StartedWorker> {
  const log = logger.child({ component: 'wiring' });
  const pii = { key: config.secrets.piiKey!, version: config.secrets.piiKeyVersion };
  const dataKey = config.secrets.dataKey!;
  const codec = createCodec();
  const geo = await openGeo(config.detection.geoDbPath);
  const redis = await connectRedis(config, logger);
  const store = createRedisStore({ redis, keyPrefix: config.redis.keyPrefix });
  const detector = createDetector({
    store,
    rules: loadRules(config),
    geo,
    tapIndexDays: config.detection.tapIndexDays,
  });
  const watcher = config.detection.rulesPath
    ? watchRules(
        config.detection.rulesPath,
        (rules) => {
          detector.setRules(rules);
          log.info({ version: rules.version }, 'rules reloaded');
        },
        (e) => log.error({ err: e }, 'rules file change refused; keeping the rules in force'),
        { hashMsisdn: (m: string) => hashMsisdn(m, pii.key) },
      )
    : null;

  const t = config.kafka.topics;
  const stages: Stages = {
    decode(record) {
      if (!record.value)
        return { ok: false, code: 'DECODE_FAILED', reason: 'record has no value (tombstone)' };
      const kind = record.topic === t.taps ? 'tap' : 'adjustment';
      const decoded = codec.decode(kind, record.value);
      if (!decoded.ok) return decoded;
      return { ok: true, record: { type: kind, ...decoded.value } as never };
    },
    enrich(tap) {
      const { type: _type, ...raw } = tap;
      const enriched = enrichTap(raw, pii);
      if ('error' in enriched) return { ok: false, code: 'VALIDATION_FAILED', reason: enriched.error };
      return { ok: true, tap: enriched };
    },
    async detect(inputs) {
      const outcomes = await detector.processBatch(
        inputs.map((i) =>
          i.kind === 'tap'
            ? {
                kind: 'lazyTap',
                prepare: i.prepare,
                source: `${i.source.topic}/${i.source.partition}/${i.source.offset}`,
              }
            : {
                kind: 'adjustment',
                adjustment: i.adjustment,
                source: `${i.source.topic}/${i.source.partition}/${i.source.offset}`,
              },
        ),
      );
      return outcomes;
    },
    encodeDecision: (d) => codec.encode('decision', d),
    encodeAlert: (a) => codec.encode('alert', a),
    encodeEnrichedTap: (tap) => codec.encode('tapEnriched', tap),
    encodeAppliedAdjustment: (a) => codec.encode('adjustmentApplied', a),
    encodeDlq: (record, code, reason) =>
      codec.encode(
        'dlq',
        toDlqRecord(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            code,
            reason,
            bytes: record.value ?? Buffer.alloc(0),
            failedAt: Date.now(),
          },
          dataKey,
        ),
      ),
  };

  const metrics = createWorkerMetrics();
  const topology = createTopology({
    stages,
    topics: { ...t },
    metrics,
    adjustmentWaitMs: config.detection.adjustmentWaitMs,
  });
  const kafka = createKafka(config, logger, 'worker');
  try {
    await ensureTopics(kafka, [
      t.taps,
      t.adjustments,
      t.adjustmentsRetry,
      t.decisions,
      t.alerts,
      t.dlq,
      t.tapsEnriched,
      t.adjustmentsEnriched,
    ]);
  } catch (e) {
    redis.disconnect();
    throw kafkaUnavailable(config, e);
  }
  let worker: RunningWorker;
  try {
    worker = await startWorker({
      kafka,
      logger,
      metrics,
      topology,
      groupId: config.kafka.workerGroup,
      transactionalId: `${config.kafka.workerGroup}-${config.worker.id}`,
      inputTopics: [t.taps, t.adjustments],
      retryTopic: t.adjustmentsRetry,
      maxInflight: config.worker.maxInflight,
      sessionTimeoutMs: config.worker.sessionTimeoutMs,
      fetchMaxBytes: config.worker.fetchMaxBytes,
    });
  } catch (e) {
    redis.disconnect();
    throw kafkaUnavailable(config, e);
  }
  const server =
    config.worker.metricsPort > 0
      ? await startMetricsServer(
          metrics.registry,
          { live: () => true, ready: () => worker.ready() },
          config.worker.metricsPort,
        ).catch((e: unknown) => {
          log.warn({ err: e, port: config.worker.metricsPort }, 'metrics endpoint not started');
          return null;
        })
      : null;
  log.info(
    { group: config.kafka.workerGroup, worker: config.worker.id, metricsPort: server?.port ?? null },
    'worker started',
  );
  return {
    ...worker,
    metrics,
    detector,
    metricsPort: server?.port ?? null,
    async stop() {
      await worker.stop();
      watcher?.close();
      await server?.close();
      await store.close?.();
      redis.disconnect();
    },
  };
}
