/**
 * patches/kafkajs+2.2.4.patch (applied by `npm ci` through patch-package):
 *  - the producer groups a send's messages by partition in one pass. The original copied a partition's
 *    array once per message, a quadratic cost that was 14% of the worker's allocated bytes
 *    (docs/BENCHMARKS.md);
 *  - the request queue's throttle check is never scheduled with a negative delay. Unthrottled, kafkajs
 *    computed minus the epoch time, which Node 24 reports as a TimeoutNegativeWarning on every
 *    connection (kafkajs issue #1751), in the stderr of every worker, sink and command.
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
