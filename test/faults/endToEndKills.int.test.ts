// The whole path under crashes, against a no-fault reference: taps and refunds on Kafka, `tapline run`
// SIGKILLed at random points, `tapline sink` (embedded chDB) SIGKILLed too, both restarted each time;
// then the whole end state against the no-fault run (endState.ts), ClickHouse as analysts and finance
// see it in the crashed sink's own store:
// - every tap decided and every refund applied once on Kafka, with the reference's decision;
// - the worker's Redis state equal, key by key, to the same stream run without faults;
// - ClickHouse (the `_unique` views analysts query) holds each tap, decision, alert and refund once,
//   and every stored decision is the reference's;
// - the month settled from ClickHouse equals the month settled offline from the same taps and refunds
//   (the no-fault computation), figure for figure.
// One partition, so the order of taps, and so every decision, is fixed. FAULT_E2E_KILLS and
// FAULT_E2E_TAPS scale the run (defaults 4 and 3,000).
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../sinks/clickhouse/store.ts';
import { cliArgs, configFor, uniqueEnv } from '../support/pipelineEnv.ts';
import { expectNoFaultEndState, noFaultReference } from './endState.ts';
import { figures } from './figures.ts';
import { codec, createTopics, kafka, safeRefunds, sendAll, simulatedTaps } from './harness.ts';

const kills = Number(process.env['FAULT_E2E_KILLS'] ?? 4);
const tapCount = Number(process.env['FAULT_E2E_TAPS'] ?? 3000);
const results = figures('faults');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children = new Set<ChildProcess>();
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
afterAll(() => {
  redis.disconnect();
  results.print();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(
  command: 'run' | 'sink',
  env: Record<string, string>,
): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, cliArgs(command), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  return { child, log: () => `${command} log:\n${log}` };
}

async function stop(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return exited;
}

async function decisionsLogEnd(env: Record<string, string>): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Number((await admin.fetchTopicOffsets(env['TOPIC_DECISIONS']!))[0]!.high);
  } finally {
    await admin.disconnect();
  }
}

/** True once the sink's group has committed every record of its topics (1 partition each). */
async function sinkCaughtUp(env: Record<string, string>): Promise<boolean> {
  const topics = ['TOPIC_TAPS_ENRICHED', 'TOPIC_ADJUSTMENTS_ENRICHED', 'TOPIC_DECISIONS', 'TOPIC_ALERTS'].map(
    (k) => env[k]!,
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId: env['TAPLINE_SINK_GROUP']!, topics });
    for (const t of committed) {
      const high = Number((await admin.fetchTopicOffsets(t.topic))[0]!.high);
      const at = Number(t.partitions[0]!.offset);
      // Written in transactions: the last entry of the log is a commit marker, not a record.
      if (high > 0 && at < high - 1) return false;
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

describe('the whole pipeline under worker and sink crashes', () => {
  it(`stores and settles exactly what a run without faults does, after ${kills} worker and 2 sink SIGKILLs`, async () => {
    // Refunds may reach the worker before their tap after a crash: they wait on the retry topic.
    const env = uniqueEnv('e2ekills', { TAPLINE_ADJUSTMENT_WAIT_MS: '120000' });
    await createTopics(env, 1);
    const config = configFor(env);
    const taps = simulatedTaps(tapCount, 41);
    const refunds = safeRefunds(taps, 41);
    const stream = { env, taps, refunds };
    expect(refunds.length).toBeGreaterThan(30);
    const reference = noFaultReference(stream, redis);
    reference.catch(() => {}); // awaited by the end-state check; a failure surfaces there

    // The stream arrives paced (40 chunks, each chunk's refunds with the next one) and never more than
    // three chunks ahead of the decisions, so the worker decides it in many small transactions, there is
    // always work in flight when a kill lands, and the stream outlasts every restart (a killed member
    // keeps its partition until its 30 s session expires).
    const chunks = 40;
    const per = Math.ceil(taps.length / chunks);
    const refundOf = new Map(refunds.map((a) => [a.tap_id, a]));
    const streaming = (async () => {
      for (let c = 0; c <= chunks; c++) {
        while ((await decisionsLogEnd(env)) < (c - 3) * per) await sleep(200);
        const slice = taps.slice(c * per, (c + 1) * per);
        if (slice.length > 0)
          await sendAll(
            env['TOPIC_TAPS']!,
            slice.map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
          );
        const due = taps
          .slice(Math.max(0, (c - 1) * per), c * per)
          .flatMap((t) => refundOf.get(t.tap_id) ?? []);
        if (due.length > 0)
          await sendAll(
            env['TOPIC_ADJUSTMENTS']!,
            due.map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
          );
        await sleep(200);
      }
    })();

    let sink = start('sink', env);
    let sinkKills = 0;
    // Where the decisions log ended at each kill (records plus transaction markers).
    const progress: number[] = [];
    for (let round = 0; round < kills; round++) {
      const before = await decisionsLogEnd(env);
      const worker = start('run', env);
      // Killed soon after it has committed something: mid-stream, at a random point of its work.
      const since = Date.now();
      while ((await decisionsLogEnd(env)) === before && Date.now() - since < 90_000) await sleep(100);
      await sleep(Math.floor(Math.random() * 400));
      await stop(worker.child, 'SIGKILL');
      progress.push(await decisionsLogEnd(env));
      if (round === 0 || round === 2) {
        // The sink dies too, mid-insert or between inserts, and comes back on the same chDB data.
        await stop(sink.child, 'SIGKILL');
        sinkKills++;
        sink = start('sink', env);
      }
    }
    // The last worker runs to the end: the rest of the stream waits on its decisions.
    const last = start('run', env);
    await streaming;
    const endState = await expectNoFaultEndState(stream, reference, {
      redis,
      log: last.log,
      // The sink's own store, as analysts and finance read it, once every record is on Kafka and the
      // sink has committed all of it and let go of the chDB path.
      store: async () => {
        expect(await stop(last.child, 'SIGTERM'), last.log()).toBe(0);
        const since = Date.now();
        while (!(await sinkCaughtUp(env))) {
          expect(sink.child.exitCode, sink.log()).toBeNull();
          expect(Date.now() - since, 'the sink did not catch up within 3 minutes').toBeLessThan(180_000);
          await sleep(1000);
        }
        expect(await stop(sink.child, 'SIGTERM'), sink.log()).toBe(0);
        return openEmbeddedStore(config.clickhouse.chdbPath, config.clickhouse.database);
      },
    });

    // Mid-stream: every kill hit a worker that had just decided some taps, with more still to decide.
    const midStream = progress.filter(
      (end, i) => end > (i === 0 ? 0 : progress[i - 1]!) && end < taps.length,
    );
    expect(midStream.length, `decisions log ends at kills: ${progress.join(' ')}`).toBe(kills);
    results.add(`worker SIGKILL x${kills} + sink SIGKILL x${sinkKills}, through ClickHouse and settlement`, {
      taps: taps.length,
      refunds: refunds.length,
      faults: kills + sinkKills,
      decisionsLogAtKills: progress.join(' '),
      ...endState,
    });
  }, 600_000);
});
