/**
 * pipeline/partitioner.ts must choose the partition Kafka's Java client and kafkajs's DefaultPartitioner
 * choose: our topics are partitioned by key for consumers on other clients too.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import kafkajs, { type Message, type PartitionMetadata } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { murmur2, tapPartitioner } from '../../pipeline/partitioner.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

const partitions = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

describe('murmur2', () => {
  it("gives Kafka's test vectors (Utils.murmur2)", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it("equals kafkajs's Long-based murmur2 on any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const key = Buffer.from(bytes);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }),
      { numRuns: 3000 },
    );
  });
});

/** Any UTF-16 unit, lone surrogates included (both encoders write them as U+FFFD). */
const anyUnit = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
);

describe('tapPartitioner', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("chooses kafkajs's DefaultPartitioner's partition for keyed messages", () => {
    const ours = tapPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    const key = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: anyUnit, maxLength: 64 }),
    );
    fc.assert(
      fc.property(key, fc.integer({ min: 1, max: 64 }), (key, count) => {
        // A keyed message goes by its hash over all partitions, leaderless ones too.
        const args = {
          topic: 'decisions',
          partitionMetadata: partitions(count, [0]),
          message: { key, value: null },
        };
        expect(ours(args)).toBe(theirs(args));
      }),
      { numRuns: 4000 },
    );
  });

  it('encodes long string keys as kafkajs does', () => {
    const ours = tapPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    for (const key of ['é'.repeat(1024), '€'.repeat(1025), '😀'.repeat(3000)]) {
      const args = { topic: 't', partitionMetadata: partitions(64), message: { key, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }
  });

  it("keeps a message's own partition", () => {
    const choose = tapPartitioner();
    const partitionMetadata = partitions(4);
    expect(
      choose({ topic: 't', partitionMetadata, message: { key: 'abc', value: null, partition: 3 } }),
    ).toBe(3);
    expect(choose({ topic: 't', partitionMetadata, message: { key: null, value: null, partition: 0 } })).toBe(
      0,
    );
    // Not checked against the metadata, as kafkajs does not.
    expect(choose({ topic: 't', partitionMetadata, message: { value: null, partition: 7 } })).toBe(7);
  });

  // Without a key kafkajs goes round robin over the partitions that have a leader, per topic, from a
  // random start (crypto.getRandomValues): fixed here so that both partitioners start alike.
  it.each([0x00000000, 0x7ffffff0, 0xfffffff0])(
    'goes round robin without a key as kafkajs does, from %i',
    (start) => {
      vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((array) => {
        const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
        bytes.fill(0);
        bytes.writeUInt32BE(start, 0);
        return array;
      });
      const topics: [string, PartitionMetadata[]][] = [
        ['taps', partitions(5)],
        ['retry', partitions(6, [1, 4])],
        ['dlq', partitions(3, [0, 1, 2])],
      ];
      const messages: { topic: string; partitionMetadata: PartitionMetadata[]; message: Message }[] = [];
      for (let i = 0; i < 60; i++) {
        const [topic, partitionMetadata] = topics[i % topics.length]!;
        const message: Message =
          i % 7 === 0 ? { key: `k${i}`, value: null } : { key: i % 2 ? null : undefined, value: null };
        messages.push({ topic, partitionMetadata, message });
      }
      const ours = tapPartitioner();
      const theirs = kafkajs.Partitioners.DefaultPartitioner();
      const chosen = messages.map(ours);
      expect(chosen).toEqual(messages.map(theirs));
      // Both really started from the fixed value: the taps topic's first keyless message.
      expect(chosen[3]).toBe(((start + 1) & 0x7fffffff) % 5);
    },
  );
});
