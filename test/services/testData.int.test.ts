// The cleanup after each integration test file (test/setup/dropTestData.ts) removes exactly what one
// env made on the shared services: its keys, its reference run's keys, its topics, its consumer
// groups and its chDB directory, and nothing whose name merely starts alike.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestData, takeTestData } from '../support/testData.ts';
import { uniqueEnv } from '../support/pipelineEnv.ts';

const redis = new Redis('redis://127.0.0.1:6379');
const kafka = new Kafka({
  clientId: 'test-data-test',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
// kafkajs's admin refreshes the metadata of every topic it used, and fails once one is deleted: the
// checks after the drop use an admin of their own.
const admin = kafka.admin();
const after = kafka.admin();

afterAll(async () => {
  redis.disconnect();
  await admin.disconnect();
  await after.disconnect();
});

describe('dropTestData', () => {
  it("removes an env's keys, topics, groups and chDB directory, and nothing else", async () => {
    takeTestData();
    const env = uniqueEnv('cleanup');
    const [made] = takeTestData();
    const id = made!.id;
    expect(env['REDIS_KEY_PREFIX']).toBe(`${id}:`);
    expect(made!.chdbPath).toBe(env['CHDB_PATH']);
    mkdirSync(env['CHDB_PATH']!, { recursive: true });

    const neighbour = `${id}0:k`; // another env whose id starts with this one's
    await redis.set(`${id}:{t:tap-1}`, 'x');
    await redis.set(`${id}:{a:acc-1}`, 'x');
    await redis.set(`${id}-ref:{a:acc-1}`, 'x');
    await redis.set(neighbour, 'x');
    await admin.connect();
    const topic = env['TOPIC_TAPS']!;
    const otherTopic = `${id}0.taps`;
    await admin.createTopics({ topics: [{ topic }, { topic: otherTopic }], waitForLeaders: true });
    const group = env['TAPLINE_WORKER_GROUP']!;
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '0' }] });
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(group);

    await admin.disconnect();

    const dropped = await dropTestData([made!]);

    expect(dropped).toEqual({ keys: 3, topics: [topic], groups: [group] });
    expect(await redis.exists(`${id}:{t:tap-1}`, `${id}:{a:acc-1}`, `${id}-ref:{a:acc-1}`)).toBe(0);
    expect(await redis.exists(neighbour)).toBe(1);
    await after.connect();
    const topics = await after.listTopics();
    expect(topics).not.toContain(topic);
    expect(topics).toContain(otherTopic);
    expect((await after.listGroups()).groups.map((g) => g.groupId)).not.toContain(group);
    expect(existsSync(dirname(env['CHDB_PATH']!))).toBe(false);

    await redis.del(neighbour);
    await after.deleteTopics({ topics: [otherTopic] });
  });
});
