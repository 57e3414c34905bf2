// What an integration test leaves on the shared services, removed when its file ends
// (test/setup/dropTestData.ts): the Redis keys under its prefix (a 400-day tap index would otherwise
// stay for 400 days, and every AOF rewrite copies it), its topics, its consumer groups and its chDB
// directory. Every name carries the env's random id (test/support/pipelineEnv.ts), so nothing another
// test or the demo owns is touched. Private servers (test/support/private*.ts) remove their own data.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { deleteByPrefix } from '../../bench/redisKeys.ts';

/** The shared services test/setup/services.ts brings up. */
const SHARED_REDIS = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SHARED_KAFKA = ['127.0.0.1:9092'];

export interface TestDataId {
  /** The env's random id: the stem of its Redis prefix, topics and groups. */
  id: string;
  /** CHDB_PATH, when the env has one of its own. */
  chdbPath?: string;
}

export interface Dropped {
  keys: number;
  topics: string[];
  groups: string[];
}

const created: TestDataId[] = [];

/** Called by uniqueEnv for every env it makes. */
export function rememberTestData(data: TestDataId): void {
  created.push(data);
}

/** The envs made since the last call, forgotten here. */
export function takeTestData(): TestDataId[] {
  return created.splice(0);
}

/** Removes what the envs left on the shared Redis and Kafka, and their chDB directories. */
export async function dropTestData(envs: readonly TestDataId[]): Promise<Dropped> {
  const dropped: Dropped = { keys: 0, topics: [], groups: [] };
  if (envs.length === 0) return dropped;
  for (const { chdbPath } of envs) if (chdbPath) rmSync(dirname(chdbPath), { recursive: true, force: true });
  const ours = (name: string) => envs.some(({ id }) => name.startsWith(`${id}.`));

  const redis = new Redis(SHARED_REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const { id } of envs) {
      // `${id}:` is the worker's prefix, `${id}-ref:` a reference run's (test/faults/endState.ts).
      for (const prefix of [`${id}:`, `${id}-ref:`]) dropped.keys += await deleteByPrefix(redis, prefix);
    }
  } finally {
    redis.disconnect();
  }

  const admin = new Kafka({
    clientId: 'tapline-test-cleanup',
    brokers: SHARED_KAFKA,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }).admin();
  await admin.connect();
  // A group a killed worker still belongs to (until its session times out) cannot be deleted yet;
  // the topics go all the same, and the refusal is reported after.
  let refused: unknown;
  try {
    dropped.groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(ours);
    if (dropped.groups.length > 0) await admin.deleteGroups(dropped.groups).catch((e) => (refused = e));
    dropped.topics = (await admin.listTopics()).filter(ours);
    if (dropped.topics.length > 0) await admin.deleteTopics({ topics: dropped.topics });
  } finally {
    await admin.disconnect();
  }
  if (refused)
    throw new Error(`consumer groups not deleted: ${(refused as Error).message}`, { cause: refused });
  return dropped;
}
