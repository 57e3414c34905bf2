/**
 * The partitioner of our producers: the same partition as kafkajs's `Partitioners.DefaultPartitioner`,
 * without its cost. kafkajs hashes each key with Kafka's murmur2 on its BigInt-backed `Long`, several
 * objects per record (1.7% of the worker's wall time and 3.5% of its allocations, docs/BENCHMARKS.md);
 * here it is 32-bit integer arithmetic, on the key's own bytes or a string key encoded into a reused
 * buffer.
 *
 * It must stay bit-for-bit Kafka's Java client (Utils.murmur2 and DefaultPartitioner for keyed
 * records): the topics are partitioned by key for consumers on other clients too (the decisions topic
 * by account_id), and one account's records must land on one partition whoever produced them.
 * test/pipeline/partitioner.test.ts checks it against Kafka's test vectors and against kafkajs.
 */
import type { ICustomPartitioner } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2) of data[0, length), a signed 32-bit integer. */
function murmur2Of(data: Uint8Array, length: number): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    h = Math.imul(h, M) ^ Math.imul(k, M);
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h = Math.imul(h ^ data[whole]!, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/** Kafka's murmur2 of the whole key (seed 0x9747b28c), a signed 32-bit integer. */
export function murmur2(key: Buffer): number {
  return murmur2Of(key, key.length);
}

/** String keys are encoded here rather than into a new Buffer each; a UTF-16 unit is at most 3 UTF-8 bytes. */
const SCRATCH_UNITS = 1024;
const scratch = Buffer.allocUnsafe(3 * SCRATCH_UNITS);

function keyHash(key: Buffer | string): number {
  if (Buffer.isBuffer(key)) return murmur2(key);
  // String() as kafkajs does, for keys of other types from untyped callers.
  const text = String(key);
  if (text.length > SCRATCH_UNITS) return murmur2(Buffer.from(text));
  return murmur2Of(scratch, scratch.write(text));
}

/** Kafka's toPositive: drops the sign bit (not the absolute value). */
const toPositive = (x: number): number => x & 0x7fffffff;

/** Where kafkajs starts a topic's round robin: random, from the same source. */
const randomStart = (): number => crypto.getRandomValues(Buffer.allocUnsafe(4)).readUInt32BE(0);

/**
 * As kafkajs's DefaultPartitioner: the message's own partition if it has one; else the key's murmur2
 * over all partitions; else round robin, per topic from a random start, over the partitions that have
 * a leader (over all of them when none has).
 */
export const tapPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined)
      return toPositive(keyHash(message.key)) % partitionMetadata.length;
    const counter = (counters.get(topic) ?? randomStart()) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[toPositive(counter) % available.length]!.partitionId;
    return toPositive(counter) % partitionMetadata.length;
  };
};
