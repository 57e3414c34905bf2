/**
 * The streaming worker's runtime: a kafkajs consumer group on the input topics, one Kafka transaction
 * per fetch carrying every output of its batches AND their consumed offsets (a group commit,
 * pipeline/commitGroups.ts), so a crash at any point either commits all of those effects or none.
 * Redis effects are idempotent per tap_id and adjustment_id, so the reprocessed batches after a crash
 * change no window and re-send the first decisions (see docs/EXACTLY_ONCE.md).
 *
 * What happens to each record is decided by the topology (pipeline/topology.ts); this file only moves
 * bytes between Kafka and it, commits, pauses under backpressure and shuts down cleanly.
 *
 * Backpressure: one batch per partition is in flight at a time, and the next fetch waits for all of
 * them. The batches of a fetch are decided together, in one detector call (pipeline/decisionQueue.ts),
 * and committed in one transaction: a record waits for one store round trip and one commit per fetch,
 * not one per partition. When Redis is slow the batches simply take longer; when Redis fails (a
 * retriable error), they are tried again with backoff, uncommitted, while the worker keeps heartbeating
 * so the group keeps its partitions. Nothing else is fetched meanwhile: the backlog stays in Kafka (the lag metric shows it),
 * memory holds one fetch, and the worker resumes on its own when Redis answers.
 */
import kafkajs, {
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Message,
  type Producer,
  type Transaction,
} from 'kafkajs';
import { createCommitGroups } from './commitGroups.ts';
import {
  awaitVisible,
  offsetKey,
  readCommitted,
  type PartitionOffset,
  type TopicPartitions,
} from './committedOffsets.ts';
import { startLagMonitor, type Assignment } from './consumerLag.ts';
import { createDecisionQueue } from './decisionQueue.ts';
import { isTaplineError } from './errors.ts';
import { createMembershipCheck, membershipError } from './groupMembership.ts';
import type { Logger } from './logger.ts';
import type { WorkerMetrics } from './metrics.ts';
import { tapPartitioner } from './partitioner.ts';
import type { BatchOutput, ConsumedRecord, OutputMessage, Topology } from './topology.ts';

export interface WorkerOptions {
  kafka: Kafka;
  logger: Logger;
  metrics: WorkerMetrics;
  topology: Topology;
  groupId: string;
  /** Stable per worker instance: a restarted worker fences its own unfinished transaction at once. */
  transactionalId: string;
  inputTopics: string[];
  /** Topic of adjustments waiting for their tap: records are paused until their not-before time. */
  retryTopic: string;
  /** Pause fetching while more than this many records are in flight. */
  maxInflight: number;
  /** A batch in flight longer than this makes the worker not ready (/readyz). @default 10000 */
  stallMs?: number;
  /** How often consumer lag is read from Kafka. @default 5000 */
  lagIntervalMs?: number;
  /** How long the group waits for a silent member before moving its partitions. @default 30000 */
  sessionTimeoutMs?: number;
  /** Bytes per fetch, from any mix of partitions (fetchLimits). @default 262144 */
  fetchMaxBytes?: number;
}

export interface RunningWorker {
  /** Resolves when the worker has stopped: batch in flight committed, connections closed. */
  stop(): Promise<void>;
  ready(): boolean;
  /** Resolves when the consumer has joined the group and fetches. */
  started: Promise<void>;
}

const NOT_BEFORE_HEADER = 'tapline-not-before';
/** Records and bytes per produce request: under the broker's message.max.bytes (1 MB by default). */
const PRODUCE_CHUNK = 1000;
const PRODUCE_CHUNK_BYTES = 512 * 1024;
/** Backoff between attempts of a batch that failed with a retriable error (Redis down). */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
/** Heartbeats every third of the session timeout, at most every 3 s, also while a batch is slow or retried. */
const HEARTBEAT_MAX_MS = 3_000;
/** Pause before the worker rejoins its group after a consumer crash kafkajs does not restart. */
const REJOIN_MS = 2_000;
/**
 * Batches of one fetch handed to eachBatch together (kafkajs's partitionsConsumedConcurrently), to be
 * committed in one transaction. More than the partitions a worker owns is harmless.
 */
const FETCH_PARTITIONS = 64;
/**
 * kafkajs's fetch limits for `fetchMaxBytes` per fetch: the whole of it for any one partition too. The
 * broker fills a fetch partition by partition, in the order of the request (kafkajs shuffles it on every
 * fetch, KIP-74), and past the first partition it skips any whose next record batch does not fit its
 * per-partition limit. A quarter per partition, as before, was below the producers' record batches
 * (~65 KiB per partition when 2,000 taps are sent at once to 4 partitions), so a fetch under a backlog
 * carried one record batch of one partition: ~520 taps instead of ~1,500, and one worker decided 17%
 * fewer taps/s (docs/BENCHMARKS.md, the per-partition fetch limit). The memory held is still at most
 * one fetch.
 */
export function fetchLimits(fetchMaxBytes = 262_144): { maxBytes: number; maxBytesPerPartition: number } {
  return { maxBytes: fetchMaxBytes, maxBytesPerPartition: fetchMaxBytes };
}

/** Delay before attempt `attempt + 1` of a failing batch: doubling from 100 ms, capped at 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt, 16));
}

/** Splits messages into chunks of at most PRODUCE_CHUNK records and about PRODUCE_CHUNK_BYTES bytes. */
export function produceChunks<T extends { key: string | null; value: Buffer }>(messages: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value.length + (m.key?.length ?? 0) + 64;
    if (current.length > 0 && (current.length >= PRODUCE_CHUNK || bytes + size > PRODUCE_CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Every output of the group's batches, in the order they were decided. Several produce requests per
 * transaction keep every record batch under the broker's message.max.bytes (1 MB by default),
 * whatever the size of the consumed batches; each request carries every topic of its chunk.
 */
async function produceOutputs(transaction: Transaction, members: GroupMember[]): Promise<void> {
  for (const chunk of produceChunks(members.flatMap((m) => m.messages))) {
    const byTopic = new Map<string, Message[]>();
    for (const m of chunk) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: m.value, headers: m.headers });
      byTopic.set(m.topic, list);
    }
    await transaction.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}

/** A decided batch waiting for its group's transaction. */
interface GroupMember {
  topic: string;
  partition: number;
  /** Offset of the batch's last record: the partition's committed offset becomes the next one. */
  lastOffset: string;
  /** Records consumed in the batch. */
  records: number;
  messages: OutputMessage[];
  payload: EachBatchPayload;
}

/** A fetched batch waiting for its decision. */
interface PendingBatch {
  payload: EachBatchPayload;
  records: ConsumedRecord[];
}

interface TopicPartition {
  topic: string;
  partition: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds since `since` (process.hrtime.bigint()). */
const secondsSince = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

function headerNumber(
  headers: EachBatchPayload['batch']['messages'][number]['headers'],
  name: string,
): number {
  const raw = headers?.[name];
  const text = Buffer.isBuffer(raw) ? raw.toString() : typeof raw === 'string' ? raw : undefined;
  return text === undefined ? 0 : Number(text);
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { kafka, logger, metrics, topology } = options;
  const log = logger.child({ component: 'worker' });
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatMs = Math.min(HEARTBEAT_MAX_MS, Math.floor(sessionTimeout / 3));
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    // A fetch's records are decided and held together (one transaction per fetch), so its size sets the
    // worker's working set under a backlog: 1 MiB per partition (kafkajs's default 10 MiB per fetch)
    // peaked near 900 MB RSS. 256 KiB per fetch by default, from one partition or several
    // (TAPLINE_FETCH_MAX_BYTES; docs/BENCHMARKS.md, worker memory and the worker's cycle).
    ...fetchLimits(options.fetchMaxBytes),
    maxWaitTimeInMs: 50,
    sessionTimeout,
    heartbeatInterval: heartbeatMs,
  });
  const newProducer = (): Producer =>
    kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      // kafkajs's default partitioning without its per-record allocations (pipeline/partitioner.ts).
      createPartitioner: tapPartitioner,
      // A transaction begun right after the previous commit is refused with CONCURRENT_TRANSACTIONS until
      // the broker has written the commit markers (a few ms): retry quickly rather than after the
      // client-wide 200 ms backoff, which would set the decision latency.
      retry: { initialRetryTime: 5, maxRetryTime: 1_000, retries: 12 },
    });
  let producer: Producer = newProducer();
  /** Set when the producer was replaced after a failed abort: connect it before the next batch. */
  let producerFresh = false;
  await producer.connect();
  /** Reads the group's committed offsets (pipeline/committedOffsets.ts). */
  const offsetsAdmin = kafka.admin();
  await offsetsAdmin.connect();
  const readOffsets = (wanted: TopicPartitions[]) => readCommitted(offsetsAdmin, options.groupId, wanted);
  await consumer.connect();
  await consumer.subscribe({ topics: [...options.inputTopics, options.retryTopic], fromBeginning: true });

  let ready = false;
  let stopping = false;
  /** The batch in flight failed with a retriable error and waits to be tried again. */
  let failing = false;
  /** When the batch in flight started (epoch ms), 0 when none is. */
  let batchSince = 0;
  let assignment: Assignment = {};
  const stallMs = options.stallMs ?? 10_000;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  /** The consumer was restarted by the worker after a crash, and has not joined the group since. */
  let rejoining = false;
  /** The check before each commit that the group still counts this worker (pipeline/groupMembership.ts). */
  const membership = createMembershipCheck({ heartbeatMs });
  // What vouches for the membership is when a heartbeat was sent, not when its answer was read: the
  // request event (on each response, before kafkajs's heartbeat event) carries the send time.
  let heartbeatSentAt = 0;
  consumer.on(consumer.events.REQUEST, (event) => {
    if (event.payload.apiName !== 'Heartbeat') return;
    heartbeatSentAt = event.payload.sentAt;
    log.debug({ sentAt: heartbeatSentAt, ms: event.payload.duration }, 'heartbeat response');
  });
  consumer.on(consumer.events.HEARTBEAT, () => membership.heartbeatAnswered(heartbeatSentAt));
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    membership.joined();
    assignment = event.payload.memberAssignment;
    if (rejoining) {
      rejoining = false;
      log.info({ assignment }, 'rejoined the consumer group after the crash');
    }
    ready = true;
    markStarted();
  });
  let rejoinTimer: NodeJS.Timeout | null = null;
  consumer.on(consumer.events.CRASH, (event) => {
    membership.crashed();
    ready = false;
    log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    // kafkajs restarts the consumer only after errors it deems retriable. Some failures while a broker
    // restarts are not ("Failed to find group coordinator"): the worker would stay up but idle, so it
    // rejoins the group itself, from the committed offsets, until the broker answers.
    if (!event.payload.restart) scheduleRejoin();
  });
  function scheduleRejoin(): void {
    if (stopping || rejoinTimer) return;
    rejoinTimer = setTimeout(() => {
      rejoinTimer = null;
      if (stopping) return;
      log.warn('rejoining the consumer group after a crash kafkajs does not restart');
      rejoining = true;
      metrics.groupRejoins.inc();
      // A failed start crashes again (and reschedules through the handler above); a failed connect lands here.
      consumer
        .connect()
        .then(() => consumer.run(runConfig))
        .catch((e: unknown) => {
          log.error({ err: e }, 'rejoin failed; trying again');
          scheduleRejoin();
        });
    }, REJOIN_MS);
  }
  const resumeTimers = new Set<NodeJS.Timeout>();
  /** When the last commit showed in the group's offsets, until the next records are handed over. */
  let cycleEndedAt: bigint | null = null;
  const phase = (name: string, since: bigint) =>
    metrics.cyclePhaseSeconds.observe({ phase: name }, secondsSince(since));

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (stopping || !payload.isRunning() || payload.isStale()) return;
    membership.fetched(payload);
    const started = process.hrtime.bigint();
    if (cycleEndedAt !== null) {
      phase('fetch', cycleEndedAt);
      cycleEndedAt = null;
    }
    let messages = batch.messages;
    if (log.isLevelEnabled('debug'))
      log.debug(
        {
          at: `${batch.topic}/${batch.partition}@${batch.firstOffset()}`,
          records: messages.length,
          generation: membership.generation,
        },
        'batch fetched',
      );
    if (batch.topic === options.retryTopic) {
      // Adjustments waiting for their tap: stop at the first one that is not due and pause the
      // partition until it is. No seek: kafkajs fetches a partition from the last offset resolved,
      // and this batch resolves its due records only once they are committed, so the next fetch starts
      // at the first record not due, or, if the commit fails, at the batch again. (A seek to the first
      // record not due outlived a failed commit: kafkajs applied it after the rejoin, and the due
      // records before it, decided but abandoned, were never read again.)
      const now = Date.now();
      const dueUntil = messages.findIndex((m) => headerNumber(m.headers, NOT_BEFORE_HEADER) > now);
      if (dueUntil >= 0) {
        const first = messages[dueUntil]!;
        const delay = Math.max(10, headerNumber(first.headers, NOT_BEFORE_HEADER) - now);
        messages = messages.slice(0, dueUntil);
        log.debug(
          { due: messages.length, notDueFrom: first.offset, delay },
          'retry batch: pausing until due',
        );
        const tp = [{ topic: batch.topic, partitions: [batch.partition] }];
        consumer.pause(tp);
        const timer = setTimeout(() => {
          resumeTimers.delete(timer);
          consumer.resume(tp);
        }, delay);
        resumeTimers.add(timer);
        if (messages.length === 0) return;
      }
    }
    groups.enter();
    if (batchSince === 0) batchSince = Date.now();
    inflightRecords += messages.length;
    metrics.inflight.set(inflightRecords);
    try {
      await processAndCommit(payload, messages, started);
    } finally {
      inflightRecords -= messages.length;
      metrics.inflight.set(inflightRecords);
      if (groups.inFlight === 0) batchSince = 0;
    }
  }

  async function processAndCommit(
    payload: EachBatchPayload,
    messages: EachBatchPayload['batch']['messages'],
    started: bigint,
  ): Promise<void> {
    const { batch } = payload;
    if (messages.length > options.maxInflight) {
      // A single fetch never exceeds maxBytesPerPartition; this guards a misconfiguration.
      log.warn({ records: messages.length }, 'batch larger than TAPLINE_MAX_INFLIGHT');
    }
    metrics.recordsIn.inc({ topic: batch.topic }, messages.length);
    const records: ConsumedRecord[] = messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      timestamp: Number(m.timestamp),
      key: m.key,
      value: m.value,
      notBefore: headerNumber(m.headers, NOT_BEFORE_HEADER),
      firstSeen: headerNumber(m.headers, 'tapline-first-seen'),
    }));
    const lastOffset = records[records.length - 1]!.offset;
    let joined = false;
    let output: BatchOutput | null;
    try {
      // Decided with the batches waiting beside it, in the order they arrived; not when a producer
      // replaced meanwhile has sent the partition back to its committed offset.
      output = await decisions.decide({ payload, records });
      if (!output) {
        groups.leave();
        return;
      }
      joined = true;
      await groups.join({
        topic: batch.topic,
        partition: batch.partition,
        lastOffset,
        records: records.length,
        messages: output.messages,
        payload,
      });
    } catch (e) {
      if (!joined) groups.leave();
      else if (membershipError(e)) {
        const where = { topic: batch.topic, partition: batch.partition, firstOffset: records[0]!.offset };
        abandoned(e, { ...where, records: records.length }, 'committing');
      }
      throw e;
    }
    for (const m of messages) payload.resolveOffset(m.offset);
    await payload.heartbeat();
    const committedAt = Date.now();
    for (const r of output.decided)
      metrics.decisionLatencySeconds.observe((committedAt - r.timestamp) / 1000);
    metrics.batchSeconds.observe(secondsSince(started));
    metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, Number(batch.highWatermark) - Number(lastOffset) - 1),
    );
  }

  /**
   * Decides the batches waiting together (pipeline/decisionQueue.ts): those no longer to be decided
   * (stopping, or the partition sent back to its committed offset) get null, the others go through the
   * topology in one call, until it succeeds. Retriable failures (Redis down) are tried again with
   * backoff while the worker heartbeats; stopping, losing the partitions in a rebalance or a
   * non-retriable error end it with the batches uncommitted, to be processed again by whoever owns
   * the partitions next (Redis effects are idempotent per tap_id, docs/EXACTLY_ONCE.md).
   */
  async function decideBatches(batches: PendingBatch[]): Promise<Array<BatchOutput | null>> {
    const live = batches.filter(({ payload }) => !(stopping || !payload.isRunning() || payload.isStale()));
    if (live.length === 0) return batches.map(() => null);
    metrics.batchesPerDecision.observe(live.length);
    const outputs = await decideLive(live);
    return batches.map((b) => {
      const i = live.indexOf(b);
      return i < 0 ? null : outputs[i]!;
    });
  }

  async function decideLive(live: PendingBatch[]): Promise<BatchOutput[]> {
    const whereOf = ({ payload, records }: PendingBatch) => ({
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      firstOffset: records[0]!.offset,
      records: records.length,
    });
    const where = { ...whereOf(live[0]!), batches: live.length };
    const abandonAll = (e: unknown) => live.forEach((b) => abandoned(e, whereOf(b), 'deciding'));
    // Every batch's payload heartbeats through the one consumer: the first one's will do.
    const { payload } = live[0]!;
    let membershipLost: unknown = null;
    let warnedSlow = false;
    const beat = setInterval(() => {
      if (!warnedSlow && batchSince > 0 && Date.now() - batchSince > stallMs) {
        warnedSlow = true;
        log.warn(
          { ...where, ms: Date.now() - batchSince },
          'batch still in flight: Redis or Kafka is slow; not fetching more until it is done',
        );
      }
      payload.heartbeat().catch((e: unknown) => {
        if (membershipError(e)) membershipLost = e;
      });
    }, heartbeatMs);
    const since = process.hrtime.bigint();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const outputs = await topology.processBatches(live.map((b) => b.records));
          if (membershipLost) throw membershipLost;
          phase('decide', since);
          if (attempt > 0)
            log.info({ ...where, attempts: attempt + 1 }, 'batch decided after retries; resuming');
          failing = false;
          return outputs;
        } catch (e) {
          if (e === membershipLost) {
            abandonAll(e);
            throw e;
          }
          if (!isTaplineError(e) || !e.canRetry) throw e;
          failing = true;
          metrics.batchRetries.inc({ code: e.code });
          const delay = retryDelayMs(attempt);
          if (attempt === 0 || attempt % 10 === 0)
            log.warn(
              { ...where, code: e.code, err: e, attempt: attempt + 1, retryInMs: delay },
              `${e.message}; the batch is not committed and is retried with backoff, nothing more is fetched meanwhile`,
            );
          const until = Date.now() + delay;
          while (Date.now() < until) {
            if (stopping || !payload.isRunning()) throw e;
            if (membershipLost) {
              abandonAll(membershipLost);
              throw membershipLost;
            }
            await sleep(Math.min(100, until - Date.now()));
          }
        }
      }
    } finally {
      clearInterval(beat);
    }
  }

  /** Counts and logs a batch given up uncommitted because this member left the group's generation. */
  function abandoned(cause: unknown, where: Record<string, unknown>, phase: 'deciding' | 'committing'): void {
    const code = membershipError(cause) ?? 'UNKNOWN';
    metrics.batchesAbandoned.inc({ code });
    log.warn(
      { ...where, code, phase },
      `this worker left the group's generation (${code}) while ${phase} the batch: it is abandoned uncommitted, for the partition's next owner to process`,
    );
  }

  /**
   * A transaction that can be neither committed nor aborted (the broker went away mid-commit) leaves
   * kafkajs's producer in ABORTING or COMMITTING for good: every later batch would fail with
   * "Cannot call beginTransaction", a non-retriable crash, and the worker would sit idle. A new producer
   * with the same transactional id fences the old one when it connects, which settles the lost
   * transaction (aborted, or committed if the broker had already taken the commit). The consumer then
   * goes back to the committed offset, so the batch is processed again only if it did not commit.
   */
  async function replaceProducer(cause: unknown, partitions: TopicPartition[]): Promise<never> {
    const old = producer;
    producer = newProducer();
    producerFresh = true;
    await old.disconnect().catch(() => undefined);
    log.warn({ err: cause }, 'transaction could not be completed or aborted; the producer is replaced');
    try {
      await producer.connect();
      producerFresh = false;
      for (const { topic, partition } of partitions) {
        const offset = await committedOffset(topic, partition);
        if (offset !== null) consumer.seek({ topic, partition, offset });
      }
    } catch (e) {
      log.warn({ err: e, partitions }, 'could not re-read the committed offset after replacing the producer');
    }
    // kafkajs is CommonJS and spreads its error classes into its exports: Node's ESM loader cannot
    // see them as named exports, hence the default import.
    throw new kafkajs.KafkaJSError(
      `transaction could not be completed or aborted (${(cause as Error)?.message ?? String(cause)}); its batches will be processed again`,
      { retriable: true },
    );
  }

  /** The group's committed offset of one partition, or null when it has none. */
  async function committedOffset(topic: string, partition: number): Promise<string | null> {
    const offset = (await readOffsets([{ topic, partitions: [partition] }])).get(offsetKey(topic, partition));
    return offset === undefined ? null : String(offset);
  }

  /**
   * Returns once a fetch of the group's offsets shows those just committed: until the broker has
   * written the commit markers it serves the previous ones, and a member joining meanwhile (this one
   * included) would re-read the batches (pipeline/committedOffsets.ts).
   */
  async function awaitCommitVisible(committed: PartitionOffset[]): Promise<void> {
    const since = process.hrtime.bigint();
    const result = await awaitVisible(committed, { read: readOffsets });
    metrics.commitVisibleSeconds.observe(secondsSince(since));
    cycleEndedAt = process.hrtime.bigint();
    if (!result.visible)
      log.warn(
        { pending: result.pending, reads: result.reads, err: result.lastError },
        'committed offsets not yet served by the broker after 30 s; a rebalance now could process those batches again',
      );
  }

  /**
   * One transaction for a group of batches: every output, in the order the batches were decided, and
   * the next offset of each batch's partition.
   */
  async function commitGroup(members: GroupMember[]): Promise<void> {
    const partitions = members.map(({ topic, partition }) => ({ topic, partition }));
    if (producerFresh) {
      await producer.connect();
      producerFresh = false;
    }
    const committed: PartitionOffset[] = members.map((m) => ({
      topic: m.topic,
      partition: m.partition,
      offset: String(BigInt(m.lastOffset) + 1n),
    }));
    let transaction: Transaction;
    let since = process.hrtime.bigint();
    const lap = (name: string) => {
      phase(name, since);
      since = process.hrtime.bigint();
    };
    try {
      transaction = await producer.transaction();
    } catch (e) {
      return replaceProducer(e, partitions);
    }
    try {
      const offsets = new Map<string, Array<{ partition: number; offset: string }>>();
      for (const { topic, partition, offset } of committed) {
        const list = offsets.get(topic) ?? [];
        list.push({ partition, offset });
        offsets.set(topic, list);
      }
      // The offsets go into the transaction while its records are produced: the commit covers both
      // whatever their order, and the two no longer wait on each other's round trips.
      const sendingOffsets = transaction.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [...offsets].map(([topic, partitions]) => ({ topic, partitions })),
      });
      let producedAt = since;
      const producing = produceOutputs(transaction, members).then(() => {
        producedAt = process.hrtime.bigint();
      });
      // Both settle before a failure is thrown: the abort must not overtake a request in flight.
      const [produced, offsetsSent] = await Promise.allSettled([producing, sendingOffsets]);
      if (produced.status === 'rejected') throw produced.reason;
      if (offsetsSent.status === 'rejected') throw offsetsSent.reason;
      // The phases stay consecutive: `produce` until the records are written, `offsets` what the
      // offsets took beyond that.
      phase('produce', since);
      since = producedAt;
      lap('offsets');
      await membership.confirm(members.map((m) => m.payload));
      lap('membership');
      await transaction.commit();
      lap('commit');
      log.debug(
        {
          batches: members.length,
          records: members.reduce((n, m) => n + m.records, 0),
          offsets: committed.map((c) => `${c.topic}/${c.partition}@${c.offset}`),
        },
        'committed',
      );
    } catch (e) {
      const aborted = await transaction.abort().then(
        () => true,
        (abortError: unknown) => {
          log.warn({ err: abortError }, 'abort failed');
          return false;
        },
      );
      if (!aborted) await replaceProducer(e, partitions);
      throw e;
    }
    // Reached only when committed (the catch rethrows), and outside the try: whatever this wait
    // says, the transaction stays committed.
    await awaitCommitVisible(committed);
  }
  const groups = createCommitGroups(commitGroup);
  const decisions = createDecisionQueue(decideBatches);
  let inflightRecords = 0;

  const runConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: FETCH_PARTITIONS,
    eachBatch,
  };
  await consumer.run(runConfig);
  const lag = startLagMonitor({
    kafka,
    groupId: options.groupId,
    metrics,
    logger: log,
    assignment: () => assignment,
    ...(options.lagIntervalMs === undefined ? {} : { intervalMs: options.lagIntervalMs }),
  });

  return {
    started,
    ready: () => ready && !stopping && !failing && !(batchSince > 0 && Date.now() - batchSince > stallMs),
    async stop() {
      stopping = true;
      for (const t of resumeTimers) clearTimeout(t);
      if (rejoinTimer) clearTimeout(rejoinTimer);
      // consumer.stop() waits for the batches in flight (and their commit) to finish.
      await consumer.stop();
      await lag.stop();
      await consumer.disconnect();
      await producer.disconnect();
      await offsetsAdmin.disconnect();
      log.info('worker stopped');
    },
  };
}
