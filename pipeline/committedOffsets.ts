/**
 * The worker group's committed offsets as the broker serves them, and the wait after each commit until
 * they show.
 *
 * A transaction's consumed offsets (sendOffsets) are applied by the group coordinator only when the
 * transaction's commit markers are written, which happens a few ms AFTER the commit request returns.
 * An offset fetch meanwhile returns the previous offset: kafkajs speaks OffsetFetch up to v4, without
 * KIP-447's `requireStable` that makes the broker say "pending" instead. A member that joins the group
 * in that window, the committing worker itself included (kafkajs refetches every assigned partition's
 * offset after each rebalance), would re-read the batches just committed and publish their outputs a
 * second time. On the local broker 57 of 300 fetches right after a commit were stale, p99 13 ms; a
 * second worker joining and leaving left 237 refunds applied twice in one CI run.
 *
 * So a commit counts as done for the worker (its batches resolved, the next fetch allowed, a rebalance
 * or a stop let through) only once a fetch of the group's offsets shows it.
 */
import type { Admin } from 'kafkajs';

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to consume, as committed. */
  offset: string;
}

/** Committed offsets by `topic/partition`; a partition with none committed is absent. */
export type OffsetTable = Map<string, bigint>;

export const offsetKey = (topic: string, partition: number): string => `${topic}/${partition}`;

/** The partitions of `expected` whose committed offset in `table` is not yet at least the expected one. */
export function notYetVisible(expected: readonly PartitionOffset[], table: OffsetTable): PartitionOffset[] {
  return expected.filter((e) => {
    const seen = table.get(offsetKey(e.topic, e.partition));
    // At least: the partition's next owner may already have committed further.
    return seen === undefined || seen < BigInt(e.offset);
  });
}

/** Partitions of one topic, as an offset read asks for them. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** The partitions of `offsets`, topic by topic. */
export function byTopic(offsets: readonly Pick<PartitionOffset, 'topic' | 'partition'>[]): TopicPartitions[] {
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of offsets) {
    const partitions = topics.get(topic) ?? [];
    if (!partitions.includes(partition)) partitions.push(partition);
    topics.set(topic, partitions);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

/**
 * Reads the group's committed offsets of these partitions through a connected admin client: one
 * OffsetFetch, since the kafkajs patch (patches/kafkajs+2.2.4.patch) remembers the group's
 * coordinator and takes the partitions as given instead of refreshing metadata for them.
 */
export async function readCommitted(
  admin: Admin,
  groupId: string,
  wanted: readonly TopicPartitions[],
): Promise<OffsetTable> {
  const table: OffsetTable = new Map();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...wanted] })) {
    for (const { partition, offset } of partitions)
      if (offset !== '-1' && offset !== '') table.set(offsetKey(topic, partition), BigInt(offset));
  }
  return table;
}

export interface AwaitVisibleOptions {
  /** The committed offsets of these partitions (those not yet seen at their expected offset). */
  read: (wanted: TopicPartitions[]) => Promise<OffsetTable>;
  /** Give up (and say so) after this long. @default 30000, kafkajs's transaction timeout */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export type Visibility =
  | { visible: true; reads: number }
  | { visible: false; reads: number; pending: PartitionOffset[]; lastError: unknown };

const FIRST_WAIT_MS = 1;
const MAX_WAIT_MS = 100;

/**
 * Reads the committed offsets until every one of `expected` shows, waiting 1 ms doubling to 100 ms
 * between reads; a failed read (the broker restarting) is read again. Resolves, never rejects: when
 * the offsets have not shown within the timeout it says which, for the caller to log.
 */
export async function awaitVisible(
  expected: readonly PartitionOffset[],
  options: AwaitVisibleOptions,
): Promise<Visibility> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 30_000);
  let pending = [...expected];
  let lastError: unknown = null;
  let wait = FIRST_WAIT_MS;
  for (let reads = 1; ; reads++) {
    try {
      pending = notYetVisible(pending, await options.read(byTopic(pending)));
      if (pending.length === 0) return { visible: true, reads };
    } catch (e) {
      lastError = e;
    }
    if (now() >= deadline) return { visible: false, reads, pending, lastError };
    await sleep(wait);
    wait = Math.min(MAX_WAIT_MS, wait * 2);
  }
}
