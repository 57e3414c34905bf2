/**
 * Decode + validate throughput of the event contracts: Confluent-framed Avro (codec.decode, which
 * bounds-checks, resolves and validates) and JSON Lines (parseInputLine). Prints records/s.
 * Run: npm exec -- node bench/decode.ts [records]
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { createCodec } from '../schemas/codec.ts';
import { formatInputLine, parseInputLine } from '../schemas/jsonLines.ts';
import { enrichTap } from '../schemas/msisdn.ts';
import type { Tap } from '../schemas/types.ts';

const count = Number(process.argv[2] ?? 200_000);
const now = Date.UTC(2026, 10, 30);
const codec = createCodec({ now: () => now });
const carriers = ['SKT', 'KT', 'LGU', 'MVNO'] as const;

function tap(i: number): Tap {
  return {
    tap_id: `tap-${i.toString(36).padStart(8, '0')}`,
    occurred_at: now - 86_400_000 + i * 7,
    account_id: `acc-${i % 50_000}`,
    msisdn: `010-${String(1000 + (i % 9000))}-${String(1000 + ((i * 7) % 9000))}`,
    carrier: carriers[i % 4]!,
    device_id: `dev-${(i * 13) % 80_000}`,
    ip: `211.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    platform_id: i % 3 === 0 ? 'webtoonia' : 'toonville',
    creator_id: i % 5 === 0 ? null : `c-${i % 700}`,
    item_id: `ep-${i % 1200}`,
    channel: 'APP',
    amount: 300 + (i % 48) * 100,
    currency: 'KRW',
    status: i % 20 === 0 ? 'DECLINED' : 'APPROVED',
    retry_of: null,
  };
}

function measure(label: string, run: () => number): void {
  run(); // warm-up: JIT and caches
  const start = process.hrtime.bigint();
  const ok = run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (ok !== count) throw new Error(`${label}: ${count - ok} records were refused`);
  const perSecond = Math.round(count / seconds);
  console.log(
    `${label.padEnd(44)} ${perSecond.toLocaleString('en-US').padStart(12)} records/s  (${count} in ${seconds.toFixed(3)} s)`,
  );
}

const taps = Array.from({ length: count }, (_, i) => tap(i));
const avro = taps.map((t) => codec.encode('tap', t));
const lines = taps.map((t) => formatInputLine({ type: 'tap', ...t }));
const pii = { key: 'bench-key-0123456789', version: 1 };

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (other work on the machine lowers these figures)`,
);
console.log(
  `${count} taps; Avro ${Math.round(avro.reduce((s, b) => s + b.length, 0) / count)} B/record, JSON ${Math.round(lines.reduce((s, l) => s + l.length, 0) / count)} B/record`,
);
measure('Avro decode + validate', () => avro.reduce((n, b) => n + (codec.decode('tap', b).ok ? 1 : 0), 0));
measure('JSON Lines parse + validate', () =>
  lines.reduce((n, l) => n + (parseInputLine(l, { now }).ok ? 1 : 0), 0),
);
measure('Avro decode + validate + enrich (HMAC)', () =>
  avro.reduce((n, b) => {
    const d = codec.decode('tap', b);
    return n + (d.ok && !('error' in enrichTap(d.value, pii)) ? 1 : 0);
  }, 0),
);
measure('Avro encode (tap)', () => taps.reduce((n, t) => n + (codec.encode('tap', t).length > 0 ? 1 : 0), 0));
