// The worker's rejoin after a consumer crash kafkajs does not restart (pipeline/worker.ts, REJOIN_MS,
// the CRASH listener), on a PRIVATE broker with the KRaft authorizer (test/support/privateKafka.ts;
// the shared broker on 9092 is never touched). A real `tapline run` connects over SCRAM as a user whose
// ACLs allow its topics, group and transactional id. Mid-stream the test deletes the group ACL (an
// operator's mistake, a credentials rotation half done): the group answers GROUP_AUTHORIZATION_FAILED,
// which kafkajs does not retry, so the consumer crashes with restart: false and every rejoin attempt
// crashes the same way ("Failed to find group coordinator"). The ACL is put back after a few attempts.
// The worker must reconnect its consumer by itself, rejoin the group and go on: every tap decided
// exactly once with the no-fault decisions (1 partition: the order is fixed). The log and
// tapline_group_rejoins_total prove the path ran.
//
// A broker SIGKILLed and restarted also causes such crashes now and then (a coordinator lookup cut
// off mid-request), but not on demand: 4 restarts in a row here gave only crashes kafkajs restarts.
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type AclEntry,
} from 'kafkajs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrivateKafka, type PrivateKafka } from '../support/privateKafka.ts';
import { uniqueEnv } from '../support/pipelineEnv.ts';
import { expectNoFaultEndState, noFaultReference } from './endState.ts';
import { figures } from './figures.ts';
import { codec, createTopics, safeRefunds, sendAll, simulatedTaps } from './harness.ts';
import { startWorkerChild, waitFor, type WorkerChild } from './workerChild.ts';

const user = { user: 'tapline-worker', password: 'worker-secret' };
const results = figures('faults');
/** The worker's Redis (the shared one, under the run's prefix) and the reference's scratch space. */
const shared = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');

let broker: PrivateKafka | null = null;
let worker: WorkerChild | null = null;
afterAll(async () => {
  results.print();
  shared.disconnect();
  worker?.kill();
  await broker?.destroy();
});

/** Everything the worker needs, on names starting with `prefix`. */
function workerAcls(prefix: string): { all: AclEntry[]; group: AclEntry } {
  const allow = {
    principal: `User:${user.user}`,
    host: '*',
    permissionType: AclPermissionTypes.ALLOW,
  };
  const prefixed = (resourceType: AclResourceTypes): AclEntry => ({
    ...allow,
    resourceType,
    resourceName: prefix,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    operation: AclOperationTypes.ALL,
  });
  const group = prefixed(AclResourceTypes.GROUP);
  return {
    group,
    all: [
      prefixed(AclResourceTypes.TOPIC),
      prefixed(AclResourceTypes.TRANSACTIONAL_ID),
      group,
      {
        ...allow,
        resourceType: AclResourceTypes.CLUSTER,
        resourceName: 'kafka-cluster',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes.IDEMPOTENT_WRITE,
      },
    ],
  };
}

describe('consumer crash kafkajs does not restart', () => {
  it('reconnects and rejoins the group by itself, then decides every tap once with the no-fault decisions', async () => {
    broker = await createPrivateKafka({ name: 'rejoin', authorizer: true, scram: user });
    await broker.start();
    // The test's own client: PLAINTEXT, a super user.
    const client = new Kafka({
      clientId: 'faults-rejoin',
      brokers: [broker.broker],
      logLevel: logLevel.NOTHING,
    });
    const env = uniqueEnv('rejoin', {
      KAFKA_BROKERS: broker.aclBroker!,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: user.user,
      KAFKA_SASL_PASSWORD: user.password,
    });
    const prefix = env['TOPIC_TAPS']!.slice(0, env['TOPIC_TAPS']!.indexOf('.') + 1);
    const acls = workerAcls(prefix);
    await createTopics(env, 1, client);
    const admin = client.admin();
    await admin.connect();
    await admin.createAcls({ acl: acls.all });
    const taps = simulatedTaps(3000, 41);
    const stream = {
      env: { ...env, TAPLINE_ADJUSTMENT_WAIT_MS: '120000' },
      taps,
      refunds: safeRefunds(taps, 41),
    };
    const reference = noFaultReference(stream, shared);
    reference.catch(() => {}); // awaited by the end-state check
    const w = await startWorkerChild(stream.env);
    worker = w;
    const send = (from: number, to: number) =>
      sendAll(
        env['TOPIC_TAPS']!,
        taps.slice(from, to).map((t) => ({ key: t.account_id, value: codec.encode('tap', t) })),
        client,
      );
    const crashesNotRestarted = () =>
      w.lines().filter((l) => l.msg === 'consumer crashed' && l['restart'] === false).length;
    const rejoinAttempts = () => w.lines().filter((l) => /^rejoining the consumer group/.test(l.msg)).length;
    const rejoined = () =>
      w.lines().filter((l) => l.msg === 'rejoined the consumer group after the crash').length;

    await send(0, 1000);
    await waitFor(
      'first 1,000 decided and committed',
      async () => (await w.decided()) >= 1000 && (await w.metric('tapline_inflight_records')) === 0,
      60_000,
      w,
    );
    expect(crashesNotRestarted()).toBe(0);

    // The group ACL goes; taps keep coming (the worker can still fetch and decide them, not commit).
    await admin.deleteAcls({ filters: [acls.group] });
    await send(1000, 2000);
    await waitFor(
      'a crash kafkajs does not restart, and 3 rejoin attempts',
      () => rejoinAttempts() >= 3,
      60_000,
      w,
    );
    expect(rejoined()).toBe(0);
    await admin.createAcls({ acl: [acls.group] });
    await waitFor('the worker back in its group', () => rejoined() > 0, 60_000, w);
    await send(2000, 3000);

    // The refunds once every tap is out (each after its tap), then the whole end state vs the no-fault
    // run: Kafka, Redis key by key, ClickHouse (drained from the private broker), settlement.
    await sendAll(
      env['TOPIC_ADJUSTMENTS']!,
      stream.refunds.map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
      client,
    );
    const end = await expectNoFaultEndState(stream, reference, { redis: shared, client, log: w.tail });
    await admin.disconnect();
    expect(w.running(), w.tail()).toBe(true);

    // The path ran: crashes kafkajs gave up on, the worker's own rejoins, counted, and a join after them.
    const crashes = w.lines().filter((l) => l.msg === 'consumer crashed');
    expect(crashesNotRestarted()).toBeGreaterThanOrEqual(3);
    const rejoins = rejoinAttempts();
    expect(await w.metric('tapline_group_rejoins_total')).toBe(rejoins);
    expect(rejoined()).toBe(1);
    expect(await w.stop(), w.tail()).toBe(0);

    results.add('group ACL deleted mid-stream, then restored: consumer crashes kafkajs does not restart', {
      taps: taps.length,
      refunds: stream.refunds.length,
      faults: 1,
      crashes: crashes.length,
      crashesNotRestarted: crashesNotRestarted(),
      rejoinAttempts: rejoins,
      crashErrors: [...new Set(crashes.map((l) => (l['err'] as { message?: string })?.message))],
      // A transaction whose offsets were refused while its records were produced (docs/EXACTLY_ONCE.md
      // item 3): usually 1; 0 when a heartbeat met the missing ACL before the next fetch.
      offsetsRefused: w.lines().filter((l) => l.msg.startsWith('Response AddOffsetsToTxn')).length,
      ...end,
    });
  }, 240_000);
});
