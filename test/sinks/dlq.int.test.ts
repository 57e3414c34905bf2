// The dead-letter path on the real broker: records that fail to decode or validate are published to
// a DLQ topic as dlq.v1 values with their position, code and reason, their bytes encrypted; read
// back, every input record is accounted for and each refused one decrypts to its original bytes.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createCodec } from '../../schemas/codec.ts';
import type { Tap } from '../../schemas/types.ts';
import { frame } from '../../schemas/wireFormat.ts';
import { decryptPayload, toDlqRecord } from '../../sinks/dlq.ts';

const key = 'a1'.repeat(32);
const kafka = new Kafka({ clientId: 'test-dlq', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const codec = createCodec();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function consumeAll(topic: string, count: number) {
  const consumer = kafka.consumer({ groupId: `test-dlq-${randomUUID()}` });
  await consumer.connect();
  cleanups.push(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: { partition: number; offset: string; value: Buffer }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length} of ${count} records within 30 s`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: message.offset, value: message.value ?? Buffer.alloc(0) });
        if (got.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.stop();
  return got;
}

const tap: Tap = {
  tap_id: `t-${randomUUID()}`,
  occurred_at: Date.now() - 60_000,
  account_id: 'acc-1',
  msisdn: '010-2222-3333',
  carrier: 'SKT',
  device_id: 'dev-1',
  ip: '211.234.1.2',
  platform_id: 'toonville',
  creator_id: null,
  item_id: null,
  channel: 'APP',
  amount: 1000,
  currency: 'KRW',
  status: 'APPROVED',
  retry_of: null,
};

describe('DLQ on Kafka', () => {
  it('publishes refused records with position, reason and encrypted bytes, and accounts for all', async () => {
    const input = `test-dlq-in-${randomUUID()}`;
    const dlq = `test-dlq-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [input, dlq] });
      await admin.disconnect();
    });
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 1 },
        { topic: dlq, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });

    const valid = codec.encode('tap', tap);
    const asJson = Buffer.from(JSON.stringify({ type: 'tap', ...tap })); // no framing: DECODE_FAILED
    const badPhone = codec.encode('tap', { ...tap, msisdn: '010-2222-33' }); // VALIDATION_FAILED
    const foreignId = frame(424242, valid.subarray(5)); // UNKNOWN_SCHEMA_ID
    const sent = [valid, asJson, badPhone, foreignId];
    const producer = kafka.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await producer.send({ topic: input, messages: sent.map((value) => ({ key: tap.account_id, value })) });

    const consumed = await consumeAll(input, sent.length);
    let decided = 0;
    const deadLetters: Buffer[] = [];
    for (const m of consumed) {
      const d = codec.decode('tap', m.value);
      if (d.ok) {
        decided += 1;
        continue;
      }
      const rec = toDlqRecord(
        {
          topic: input,
          partition: m.partition,
          offset: m.offset,
          code: d.code,
          reason: d.reason,
          bytes: m.value,
          failedAt: Date.now(),
        },
        key,
      );
      deadLetters.push(codec.encode('dlq', rec));
    }
    await producer.send({ topic: dlq, messages: deadLetters.map((value) => ({ value })) });

    const back = await consumeAll(dlq, deadLetters.length);
    expect(decided + back.length).toBe(sent.length);
    const records = back.map((m) => {
      const d = codec.decode('dlq', m.value);
      if (!d.ok) throw new Error(d.reason);
      // Neither the phone number nor the IP travels in clear in the DLQ topic.
      expect(m.value.includes(Buffer.from('2222'))).toBe(false);
      expect(m.value.includes(Buffer.from('211.234.1.2'))).toBe(false);
      return d.value;
    });
    expect(records.map((r) => r.code)).toEqual(['DECODE_FAILED', 'VALIDATION_FAILED', 'UNKNOWN_SCHEMA_ID']);
    expect(records.map((r) => r.offset)).toEqual(['1', '2', '3']);
    for (const r of records) {
      expect(r.topic).toBe(input);
      expect(r.reason.length).toBeGreaterThan(10);
      expect(decryptPayload(r.payload, key).equals(sent[Number(r.offset)]!)).toBe(true);
    }
    expect(records[1]!.reason).toBe('msisdn: is not a Korean national (010-…) or E.164 (+…) phone number');
  });
});
