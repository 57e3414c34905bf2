// A Confluent-framed Avro record (magic byte 0, 4-byte big-endian schema id, Avro body) survives a
// round trip through the real broker with kafkajs: the wire format Tapline's topics carry.
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const kafka = new Kafka({
  clientId: 'test-services',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
const tapType = avro.Type.forSchema({
  type: 'record',
  name: 'SmokeTap',
  fields: [
    { name: 'tapId', type: 'string' },
    { name: 'amountMinor', type: 'long' },
    { name: 'eventTimeMs', type: 'long' },
  ],
});

function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Kafka with Avro framing', () => {
  it('produces and consumes a framed record byte for byte', async () => {
    const topic = `test-avro-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    });
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const tap = { tapId: 'tap-0001', amountMinor: 15_900, eventTimeMs: 1_763_856_000_123 };
    const sent = frame(42, tapType.toBuffer(tap));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: tap.tapId, value: sent }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `test-avro-${randomUUID()}` });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record within 30 s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          if (message.value === null) reject(new Error('null value'));
          else resolve(message.value);
        },
      });
    });

    expect(received.equals(sent)).toBe(true);
    expect(received.readUInt8(0)).toBe(0);
    expect(received.readUInt32BE(1)).toBe(42);
    expect(tapType.fromBuffer(received.subarray(5))).toEqual(tap);
  });
});
