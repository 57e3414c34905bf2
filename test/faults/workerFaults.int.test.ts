// Worker faults with an exact end-state comparison against a run without faults:
// - ten SIGKILLs at random points on a 1-partition topic (order fixed);
// - a second worker joining and leaving during the run on a 4-partition topic, on a stream whose every
//   account, phone and device lives on one partition (entityPartitions.ts), so the interleaving of
//   partitions cannot change the end state.
// Both stream refunds too, and compare the whole end state with the no-fault run (endState.ts):
// decisions and refunds on Kafka, Redis key by key, ClickHouse rows and settlement.
// FAULT_KILLS and FAULT_TAPS scale the run (defaults 10 and 6,000).
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { cliArgs, uniqueEnv } from '../support/pipelineEnv.ts';
import { expectNoFaultEndState, noFaultReference } from './endState.ts';
import { figures } from './figures.ts';
import { entityPartitions } from './entityPartitions.ts';
import {
  codec,
  createTopics,
  kafka,
  safeRefunds,
  sendAll,
  sendPlacedWithRefunds,
  simulatedTaps,
} from './harness.ts';

const kills = Number(process.env['FAULT_KILLS'] ?? 10);
const tapCount = Number(process.env['FAULT_TAPS'] ?? 6000);
const results = figures('faults');
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
afterAll(() => {
  redis.disconnect();
  results.print();
});

function startChild(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, cliArgs('run'), {
    env: { ...process.env, ...env, KAFKA_BROKERS: '127.0.0.1:9092' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the worker group is stable with `members` members (at most 90 s: a worker starting on
 * a loaded box can take several seconds to join), and returns the taps partitions each holds.
 */
async function tapPartitionsOnceStable(
  env: Record<string, string>,
  members: number,
): Promise<{ state: string; members: number[][] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const since = Date.now();
    for (;;) {
      const { groups } = await admin.describeGroups([env['TAPLINE_WORKER_GROUP']!]);
      const group = groups[0]!;
      const held = group.members.map(
        (m) =>
          AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[env['TOPIC_TAPS']!] ?? [],
      );
      const done = group.state === 'Stable' && held.length === members;
      if (done || Date.now() - since > 90_000) return { state: group.state, members: held };
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

describe('worker faults against a no-fault reference', () => {
  it(`leaves the exact no-fault end state after ${kills} SIGKILLs at random points`, async () => {
    // Refunds sent before their tap is decided wait on the retry topic, kills included.
    const env = uniqueEnv('kill10', { TAPLINE_ADJUSTMENT_WAIT_MS: '120000' });
    await createTopics(env, 1);
    const taps = simulatedTaps(tapCount, 23);
    const stream = { env, taps, refunds: safeRefunds(taps, 23) };
    expect(stream.refunds.length).toBeGreaterThan(50);
    await sendAll(
      env['TOPIC_TAPS']!,
      taps.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
    );
    await sendAll(
      env['TOPIC_ADJUSTMENTS']!,
      stream.refunds.map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
    );
    const reference = noFaultReference(stream, redis);
    reference.catch(() => {}); // awaited by the end-state check; a failure surfaces there

    let injected = 0;
    for (let round = 0; round < kills; round++) {
      const child = startChild(env);
      // Random points: during start-up, mid-batch, between commits.
      await sleep(800 + Math.floor(Math.random() * 2500));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      injected++;
    }
    const last = startChild(env);
    let stderr = '';
    last.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const end = await expectNoFaultEndState(stream, reference, { redis });
    expect(await stopChild(last), stderr).toBe(0);
    expect(injected).toBe(kills);
    results.add('SIGKILL x' + kills, {
      taps: taps.length,
      refunds: stream.refunds.length,
      faults: injected,
      ...end,
    });
  }, 420_000);

  it('leaves the exact no-fault end state while a second worker joins and leaves (4 partitions)', async () => {
    const env = uniqueEnv('joinleave', { TAPLINE_ADJUSTMENT_WAIT_MS: '120000' });
    await createTopics(env, 4);
    const taps = simulatedTaps(tapCount, 29);
    // Each account, phone and device on one partition only (entityPartitions.ts): which worker decides
    // a partition, and when, then cannot change any decision or state, so the reference is exact.
    const placed = entityPartitions(taps, 4, env['TOPIC_TAPS']!);
    const stream = {
      env,
      taps,
      refunds: safeRefunds(taps, 29),
      tapSources: placed.map((p) => p.source),
    };
    expect(new Set(placed.map((p) => p.partition)).size).toBe(4);
    const reference = noFaultReference(stream, redis);
    reference.catch(() => {}); // awaited by the end-state check; a failure surfaces there
    const refundOf = new Map(stream.refunds.map((a) => [a.tap_id, a]));
    const send = (part: typeof placed) => sendPlacedWithRefunds(env, part, refundOf);
    const first = startChild(env);
    await sleep(3000);
    const half = Math.floor(taps.length / 2);
    await send(placed.slice(0, half));
    const second = startChild({ ...env, TAPLINE_WORKER_ID: 'w2' });
    // Rebalance: partitions move to the second worker before the second half of the stream comes.
    const sharing = await tapPartitionsOnceStable(env, 2);
    await send(placed.slice(half));
    await sleep(3000);
    const secondCode = await stopChild(second); // leaves mid-stream: partitions move back
    const end = await expectNoFaultEndState(stream, reference, { redis });
    const firstCode = await stopChild(first);
    expect([firstCode, secondCode]).toEqual([0, 0]);
    // The join took effect: both workers held taps partitions while the second half of the stream came.
    expect(sharing.members.length, JSON.stringify(sharing)).toBe(2);
    expect(sharing.members.flat().sort(), JSON.stringify(sharing)).toEqual([0, 1, 2, 3]);
    expect(
      sharing.members.every((held) => held.length > 0),
      JSON.stringify(sharing),
    ).toBe(true);
    results.add('second worker joins and leaves (4 partitions, entities partition-local)', {
      taps: taps.length,
      refunds: stream.refunds.length,
      faults: 2,
      tapPartitionsAtJoin: JSON.stringify(sharing.members),
      ...end,
    });
  }, 300_000);
});
