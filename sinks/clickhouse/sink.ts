/**
 * `tapline sink`: the one consumer group that owns ClickHouse. It reads the four topics the workers
 * publish, buffers rows per table, and about once a second (or at `batchRows`) writes one insert per
 * table, then commits the consumed offsets: offsets move only after ClickHouse acknowledged.
 *
 * Exactly-once rows, in two layers (docs/ANALYSTS.md, "Exactly once"):
 * - a retried insert carries the same dedup token (table + offset ranges), so ClickHouse keeps it once;
 * - after a crash the uncommitted tail is read again, possibly cut into other batches (other tokens):
 *   those copies are folded by ReplacingMergeTree and, before merges, by the *_unique views.
 *
 * While ClickHouse is down the flush keeps retrying inside the consumer's batch handler, so kafkajs
 * stops fetching: rows held in memory (buffered plus taken by an unacknowledged insert) never pass
 * `maxBufferedRows`, beside the one fetch kafkajs holds (at most 32 MB, `maxBytes`).
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../../pipeline/config.ts';
import type { Logger } from '../../pipeline/logger.ts';
import type { AppliedAdjustment } from '../../pipeline/topology.ts';
import type { Alert, Decision, EnrichedTap } from '../../schemas/types.ts';
import { BatchBuffer, type FlushPlan } from './batchBuffer.ts';
import { withRetry } from './retry.ts';
import { adjustmentRow, alertRow, decisionRow, tapRow, type TableName } from './rows.ts';
import type { AnalystStore } from './store.ts';

/** The codec kinds the sink reads (schemas/codec.ts). */
export type SinkKind = 'tapEnriched' | 'adjustment' | 'decision' | 'alert';
/** Decodes a Kafka value of a kind (sync or async); throws on bytes it cannot read. */
export type SinkDecoder = (kind: SinkKind, value: Buffer) => unknown;

export interface SinkOptions {
  config: Config;
  logger: Logger;
  store: AnalystStore;
  kafka: Kafka;
  decode: SinkDecoder;
  /** Flush when this many rows are buffered. @default 20000 */
  batchRows?: number;
  /** Flush at least this often while rows wait. @default 1000 */
  flushMs?: number;
  /**
   * Block consumption once this many rows are held (buffered, or in an insert not yet acknowledged).
   * @default 4 × batchRows
   */
  maxBufferedRows?: number;
  /** Topic names; @default config.kafka.topics */
  topics?: Partial<Record<SinkKind, string>>;
  /** Consumer group; @default config.kafka.sinkGroup */
  groupId?: string;
}

export interface SinkStats {
  /** Rows acknowledged by ClickHouse. */
  rowsWritten: number;
  inserts: number;
  /** Records that could not be decoded (logged with their position, skipped). */
  undecodable: number;
  flushes: number;
  /** Failed insert attempts that were retried (ClickHouse away or busy). */
  retries: number;
  /** Rows held now: buffered plus taken by an insert not yet acknowledged. */
  pendingRows: number;
  /** The most rows ever held at once (never above maxBufferedRows). */
  maxPendingRows: number;
}

export interface RunningSink {
  /** Flushes what is buffered, commits, leaves the group; rejects with the insert failure, if any. */
  stop(): Promise<void>;
  stats(): SinkStats;
  /** Resolves once the consumer has joined its group. */
  started: Promise<void>;
  /**
   * Resolves (never rejects) with the error of an insert that failed for good (a permanent error such
   * as CLICKHOUSE_QUERY or CLICKHOUSE_AUTH, or a retry cut short by stop()). From then on the sink
   * writes and commits nothing: its uncommitted records are read again by the next run. Stop it.
   */
  failed: Promise<Error>;
}

const tableOf: Record<SinkKind, TableName> = {
  tapEnriched: 'taps',
  adjustment: 'adjustments',
  decision: 'decisions',
  alert: 'fraud_alerts',
};

function toRow(kind: SinkKind, value: unknown): object {
  switch (kind) {
    case 'tapEnriched':
      return tapRow(value as EnrichedTap);
    case 'adjustment':
      return adjustmentRow(value as AppliedAdjustment);
    case 'decision':
      return decisionRow(value as Decision);
    case 'alert':
      return alertRow(value as Alert);
  }
}

export async function startSink(options: SinkOptions): Promise<RunningSink> {
  const { config, store, decode } = options;
  const log = options.logger.child({ component: 'sink' });
  const batchRows = options.batchRows ?? 20_000;
  const flushMs = options.flushMs ?? 1_000;
  const maxBuffered = options.maxBufferedRows ?? batchRows * 4;
  const t = config.kafka.topics;
  const topics: Record<SinkKind, string> = {
    tapEnriched: options.topics?.tapEnriched ?? t.tapsEnriched,
    adjustment: options.topics?.adjustment ?? t.adjustmentsEnriched,
    decision: options.topics?.decision ?? t.decisions,
    alert: options.topics?.alert ?? t.alerts,
  };
  const kindOf = new Map(Object.entries(topics).map(([kind, topic]) => [topic, kind as SinkKind]));
  const stats: SinkStats = {
    rowsWritten: 0,
    inserts: 0,
    undecodable: 0,
    flushes: 0,
    retries: 0,
    pendingRows: 0,
    maxPendingRows: 0,
  };
  const buffer = new BatchBuffer();
  const stopSignal = new AbortController();
  let heartbeat: () => Promise<void> = async () => {};
  let flushing: Promise<void> = Promise.resolve();
  /** Rows of plans taken from the buffer and not yet acknowledged. */
  let inFlightRows = 0;
  /** Flushes queued or running; the timer adds none while one waits, so the queue stays short. */
  let queuedFlushes = 0;
  let stopping = false;
  /** Set when an insert failed for good: committing anything later would skip the rows it lost. */
  let failure: Error | undefined;
  let markFailed: (e: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => {
    markFailed = resolve;
  });
  const held = () => buffer.rows + inFlightRows;

  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId ?? config.kafka.sinkGroup,
    readUncommitted: false,
    maxBytesPerPartition: 4 * 1_048_576,
    maxBytes: 32 * 1_048_576,
    maxWaitTimeInMs: 250,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });

  async function writePlan(plan: FlushPlan): Promise<void> {
    for (const batch of plan.batches) {
      try {
        await withRetry(() => store.insert(batch.table, batch.rows, { dedupToken: batch.token }), {
          logger: log,
          what: `insert into ${batch.table}`,
          onWait: () => {
            stats.retries += 1;
            return heartbeat();
          },
          signal: stopSignal.signal,
        });
      } catch (e) {
        failure = e as Error;
        const code = (e as { code?: unknown }).code;
        log.error(
          { err: { code, message: failure.message }, table: batch.table },
          'insert failed for good: the sink stops writing and committing (uncommitted records are read again on restart)',
        );
        consumer.pause(Object.values(topics).map((topic) => ({ topic })));
        markFailed(failure);
        throw failure;
      }
      stats.inserts += 1;
      stats.rowsWritten += batch.rows.length;
    }
    if (plan.commits.length > 0) await consumer.commitOffsets(plan.commits);
    stats.flushes += 1;
    log.debug({ rows: plan.rows, tables: plan.batches.length }, 'flushed');
  }

  /** Serialises flushes: the timer and the batch handler never write at the same time. */
  function flush(): Promise<void> {
    queuedFlushes += 1;
    const run = flushing.then(async () => {
      if (failure) throw failure;
      if (!buffer.hasPositions) return;
      const plan = buffer.take();
      inFlightRows = plan.rows;
      try {
        await writePlan(plan);
      } finally {
        inFlightRows = 0;
      }
    });
    flushing = run
      .catch(() => {})
      .finally(() => {
        queuedFlushes -= 1;
      });
    return run;
  }

  /** A flush from the batch handler: after a failure for good it returns (the sink is paused). */
  async function flushFromBatch(): Promise<void> {
    try {
      await flush();
    } catch (e) {
      if (e !== failure) throw e;
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    heartbeat = payload.heartbeat;
    if (stopping || failure) return; // left uncommitted: read again after the restart
    const kind = kindOf.get(batch.topic);
    if (!kind) return;
    const now = Date.now();
    for (const message of batch.messages) {
      let row: object | null = null;
      if (message.value) {
        try {
          let decoded = decode(kind, message.value);
          if (decoded instanceof Promise) decoded = await decoded;
          row = toRow(kind, decoded);
        } catch (e) {
          stats.undecodable += 1;
          log.error(
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              reason: (e as Error).message,
            },
            'undecodable record skipped',
          );
        }
      }
      buffer.add(row === null ? null : tableOf[kind], row, batch.topic, batch.partition, message.offset, now);
      stats.maxPendingRows = Math.max(stats.maxPendingRows, held());
      // Waits for the insert in flight too: consumption stops here while ClickHouse is away.
      if (held() >= maxBuffered) await flushFromBatch();
      if (failure) return;
    }
    if (buffer.rows >= batchRows || (buffer.firstAt !== undefined && now - buffer.firstAt >= flushMs))
      await flushFromBatch();
    await payload.heartbeat();
  }

  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => markStarted());

  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch });

  // Idle partitions never call eachBatch again: the timer writes what waits there.
  const timer = setInterval(
    () => {
      const due = buffer.firstAt !== undefined && Date.now() - buffer.firstAt >= flushMs;
      // An insert failure is logged where it happens (writePlan) and reported through `failed`.
      if (due && queuedFlushes === 0 && !stopping && !failure)
        flush().catch((e: unknown) => {
          if (e !== failure) log.error({ err: (e as Error).message }, 'timed flush failed');
        });
    },
    Math.max(50, Math.floor(flushMs / 4)),
  );

  return {
    started,
    failed,
    stats: () => ({ ...stats, pendingRows: held() }),
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      stopSignal.abort();
      try {
        await flush();
      } finally {
        await consumer.disconnect();
        log.info({ ...stats }, 'sink stopped');
      }
    },
  };
}
