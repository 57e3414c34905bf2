// patches/kafkajs+2.2.4.patch remembers a group's (or a transactional id's) coordinator: unpatched,
// kafkajs sent a FindCoordinator before every transactional request (four per transaction), and an
// admin's fetchOffsets sent FindCoordinator and Metadata before its OffsetFetch. Each is a round trip
// in the worker's commit cycle (docs/BENCHMARKS.md, 2026-11-25). Against the local broker, counted with
// kafkajs's own request events (which name FindCoordinator by its old name, GroupCoordinator).
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Producer, type RequestEvent } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const kafka = new Kafka({
  clientId: 'test-coordinators',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Request names as kafkajs sends them, from the moment this is called. */
function requests(client: Producer | Admin): string[] {
  const seen: string[] = [];
  const record = (e: RequestEvent) => seen.push(e.payload.apiName);
  // Two branches for the compiler only: the union of both clients' `on` overloads is not callable.
  if ('transaction' in client) client.on(client.events.REQUEST, record);
  else client.on(client.events.REQUEST, record);
  return seen;
}
const count = (seen: string[], api: string) => seen.filter((a) => a === api).length;

async function topics(names: string[]): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  cleanups.push(async () => {
    await admin.deleteTopics({ topics: names });
    await admin.disconnect();
  });
  await admin.createTopics({
    topics: names.map((topic) => ({ topic, numPartitions: 2 })),
    waitForLeaders: true,
  });
  return admin;
}

describe('kafkajs coordinator lookups (patched)', () => {
  it('a transactional producer looks its coordinators up once, not before every request', async () => {
    const id = randomUUID();
    const [input, output, group] = [`test-coord-in-${id}`, `test-coord-out-${id}`, `test-coord-g-${id}`];
    const admin = await topics([input, output]);
    const producer = kafka.producer({
      transactionalId: `test-coord-${id}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const transaction = async (i: number) => {
      const tx = await producer.transaction();
      await tx.send({ topic: output, messages: [{ key: `k${i}`, value: `v${i}` }] });
      await tx.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i) }] }],
      });
      await tx.commit();
    };
    await transaction(1); // finds both coordinators
    const seen = requests(producer);
    for (let i = 2; i <= 4; i++) await transaction(i);
    // Three transactions, each with its AddOffsetsToTxn, TxnOffsetCommit and EndTxn...
    expect(count(seen, 'AddOffsetsToTxn')).toBe(3);
    expect(count(seen, 'TxnOffsetCommit')).toBe(3);
    expect(count(seen, 'EndTxn')).toBe(3);
    // ...and no coordinator lookup: unpatched, four per transaction (a retried AddPartitionsToTxn,
    // refused while the last transaction's markers are written, looked it up once more).
    expect(count(seen, 'GroupCoordinator')).toBe(0);
    // The transactions did what they did before: the offsets landed.
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(committed!.partitions.find((p) => p.partition === 0)!.offset).toBe('4');
  });

  it("an admin's fetchOffsets of given partitions is one OffsetFetch, with no metadata refresh", async () => {
    const id = randomUUID();
    const [input, group] = [`test-coord-in-${id}`, `test-coord-g-${id}`];
    const admin = await topics([input]);
    await admin.setOffsets({ groupId: group, topic: input, partitions: [{ partition: 1, offset: '7' }] });
    const reader = kafka.admin();
    await reader.connect();
    cleanups.push(() => reader.disconnect());
    const read = () => reader.fetchOffsets({ groupId: group, topics: [{ topic: input, partitions: [1] }] });
    const expected = [{ topic: input, partitions: [{ partition: 1, offset: '7', metadata: null }] }];
    expect(await read()).toEqual(expected); // finds the coordinator
    const seen = requests(reader);
    for (let i = 0; i < 3; i++) expect(await read()).toEqual(expected);
    // Unpatched, each read was GroupCoordinator, Metadata (an admin's metadata is never fresh), then
    // OffsetFetch.
    expect(seen).toEqual(['OffsetFetch', 'OffsetFetch', 'OffsetFetch']);
    // A topic named alone still means all its partitions (looked up in the metadata).
    const all = await reader.fetchOffsets({ groupId: group, topics: [input] });
    expect(all[0]!.partitions.map((p) => p.partition).sort()).toEqual([0, 1]);
  });

  it('a remembered coordinator the cluster no longer knows is looked up again', async () => {
    const Cluster = require('kafkajs/src/cluster/index.js') as new (options: Record<string, unknown>) => {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      coordinatorNodeIds: Map<string, number>;
      findCachedGroupCoordinator(o: { groupId: string }): Promise<{ nodeId: number }>;
      forgetGroupCoordinator(o: { groupId: string }): void;
    };
    const { createLogger, LEVELS } = require('kafkajs/src/loggers/index.js') as {
      createLogger(o: { level: number; logCreator: () => () => void }): unknown;
      LEVELS: { NOTHING: number };
    };
    const socketFactory = (require('kafkajs/src/network/socketFactory.js') as () => unknown)();
    const cluster = new Cluster({
      logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} }),
      brokers: ['127.0.0.1:9092'],
      clientId: 'test-coordinators-cluster',
      socketFactory,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 50 },
    });
    await cluster.connect();
    cleanups.push(() => cluster.disconnect());
    const groupId = `test-coord-g-${randomUUID()}`;
    const first = await cluster.findCachedGroupCoordinator({ groupId });
    expect(cluster.coordinatorNodeIds.get(`0:${groupId}`)).toBe(first.nodeId);
    // A coordinator that moved to a broker since gone: the cached id is not in the metadata.
    cluster.coordinatorNodeIds.set(`0:${groupId}`, 999);
    expect((await cluster.findCachedGroupCoordinator({ groupId })).nodeId).toBe(first.nodeId);
    expect(cluster.coordinatorNodeIds.get(`0:${groupId}`)).toBe(first.nodeId);
    cluster.forgetGroupCoordinator({ groupId });
    expect(cluster.coordinatorNodeIds.has(`0:${groupId}`)).toBe(false);
  });
});
