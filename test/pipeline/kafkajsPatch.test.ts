/**
 * patches/kafkajs+2.2.4.patch (applied by `npm ci` through patch-package):
 *  - the producer groups a send's messages by partition in one pass. The original copied a partition's
 *    array once per message, a quadratic cost that was 14% of the worker's allocated bytes
 *    (docs/BENCHMARKS.md);
 *  - the request queue's throttle check is never scheduled with a negative delay. Unthrottled, kafkajs
 *    computed minus the epoch time, which Node 24 reports as a TimeoutNegativeWarning on every
 *    connection (kafkajs issue #1751), in the stderr of every worker, sink and command;
 *  - produce requests are encoded with less copying: encoders allocate without zero-filling, varints
 *    are written in place, a record batch is sized up front, and its CRC32C is computed eight bytes a
 *    step. The same bytes as before, in about half the CPU (docs/BENCHMARKS.md). The broker checks
 *    each batch's CRC on produce, so every integration test checks the checksum too; here it is
 *    checked against an independent bytewise CRC32C and the published vectors;
 *  - a group's (or transactional id's) coordinator is remembered between requests, and forgotten when
 *    a request to it fails; an admin's fetchOffsets takes `{ topic, partitions }` without refreshing
 *    metadata. Unpatched, every transaction sent four FindCoordinator round trips and every read of
 *    the committed offsets two more (test/pipeline/kafkajsCoordinators.int.test.ts counts them).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const modulePath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');

type Message = { key: string; value: string };
type Group = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;
const group = require(modulePath) as Group;

interface RequestQueueLike {
  scheduleCheckPendingRequests(): void;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (
  options: Record<string, unknown>,
) => RequestQueueLike;

describe('kafkajs groupMessagesPerPartition (patched)', () => {
  it('is the patched one-pass version', () => {
    const source = readFileSync(modulePath, 'utf8');
    expect(source).toContain('Patched by Tapline');
    expect(source).not.toContain('[...current, message]');
  });

  it('keeps every message, each under its partition, in send order', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: String(i) }));
    const grouped = group({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner: ({ message }) => Number(message.value) % 3,
    });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const [partition, list] of Object.entries(grouped)) {
      const values = list.map((m) => Number(m.value));
      expect(values.every((v) => v % 3 === Number(partition))).toBe(true);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
    expect(Object.values(grouped).flat()).toHaveLength(1000);
  });

  it('groups nothing when the topic has no partition metadata', () => {
    const grouped = group({
      topic: 't',
      partitionMetadata: [],
      messages: [{ key: 'k', value: 'v' }],
      partitioner: () => 0,
    });
    expect(grouped).toEqual({});
  });
});

describe('kafkajs RequestQueue throttle check (patched)', () => {
  it('schedules the unthrottled check without a negative delay, so Node emits no warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const queue = new RequestQueue({
        instrumentationEmitter: null,
        maxInFlightRequests: 1,
        requestTimeout: 1_000,
        enforceRequestTimeout: true,
        clientId: 'test',
        broker: '127.0.0.1:9092',
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        isConnected: () => false,
      });
      queue.scheduleCheckPendingRequests();
      expect(queue.throttleCheckTimeoutId).not.toBeNull();
      clearTimeout(queue.throttleCheckTimeoutId!);
      // Node emits process warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'TimeoutNegativeWarning')).toEqual([]);
  });
});

const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkaEncoder;
interface KafkaEncoder {
  writeVarInt(v: number): KafkaEncoder;
  writeVarLong(v: number | object): KafkaEncoder;
  buffer: Buffer;
}
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => KafkaDecoder;
interface KafkaDecoder {
  readVarInt(): number;
  readVarLong(): { toString(): string };
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readString(): string;
  readBytes(): Buffer;
  slice(n: number): KafkaDecoder;
  forward(n: number): void;
  offset: number;
  buffer: Buffer;
}
const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): object };
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (
  args: Record<string, unknown>,
) => { encode(): Promise<{ buffer: Buffer }> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  d: KafkaDecoder,
) => Promise<{
  firstTimestamp: string;
  records: Array<{
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer>;
    timestamp: string;
    offset: string;
  }>;
}>;

/** CRC-32C one bit at a time from its polynomial: slow, and independent of kafkajs's tables. */
function referenceCrc32C(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Deterministic bytes (a linear congruential generator), so a failure reproduces. */
function bytes(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('kafkajs produce encoding (patched)', () => {
  it('computes CRC32C as published (RFC 3720 B.4) and as the bytewise definition', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32C(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32C(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    for (let length = 0; length < 200; length++) {
      // Every length around the eight-byte steps, from an odd offset into a larger buffer too.
      const b = bytes(length + 3, length).subarray(3);
      expect(crc32C(b), `length ${length}`).toBe(referenceCrc32C(b));
    }
    const big = bytes(70_001, 9);
    expect(crc32C(big)).toBe(referenceCrc32C(big));
  });

  it('writes varints and varlongs that decode to the values, small numbers as a Long would be', () => {
    const values = [
      0,
      1,
      -1,
      63,
      64,
      -64,
      -65,
      8191,
      8192,
      2 ** 20,
      2 ** 30 - 1,
      -(2 ** 30),
      2 ** 31 - 1,
      -(2 ** 31),
    ];
    for (const v of values) {
      const encoded = new Encoder().writeVarInt(v).writeVarLong(v).buffer;
      const d = new Decoder(encoded);
      expect(d.readVarInt()).toBe(v);
      expect(d.readVarLong().toString()).toBe(String(v));
      expect(new Encoder().writeVarLong(v).buffer).toEqual(
        new Encoder().writeVarLong(Long.fromNumber(v)).buffer,
      );
    }
    for (const v of [2 ** 30, -(2 ** 30) - 1, 2 ** 40, -(2 ** 52)]) {
      expect(new Decoder(new Encoder().writeVarLong(v).buffer).readVarLong().toString()).toBe(String(v));
    }
  });

  it('encodes a produce request whose record batch decodes to the messages, with a valid CRC', async () => {
    const base = 1_764_000_000_000;
    const messages = Array.from({ length: 700 }, (_, i) => ({
      key: i % 10 === 0 ? null : bytes(i % 40, i),
      value: bytes((i * 37) % 3_000, i + 1),
      headers: i % 3 === 0 ? {} : { 'tapline-first-seen': String(base + i), h: bytes(i % 50, i + 2) },
      timestamp: String(base + ((i * 7919) % 2 ** 31)),
    }));
    const request = produceRequest({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'tx-1',
      producerId: Long.fromNumber(7),
      producerEpoch: 0,
      topicData: [{ topic: 'decisions', partitions: [{ partition: 2, firstSequence: 0, messages }] }],
    });
    const d = new Decoder((await request.encode()).buffer);
    expect(d.readString()).toBe('tx-1');
    expect(d.readInt16()).toBe(-1);
    expect(d.readInt32()).toBe(30_000);
    expect(d.readInt32()).toBe(1); // topics
    expect(d.readString()).toBe('decisions');
    expect(d.readInt32()).toBe(1); // partitions
    expect(d.readInt32()).toBe(2);
    const recordSet = d.readBytes();
    // FirstOffset (8), Length (4), PartitionLeaderEpoch (4), Magic (1), then the CRC of the rest.
    const crc = recordSet.readUInt32BE(17);
    expect(crc).toBe(referenceCrc32C(recordSet.subarray(21)));
    const batch = await decodeRecordBatch(new Decoder(recordSet));
    expect(batch.records).toHaveLength(messages.length);
    batch.records.forEach((r, i) => {
      const m = messages[i]!;
      expect(r.offset).toBe(String(i));
      expect(r.timestamp).toBe(m.timestamp);
      expect(r.key === null ? null : Buffer.from(r.key)).toEqual(m.key);
      expect(Buffer.from(r.value!)).toEqual(m.value);
      expect(Object.keys(r.headers)).toEqual(Object.keys(m.headers));
      for (const [k, v] of Object.entries(m.headers))
        expect(Buffer.from(r.headers[k]!)).toEqual(Buffer.from(v));
    });
  });

  it('is the patched encoder', () => {
    for (const file of ['encoder.js', 'recordBatch/v0/index.js', 'recordBatch/crc32C/crc32C.js']) {
      expect(readFileSync(require.resolve(`kafkajs/src/protocol/${file}`), 'utf8')).toContain(
        'Patched by Tapline',
      );
    }
  });
});
