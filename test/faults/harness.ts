/**
 * Helpers shared by the fault and security suites: topics of a unique environment, a read_committed
 * reader of a whole topic, simulated taps, a seeded PRNG and the hostile-record generator.
 * Real Kafka only (no mocks): every helper talks to the broker of scripts/services.sh, or to the
 * `client` given (a private broker of test/support/privateKafka.ts).
 */
import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { seededRandom } from '../../bench/taps.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { frame } from '../../schemas/wireFormat.ts';
import { defaultSimulation, generateTraffic } from '../../simulator/traffic.ts';
import type { PartitionedTap } from './entityPartitions.ts';

export const codec = createCodec();
export const kafka = new Kafka({
  clientId: 'faults-test',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});

/** The topics a worker of `env` reads and writes. */
export function topicsOf(env: Record<string, string>): string[] {
  return [
    'TOPIC_TAPS',
    'TOPIC_ADJUSTMENTS',
    'TOPIC_ADJUSTMENTS_RETRY',
    'TOPIC_DECISIONS',
    'TOPIC_ALERTS',
    'TOPIC_DLQ',
    'TOPIC_TAPS_ENRICHED',
    'TOPIC_ADJUSTMENTS_ENRICHED',
  ].map((k) => env[k]!);
}

export async function createTopics(
  env: Record<string, string>,
  partitions: number,
  client: Kafka = kafka,
): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  const topics = topicsOf(env);
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } catch (e) {
    // On a loaded box the broker can answer the metadata of a topic it has just created with
    // UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's wait for leaders does not retry (seen once at load
    // 16, 4 partitions): the topics exist, so wait for their leaders here.
    if ((e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e;
    await waitForLeaders(admin, topics, partitions);
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, topics: string[], partitions: number): Promise<void> {
  const since = Date.now();
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const led = (t: (typeof found)[number]) =>
        t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0);
      if (found.length === topics.length && found.every(led)) return;
    } catch (e) {
      if (Date.now() - since > 30_000) throw e;
    }
    if (Date.now() - since > 30_000)
      throw new Error(`topic leaders not elected in 30 s: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ReadMessage {
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
}

/**
 * Reads the committed records of a topic until at least `expected` arrived and nothing more came for
 * `quietMs`, or `timeoutMs` passed (the caller's count assertion then fails: a stall is a failure).
 */
export async function readAll(
  topic: string,
  expected: number,
  quietMs = 1500,
  timeoutMs = 120_000,
  client: Kafka = kafka,
): Promise<ReadMessage[]> {
  const consumer: Consumer = client.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random()}`,
    readUncommitted: false,
    maxBytesPerPartition: 4_194_304,
  });
  const out: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) out.push({ key: m.key, value: m.value, partition: batch.partition });
      last = Date.now();
    },
  });
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 200));
    if (out.length >= expected && Date.now() - last > quietMs) break;
  }
  await consumer.disconnect();
  return out;
}

export function decodeAll<K extends 'decision' | 'dlq' | 'tapEnriched' | 'alert' | 'adjustmentApplied'>(
  kind: K,
  messages: ReadMessage[],
) {
  return messages.map((m) => {
    const d = codec.decode(kind, m.value!);
    if (!d.ok) throw new Error(`${kind} on the output topic does not decode: ${d.reason}`);
    return d.value;
  });
}

export function simulatedTaps(count: number, seed: number, fraudShare = 0.1): Tap[] {
  const taps: Tap[] = [];
  for (const { record } of generateTraffic({ ...defaultSimulation, seed, count, fraudShare, days: 2 })) {
    if (record.type === 'tap') {
      const { type: _t, ...tap } = record;
      taps.push(tap);
    }
  }
  return taps;
}

/**
 * Sends values in chunks of at most 2,000 records and ~512 KB (kafkajs builds one record batch per
 * partition per send, and the broker refuses batches over message.max.bytes, 1 MB by default).
 */
export async function sendAll(
  topic: string,
  messages: { key: string | null; value: Buffer | null; partition?: number }[],
  client: Kafka = kafka,
): Promise<void> {
  const producer = client.producer();
  await producer.connect();
  try {
    let chunk: typeof messages = [];
    let bytes = 0;
    for (const m of messages) {
      const size = (m.value?.length ?? 0) + 64;
      if (chunk.length > 0 && (chunk.length >= 2000 || bytes + size > 512 * 1024)) {
        await producer.send({ topic, messages: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(m);
      bytes += size;
    }
    if (chunk.length > 0) await producer.send({ topic, messages: chunk });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Sends taps placed by entity (entityPartitions.ts) to their partitions, then the refunds of those taps
 * (keyed by tap_id, partitioned by Kafka), as a PG sends a refund after its tap.
 */
export async function sendPlacedWithRefunds(
  env: Record<string, string>,
  placed: readonly PartitionedTap[],
  refundOf: ReadonlyMap<string, Adjustment>,
): Promise<void> {
  await sendAll(
    env['TOPIC_TAPS']!,
    placed.map((p) => ({ key: p.key, value: codec.encode('tap', p.tap), partition: p.partition })),
  );
  await sendAll(
    env['TOPIC_ADJUSTMENTS']!,
    placed
      .flatMap((p) => refundOf.get(p.tap.tap_id) ?? [])
      .map((a) => ({ key: a.tap_id, value: codec.encode('adjustment', a) })),
  );
}

/** A small seeded PRNG (bench/taps.ts's mulberry32), so a failing fuzz run can be repeated with its seed. */
/** Sum of the samples of metric `name` on a Prometheus text page whose labels contain `match`. */
export function metricSum(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !(line[name.length] === '{' || line[name.length] === ' ')) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const prng = seededRandom;

export const sha = (b: Buffer | null): string =>
  createHash('sha256')
    .update(b ?? Buffer.alloc(0))
    .digest('hex');

export const sqlTexts = [
  "'; DROP TABLE taps; --",
  '1 OR 1=1',
  "Robert'); INSERT INTO decisions VALUES ('x",
  'x" UNION SELECT msisdn FROM taps --',
  '`; TRUNCATE TABLE tapline.decisions',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
];

const controlTexts = ['\u0000', 'a\u0001b', '\u001b[31mred', 'x\u007f', 'line\nbreak', '\u0085', 'tab\there'];

/** What a hostile record should become. `valid` taps must be decided; everything else must reach the DLQ. */
export type HostileKind =
  | 'random-bytes'
  | 'tombstone'
  | 'truncated-avro'
  | 'padded-avro'
  | 'unknown-schema-id'
  | 'foreign-schema-id'
  | 'invalid-values'
  | 'control-chars'
  | 'oversize'
  | 'valid-sql-text'
  | 'producer-duplicate';

export interface HostileRecord {
  kind: HostileKind;
  key: string | null;
  value: Buffer | null;
  /** For valid taps and duplicates: the tap id that must be decided exactly once. */
  tapId?: string;
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function randomBytes(rand: () => number, max: number): Buffer {
  const n = Math.floor(rand() * max);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Tap fields changed to values Avro carries but the contract refuses (DESIGN.md validation). */
function invalidTap(rand: () => number, t: Tap): Tap {
  const bad: Partial<Tap>[] = [
    { msisdn: 'not-a-phone' },
    { msisdn: '+1 555' },
    { msisdn: '' },
    { amount: 0 },
    { amount: -5000 },
    { amount: 1_000_000_000_000_001 },
    { occurred_at: 0 },
    { occurred_at: Date.now() + 10 * 86_400_000 },
    { currency: 'XXX' },
    { currency: 'krw' },
    { ip: '999.1.1.1' },
    { ip: "1.1.1.1'; --" },
    { tap_id: '' },
    { account_id: '' },
  ];
  return { ...t, ...pick(rand, bad) };
}

/**
 * Generates `count` hostile records for the taps topic from `base` valid taps (each valid tap is used
 * at most once, so decided tap ids are unique). About 3% are valid taps with SQL-looking ids (they
 * must be decided, not refused), 0.5% are producer duplicates of those (they must publish nothing).
 */
export function hostileTaps(count: number, base: Tap[], seed: number): HostileRecord[] {
  const rand = prng(seed);
  const out: HostileRecord[] = [];
  const valid: Tap[] = [];
  let nextValid = 0;
  for (let i = 0; i < count; i++) {
    const r = rand();
    const t = base[Math.floor(rand() * base.length)]!;
    if (r < 0.03 && nextValid < base.length) {
      const v: Tap = {
        ...base[nextValid++]!,
        account_id: `${base[nextValid - 1]!.account_id}${pick(rand, sqlTexts)}`.slice(0, 128),
        device_id: pick(rand, sqlTexts),
        item_id: pick(rand, sqlTexts),
      };
      valid.push(v);
      out.push({ kind: 'valid-sql-text', key: v.account_id, value: codec.encode('tap', v), tapId: v.tap_id });
    } else if (r < 0.035 && valid.length > 0) {
      const v = pick(rand, valid);
      out.push({
        kind: 'producer-duplicate',
        key: v.account_id,
        value: codec.encode('tap', v),
        tapId: v.tap_id,
      });
    } else if (r < 0.2) {
      out.push({ kind: 'random-bytes', key: null, value: randomBytes(rand, 400) });
    } else if (r < 0.21) {
      out.push({ kind: 'tombstone', key: 'k', value: null });
    } else if (r < 0.35) {
      const full = codec.encode('tap', t);
      const cut = 1 + Math.floor(rand() * (full.length - 1));
      out.push({ kind: 'truncated-avro', key: t.account_id, value: full.subarray(0, cut) });
    } else if (r < 0.4) {
      out.push({
        kind: 'padded-avro',
        key: t.account_id,
        value: Buffer.concat([codec.encode('tap', t), randomBytes(rand, 20), Buffer.from([1])]),
      });
    } else if (r < 0.5) {
      const body = codec.encode('tap', t).subarray(5);
      const id = pick(rand, [0, 7, 102, 999, 65_536, 2_147_483_647]);
      out.push({ kind: 'unknown-schema-id', key: t.account_id, value: frame(id, body) });
    } else if (r < 0.55) {
      // a real schema id of another kind on the taps topic (a decision, an alert)
      const body = codec.encode('tap', t).subarray(5);
      out.push({
        kind: 'foreign-schema-id',
        key: t.account_id,
        value: frame(pick(rand, [401, 501, 601]), body),
      });
    } else if (r < 0.8) {
      out.push({
        kind: 'invalid-values',
        key: t.account_id,
        value: codec.encode('tap', invalidTap(rand, t)),
      });
    } else if (r < 0.9) {
      const field = pick(rand, ['tap_id', 'account_id', 'device_id', 'platform_id', 'msisdn'] as const);
      const v = { ...t, [field]: `${String(t[field])}${pick(rand, controlTexts)}` };
      out.push({ kind: 'control-chars', key: t.account_id, value: codec.encode('tap', v) });
    } else {
      // oversize strings: far beyond the limits of schemas/validate.ts, still well under 1 MB a record
      const field = pick(rand, ['tap_id', 'account_id', 'device_id', 'item_id', 'msisdn', 'ip'] as const);
      const size = pick(rand, [129, 1_000, 10_000, 60_000]);
      const v = { ...t, [field]: `${pick(rand, sqlTexts)}${'9'.repeat(size)}` };
      out.push({ kind: 'oversize', key: t.account_id, value: codec.encode('tap', v) });
    }
  }
  return out;
}

/** Hostile adjustments: garbage, invalid values, and well-formed ones whose tap never comes. */
export function hostileAdjustments(count: number, seed: number): HostileRecord[] {
  const rand = prng(seed);
  const out: HostileRecord[] = [];
  for (let i = 0; i < count; i++) {
    const a: Adjustment = {
      adjustment_id: `fuzz-adj-${i}`,
      occurred_at: Date.UTC(2026, 2, 2) + i,
      tap_id: `no-such-tap-${pick(rand, sqlTexts)}`.slice(0, 64),
      kind: 'REFUND',
      amount: 1000,
      reason: pick(rand, sqlTexts),
    };
    const r = rand();
    if (r < 0.3) out.push({ kind: 'random-bytes', key: null, value: randomBytes(rand, 200) });
    else if (r < 0.5) {
      const full = codec.encode('adjustment', a);
      out.push({
        kind: 'truncated-avro',
        key: a.tap_id,
        value: full.subarray(0, Math.floor(rand() * full.length)),
      });
    } else if (r < 0.7) {
      const bad = pick(rand, [{ amount: -1 }, { amount: 0 }, { adjustment_id: '' }, { reason: 'a\u0000b' }]);
      out.push({
        kind: 'invalid-values',
        key: a.tap_id,
        value: codec.encode('adjustment', { ...a, ...bad }),
      });
    } else out.push({ kind: 'valid-sql-text', key: a.tap_id, value: codec.encode('adjustment', a) });
  }
  return out;
}

/**
 * Refunds that cannot change any decision, so the reference (taps only) stays exact whatever order the
 * worker sees the two topics in: only taps of phones whose APPROVED total over the whole stream stays
 * under every amount threshold (₩300,000 a day), so a refund lowering a month's sum moves no rule.
 */
export function safeRefunds(taps: Tap[], seed: number): Adjustment[] {
  const totals = new Map<string, number>();
  for (const t of taps)
    if (t.status === 'APPROVED') totals.set(t.msisdn, (totals.get(t.msisdn) ?? 0) + t.amount);
  const rand = prng(seed);
  const out: Adjustment[] = [];
  for (const t of taps) {
    if (t.status !== 'APPROVED' || (totals.get(t.msisdn) ?? 0) > 300_000 || rand() > 0.1) continue;
    out.push({
      adjustment_id: `refund-${t.tap_id}`,
      occurred_at: t.occurred_at + 60_000,
      tap_id: t.tap_id,
      kind: 'REFUND',
      amount: rand() < 0.5 ? t.amount : Math.max(1, Math.floor(t.amount / 2)),
      reason: 'customer request',
    });
  }
  return out;
}
