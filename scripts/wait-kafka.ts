// Readiness probe for scripts/services.sh: exits 0 once a Kafka broker answers a metadata request and
// can run a transaction that commits consumer offsets.
//   node scripts/wait-kafka.ts [host:port] [timeoutMs]
//
// An open port is not enough: the broker listens before its controller has elected itself. And on a
// freshly formatted broker the first transaction auto-creates __transaction_state and __consumer_offsets;
// while their partitions load, sendOffsets fails with NOT_COORDINATOR (seen with kafkajs 2.2.4 and
// Kafka 3.9.1). So when those topics are missing we run one small transaction, retrying until it passes.
import { Kafka, logLevel, type Admin } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const timeoutMs = Number(process.argv[3] ?? '5000');
const WARMUP_TOPIC = '__tapline_warmup';
const WARMUP_GROUP = '__tapline_warmup';

const kafka = new Kafka({
  clientId: 'tapline-wait-kafka',
  brokers: [broker],
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
  logLevel: logLevel.NOTHING,
});

async function warmTransactions(admin: Admin): Promise<void> {
  await admin.createTopics({ topics: [{ topic: WARMUP_TOPIC, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer({
    transactionalId: 'tapline-wait-kafka',
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5 },
  });
  await producer.connect();
  try {
    const txn = await producer.transaction();
    try {
      await txn.send({ topic: WARMUP_TOPIC, messages: [{ value: 'warm-up' }] });
      await txn.sendOffsets({
        consumerGroupId: WARMUP_GROUP,
        topics: [{ topic: WARMUP_TOPIC, partitions: [{ partition: 0, offset: '0' }] }],
      });
      await txn.commit();
    } catch (e) {
      await txn.abort().catch(() => undefined);
      throw e;
    }
  } finally {
    await producer.disconnect();
  }
}

async function probe(): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes('__transaction_state') || !topics.includes('__consumer_offsets')) {
      await warmTransactions(admin);
    }
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (e) {
      last = e;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw last ?? new Error(`no answer within ${timeoutMs} ms`);
}

// A request can hang past the deadline; never let the probe outlive its budget by much.
setTimeout(() => {
  process.stderr.write(`wait-kafka: ${broker}: no answer within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs + 5000).unref();

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`wait-kafka: ${broker}: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
