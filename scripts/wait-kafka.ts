// Readiness probe for scripts/services.sh: exits 0 once a Kafka broker answers a metadata request.
// An open port is not enough: the broker listens before its controller has elected itself.
//   node scripts/wait-kafka.ts [host:port] [timeoutMs]
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const timeoutMs = Number(process.argv[3] ?? '5000');

async function probe(): Promise<void> {
  const kafka = new Kafka({
    clientId: 'tapline-wait-kafka',
    brokers: [broker],
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

const timer = setTimeout(() => {
  process.stderr.write(`wait-kafka: no answer from ${broker} within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs);

probe().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`wait-kafka: ${broker}: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
