/**
 * Hostile JSON Lines for the CLI's file inputs (`tapline backtest --input`, `tapline settle --input`),
 * mixed with valid taps and refunds, each line labelled with what it must become. Seeded: the same
 * seed gives the same bytes. Valid lines are built here from simulated taps, not by Tapline's own
 * formatter, so the fuzz does not lean on the code it tests.
 */
import type { Tap } from '../../schemas/types.ts';
import { prng, simulatedTaps, sqlTexts } from './harness.ts';

/** What a line must end as: decided (taps), applied (refunds), or rejected with a reason. */
export type LineClass = 'tap' | 'duplicate' | 'refund' | 'rejected';

export interface FuzzLine {
  kind: string;
  class: LineClass;
  /** Bytes of the line, without its newline (never contains one). */
  bytes: Buffer;
  /** For taps and duplicates: the tap id the decision line must carry. */
  tapId?: string;
}

export interface FuzzFile {
  lines: FuzzLine[];
  /** Every phone number that went in (E.164), valid or not, for the leak scan. */
  msisdns: string[];
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** A tap as the contract's JSON Lines form: ISO time with a zone, nulls left out, `type` first. */
function tapObject(t: Tap): Record<string, unknown> {
  const o: Record<string, unknown> = { type: 'tap' };
  for (const [k, v] of Object.entries(t)) if (v !== null && v !== undefined) o[k] = v;
  o['occurred_at'] = new Date(t.occurred_at).toISOString();
  return o;
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

const badPhones = [
  'not-a-phone',
  '+1',
  '010-1234',
  '+82 10 1234 5678 ext 9',
  '0101234567890123456',
  '++821012345678',
  '010-1234-567８',
  '',
];
const controlTexts = ['a\u0000b', '\u001b[31mred', 'x\u007f', 'line\nbreak', '\u0085next', 'bell\u0007'];
const hugeNumbers: unknown[] = [1e30, 2 ** 53 + 2, 1_000_000_000_000_001, Number.MAX_VALUE, -1, 0, -0];
const floatMoney = [1000.5, 0.1, 999.999, 300.25, 1e-7];

/** Raw text spliced into a line where JSON has a number: not JSON.stringify's, the attacker's own. */
const rawNumberTexts = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  'NaN',
  'Infinity',
  '0x10',
  '01000',
];

function randomLine(rand: () => number): Buffer {
  for (;;) {
    const n = 1 + Math.floor(rand() * 300);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      const byte = Math.floor(rand() * 256);
      b[i] = byte === 0x0a ? 0x20 : byte;
    }
    if (b.toString('utf8').trim() !== '') return b;
  }
}

/**
 * `count` lines: about 30% valid taps (some with SQL-looking or script text in their ids, which are
 * legal), 2% producer duplicates, 5% refunds of earlier approved taps, the rest hostile.
 */
export function hostileJsonLines(count: number, seed: number): FuzzFile {
  const rand = prng(seed);
  const base = simulatedTaps(Math.ceil(count / 2), seed);
  const lines: FuzzLine[] = [];
  const validTaps: Tap[] = [];
  const refundable: Tap[] = [];
  const msisdns = new Set<string>();
  let next = 0;
  const nextTap = (): Tap => base[next++ % base.length]!;

  while (lines.length < count) {
    const r = rand();
    if (r < 0.3 && next < base.length) {
      let t = nextTap();
      if (rand() < 0.2) {
        t = {
          ...t,
          account_id: `${t.account_id}${pick(rand, sqlTexts)}`.slice(0, 128),
          item_id: pick(rand, [...sqlTexts, '웹툰 에피소드 12화', '💰 코인 100']),
        };
      }
      msisdns.add(t.msisdn);
      validTaps.push(t);
      if (t.status === 'APPROVED') refundable.push(t);
      lines.push({ kind: 'valid-tap', class: 'tap', bytes: json(tapObject(t)), tapId: t.tap_id });
    } else if (r < 0.32 && validTaps.length > 0) {
      const t = pick(rand, validTaps);
      lines.push({
        kind: 'producer-duplicate',
        class: 'duplicate',
        bytes: json(tapObject(t)),
        tapId: t.tap_id,
      });
    } else if (r < 0.37 && refundable.length > 0) {
      // Each approved tap is refunded at most once, never above its amount: every refund applies.
      const t = refundable.splice(Math.floor(rand() * refundable.length), 1)[0]!;
      const refund = {
        type: 'adjustment',
        adjustment_id: `fz-refund-${t.tap_id}`,
        occurred_at: new Date(t.occurred_at + 3_600_000).toISOString(),
        tap_id: t.tap_id,
        kind: pick(rand, ['REFUND', 'CHARGEBACK'] as const),
        amount: rand() < 0.5 ? t.amount : Math.max(1, Math.floor(t.amount / 3)),
        reason: pick(rand, [...sqlTexts, '고객 요청', 'tab\tand\nnewline are fine in reasons']),
      };
      lines.push({ kind: 'refund', class: 'refund', bytes: json(refund) });
    } else {
      lines.push(hostileLine(rand, base[Math.floor(rand() * base.length)]!, validTaps, msisdns));
    }
  }
  return { lines, msisdns: [...msisdns] };
}

function hostileLine(rand: () => number, t: Tap, validTaps: Tap[], msisdns: Set<string>): FuzzLine {
  const o = tapObject(t);
  const rejected = (kind: string, bytes: Buffer): FuzzLine => ({ kind, class: 'rejected', bytes });
  const r = rand();
  if (r < 0.12) return rejected('random-bytes', randomLine(rand));
  if (r < 0.22) {
    const full = json(o);
    return rejected('truncated-json', full.subarray(0, 1 + Math.floor(rand() * (full.length - 1))));
  }
  if (r < 0.3) {
    const wrong: Record<string, unknown>[] = [
      { amount: String(t.amount) },
      { amount: [t.amount] },
      { amount: { value: t.amount } },
      { amount: true },
      { tap_id: 12345 },
      { occurred_at: t.occurred_at },
      { occurred_at: '2026-03-01 10:00:00' },
      { occurred_at: '2026-02-30T10:00:00Z' },
      { status: 'approved' },
      { carrier: 'Verizon' },
      { channel: 42 },
      { creator_id: ['a', 'b'] },
      { type: 'Tap' },
      { type: null },
      { currency: 'KRW ' },
    ];
    return rejected('wrong-types', json({ ...o, ...pick(rand, wrong) }));
  }
  if (r < 0.34) {
    const notObjects = ['[]', '[{"type":"tap"}]', 'null', '42', '"tap"', 'true', '{}', '{"type":"tap"}'];
    return rejected('not-an-object', Buffer.from(pick(rand, notObjects)));
  }
  if (r < 0.44) {
    const field = pick(rand, ['tap_id', 'account_id', 'device_id', 'platform_id', 'item_id', 'ip'] as const);
    const size = pick(rand, [129, 1_000, 20_000, 70_000]);
    return rejected('oversize', json({ ...o, [field]: `${pick(rand, sqlTexts)}${'9'.repeat(size)}` }));
  }
  if (r < 0.52) {
    const field = pick(rand, ['tap_id', 'account_id', 'device_id', 'platform_id', 'creator_id'] as const);
    return rejected(
      'control-chars',
      json({ ...o, [field]: `${String(t[field] ?? 'c')}${pick(rand, controlTexts)}` }),
    );
  }
  if (r < 0.55) {
    // Raw control bytes inside a JSON string are not JSON at all.
    const text = JSON.stringify(o).replace(
      '"account_id":"',
      `"account_id":"${pick(rand, ['\u0000', '\u0001', '\t', '\u001f'])}`,
    );
    return rejected('raw-control-bytes', Buffer.from(text));
  }
  if (r < 0.6) {
    // SQL-looking text where the contract wants a closed set or a format: refused, never executed.
    const field = pick(rand, ['carrier', 'status', 'currency', 'channel', 'occurred_at', 'ip'] as const);
    return rejected('sql-text-in-enum', json({ ...o, [field]: pick(rand, sqlTexts) }));
  }
  if (r < 0.66) return rejected('huge-number', json({ ...o, amount: pick(rand, hugeNumbers) }));
  if (r < 0.69) {
    const text = JSON.stringify({ ...o, amount: 7 }).replace(
      '"amount":7',
      `"amount":${pick(rand, rawNumberTexts)}`,
    );
    return rejected('raw-number-text', Buffer.from(text));
  }
  if (r < 0.75) {
    const extra = pick(rand, [
      '"creater_id":"c-1"',
      '"__proto__":{"amount":1}',
      '"constructor":{"prototype":{}}',
      '"msisdn_hash":"x"',
      '"decision":"ALLOW"',
    ]);
    return rejected('unknown-field', Buffer.from(JSON.stringify(o).replace(/}$/, `,${extra}}`)));
  }
  if (r < 0.82) {
    const phone = pick(rand, badPhones);
    if (phone) msisdns.add(phone);
    return rejected('invalid-phone', json({ ...o, msisdn: phone }));
  }
  if (r < 0.87) return rejected('money-as-float', json({ ...o, amount: pick(rand, floatMoney) }));
  if (r < 0.9 && validTaps.length > 0) {
    // The same tap id with other content: a conflict, refused; the first one is kept.
    const v = pick(rand, validTaps);
    return rejected('conflicting-tap', json({ ...tapObject(v), amount: v.amount + 1 }));
  }
  if (r < 0.95) {
    const bad: Record<string, unknown>[] = [
      { amount: -500 },
      { amount: 0 },
      { amount: 12.5 },
      { kind: 'REFUNDED' },
      { tap_id: `no-such-tap-${Math.floor(rand() * 1e9)}` },
      { adjustment_id: '' },
      { reason: 'a\u0000b' },
      { occurred_at: '2026-03-01T10:00:00' },
      { extra: 1 },
    ];
    const adj = {
      type: 'adjustment',
      adjustment_id: `fz-bad-${Math.floor(rand() * 1e12)}`,
      occurred_at: new Date(t.occurred_at + 7_200_000).toISOString(),
      tap_id: `no-such-tap-${Math.floor(rand() * 1e9)}`,
      kind: 'REFUND',
      amount: 1000,
    };
    return rejected('bad-adjustment', json({ ...adj, ...pick(rand, bad) }));
  }
  // Valid-looking lines with a byte-order mark or NUL in the middle, and a lone surrogate.
  return rejected(
    'broken-encoding',
    Buffer.from(
      pick(rand, [
        `\uFEFF${JSON.stringify(o)}`.replace('{', '{\uFEFF'),
        JSON.stringify(o).replace('"tap_id":"', '"tap_id":"\\ud800'),
        JSON.stringify(o).replace('"device_id":"', '"device_id":"\\udfff'),
      ]),
    ),
  );
}
