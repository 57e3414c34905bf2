/**
 * Worker metrics on their own channel (Prometheus, via prom-client) and the small HTTP endpoint that
 * serves /metrics, /healthz and /readyz. Business output never carries these figures.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  recordsIn: Counter<'topic'>;
  recordsOut: Counter<'outcome'>;
  ruleHits: Counter<'rule'>;
  dlq: Counter<'code'>;
  batchSeconds: Histogram;
  batchesPerDecision: Histogram;
  batchRetries: Counter<'code'>;
  batchesAbandoned: Counter<'code'>;
  groupRejoins: Counter;
  decisionLatencySeconds: Histogram;
  commitVisibleSeconds: Histogram;
  cyclePhaseSeconds: Histogram<'phase'>;
  consumerLag: Gauge<'topic' | 'partition'>;
  inflight: Gauge;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tapline_' });
  return {
    registry,
    recordsIn: new Counter({
      name: 'tapline_records_in_total',
      help: 'Records consumed, by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    recordsOut: new Counter({
      name: 'tapline_records_out_total',
      help: 'Records finished, by outcome (allow, review, block, duplicate, adjustment, pending, rejected)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ruleHits: new Counter({
      name: 'tapline_rule_hits_total',
      help: 'Rules fired, by rule id',
      labelNames: ['rule'],
      registers: [registry],
    }),
    dlq: new Counter({
      name: 'tapline_dlq_total',
      help: 'Records sent to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'tapline_batch_seconds',
      help: 'Time to process and commit one batch',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchesPerDecision: new Histogram({
      name: 'tapline_batches_per_decision',
      help: 'Batches decided together in one detector call (the batches of one fetch, one per partition)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    batchRetries: new Counter({
      name: 'tapline_batch_retries_total',
      help: 'Batch attempts that failed with a retriable error (Redis unavailable) and were tried again',
      labelNames: ['code'],
      registers: [registry],
    }),
    batchesAbandoned: new Counter({
      name: 'tapline_batches_abandoned_total',
      help:
        'Batches left uncommitted because this worker lost its group membership (rebalance, session timeout, ' +
        "coordinator moved) while deciding or committing them; the partition's next owner processes them",
      labelNames: ['code'],
      registers: [registry],
    }),
    groupRejoins: new Counter({
      name: 'tapline_group_rejoins_total',
      help: 'Times the worker reconnected its consumer itself after a crash kafkajs does not restart',
      registers: [registry],
    }),
    commitVisibleSeconds: new Histogram({
      name: 'tapline_commit_visible_seconds',
      help:
        'From a commit returning to the group offset fetch showing its offsets (the commit markers written); ' +
        'a rebalance waits for it',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 5, 30],
      registers: [registry],
    }),
    cyclePhaseSeconds: new Histogram({
      name: 'tapline_cycle_phase_seconds',
      help:
        "Time of each phase of a fetch's cycle, one after the other: fetch (from the previous commit showing " +
        'to the next records handed over: the fetch, or waiting for records), decide (the detector call for ' +
        "the fetch's batches, Redis included, retries too), produce (the transaction's output records), " +
        'offsets (the consumed offsets added to the transaction), membership (the check that the group still ' +
        'counts this worker), commit; then tapline_commit_visible_seconds',
      labelNames: ['phase'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    decisionLatencySeconds: new Histogram({
      name: 'tapline_produce_to_decision_seconds',
      help: 'From the tap record timestamp on Kafka to its decision being committed',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'tapline_consumer_lag',
      help:
        'Records (offsets) on the partition not yet processed: end offset minus the group committed offset, ' +
        'read from Kafka every few seconds for the partitions this worker owns, so it grows while the worker stalls',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'tapline_inflight_records',
      help: 'Records fetched and not yet committed',
      registers: [registry],
    }),
  };
}

export interface HealthState {
  live(): boolean;
  ready(): boolean;
}

/** Serves /metrics, /healthz and /readyz on 127.0.0.1:port (0 = a free port). */
export async function startMetricsServer(
  registry: Registry,
  health: HealthState,
  port: number,
  host = '127.0.0.1',
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if (req.url === '/healthz') {
        res.statusCode = health.live() ? 200 : 503;
        res.end(health.live() ? 'ok\n' : 'not live\n');
      } else if (req.url === '/readyz') {
        res.statusCode = health.ready() ? 200 : 503;
        res.end(health.ready() ? 'ready\n' : 'not ready\n');
      } else {
        res.statusCode = 404;
        res.end('not found\n');
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
