/**
 * Consumer lag measured from the broker, not from the batches: every few seconds the worker asks Kafka
 * for the end offsets of its partitions and its group's committed offsets. Per-batch figures freeze
 * exactly when lag matters (a stalled worker processes no batch); these keep moving while it waits.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from './logger.ts';
import type { WorkerMetrics } from './metrics.ts';

/** Partitions by topic, as kafkajs reports a member's assignment on GROUP_JOIN. */
export type Assignment = Record<string, number[]>;

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Lag per assigned partition: the end offset readable under read_committed minus the group's
 * committed offset (the next record to process). A partition the group never committed starts at the
 * topic's earliest offset (the worker subscribes from the beginning).
 */
export function partitionLags(
  assignment: Assignment,
  ends: Record<string, Array<{ partition: number; high: string; low: string }>>,
  committed: Record<string, Array<{ partition: number; offset: string }>>,
): PartitionLag[] {
  const out: PartitionLag[] = [];
  for (const [topic, partitions] of Object.entries(assignment)) {
    for (const partition of partitions) {
      const end = ends[topic]?.find((e) => e.partition === partition);
      if (!end) continue;
      const done = committed[topic]?.find((c) => c.partition === partition)?.offset;
      const next = done === undefined || Number(done) < 0 ? Number(end.low) : Number(done);
      out.push({ topic, partition, lag: Math.max(0, Number(end.high) - next) });
    }
  }
  return out;
}

export interface LagMonitorOptions {
  kafka: Kafka;
  groupId: string;
  metrics: WorkerMetrics;
  logger: Logger;
  /** The member's current assignment (empty before it joins the group). */
  assignment: () => Assignment;
  /** @default 5000 */
  intervalMs?: number;
}

/** Polls lag for the assigned partitions until `stop()`. A poll never overlaps the previous one. */
export function startLagMonitor(options: LagMonitorOptions): { stop(): Promise<void> } {
  const log = options.logger.child({ component: 'consumer-lag' });
  // One retry: a poll that fails is simply tried again at the next tick.
  const admin: Admin = options.kafka.admin({ retry: { retries: 1 } });
  let connected = false;
  let running: Promise<void> | null = null;
  let failures = 0;

  async function poll(): Promise<void> {
    const assignment = options.assignment();
    const topics = Object.keys(assignment);
    if (topics.length === 0) return;
    if (!connected) {
      await admin.connect();
      connected = true;
    }
    const ends: Parameters<typeof partitionLags>[1] = {};
    for (const topic of topics) ends[topic] = await admin.fetchTopicOffsets(topic);
    const committed: Parameters<typeof partitionLags>[2] = {};
    for (const t of await admin.fetchOffsets({ groupId: options.groupId, topics }))
      committed[t.topic] = t.partitions;
    for (const { topic, partition, lag } of partitionLags(assignment, ends, committed))
      options.metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
  }

  const timer = setInterval(() => {
    if (running) return;
    running = poll()
      .then(() => {
        if (failures > 0) log.info({ failures }, 'consumer lag readable again');
        failures = 0;
      })
      .catch((e: unknown) => {
        // Kafka itself is down or slow: the worker's own errors say so; note it once per outage.
        if (failures++ === 0) log.warn({ err: e }, 'consumer lag not readable from Kafka; will retry');
      })
      .finally(() => {
        running = null;
      });
  }, options.intervalMs ?? 5_000);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await running;
      if (connected) await admin.disconnect().catch(() => {});
    },
  };
}
