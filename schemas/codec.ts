/**
 * One codec for every event on Kafka: Confluent-framed Avro, resolved through the schema catalog.
 * Decoding never throws, whatever the bytes: it returns the value or a reason a person can act on.
 * Taps and adjustments are validated too, with the same rules as JSON Lines.
 */
import type { Type } from 'avsc';
import { TaplineError, type ErrorCode } from '../pipeline/errors.ts';
import { checkAvroBounds, hasCountedCollections } from './avroTypes.ts';
import { createLocalCatalog, type SchemaCatalog, type SchemaKind } from './catalog.ts';
import type { Adjustment, Alert, AppliedAdjustment, Decision, DlqRecord, EnrichedTap, Tap } from './types.ts';
import { validateAdjustment, validateTap } from './validate.ts';
import { frame, unframe } from './wireFormat.ts';

export interface KindValues {
  tap: Tap;
  adjustment: Adjustment;
  tapEnriched: EnrichedTap;
  decision: Decision;
  alert: Alert;
  dlq: DlqRecord;
  adjustmentApplied: AppliedAdjustment;
}

export type DecodeOutcome<T> =
  { ok: true; value: T; schemaId: number } | { ok: false; code: DecodeFailureCode; reason: string };

/** Codes of pipeline/errors.ts a decode can end with (Extract fails to compile if one is renamed there). */
export type DecodeFailureCode = Extract<
  ErrorCode,
  'DECODE_FAILED' | 'VALIDATION_FAILED' | 'UNKNOWN_SCHEMA_ID'
>;

export interface EventCodec {
  /** Frames `value` with the current schema of `kind`. Throws VALIDATION_FAILED naming the field when it does not fit. */
  encode<K extends SchemaKind>(kind: K, value: KindValues[K]): Buffer;
  /** Unframes, resolves and decodes; taps and adjustments are validated too. Never throws. */
  decode<K extends SchemaKind>(kind: K, buf: Buffer): DecodeOutcome<KindValues[K]>;
  /**
   * Makes the writer schemas of these framed records known before `decode` (needed with a schema
   * registry; immediate with the bundled catalog). Throws SERVICE_UNREACHABLE when the registry is down.
   */
  prefetch(bufs: Iterable<Buffer>): Promise<void>;
}

export interface CodecOptions {
  catalog?: SchemaCatalog;
  /** Clock for the "not in the future" check of event times. @default Date.now */
  now?: () => number;
}

/** avsc record instances carry a prototype; downstream code wants plain objects. */
function plain(value: unknown): Record<string, unknown> {
  return { ...(value as Record<string, unknown>) };
}

function withFlags<T extends Decision>(d: T): Record<string, unknown> {
  return { ...(d as object), duplicate: d.duplicate === true, late: d.late === true };
}

function withoutFalseFlags(o: Record<string, unknown>): Record<string, unknown> {
  if (o['duplicate'] !== true) delete o['duplicate'];
  if (o['late'] !== true) delete o['late'];
  return o;
}

function invalidFields(type: Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[]) => {
      paths.push(path.join('.') || '(record)');
    },
  });
  return paths;
}

export function createCodec(options: CodecOptions = {}): EventCodec {
  const catalog = options.catalog ?? createLocalCatalog();
  const now = options.now ?? Date.now;
  const needsWalk = new WeakMap<Type, boolean>();
  function mustWalk(writer: Type): boolean {
    let v = needsWalk.get(writer);
    if (v === undefined) needsWalk.set(writer, (v = hasCountedCollections(writer)));
    return v;
  }

  function encode<K extends SchemaKind>(kind: K, value: KindValues[K]): Buffer {
    const type = catalog.readerType(kind);
    const v = kind === 'decision' || kind === 'alert' ? withFlags(value as Decision) : value;
    const bad = invalidFields(type, v);
    if (bad.length > 0) {
      throw new TaplineError('VALIDATION_FAILED', `cannot encode ${kind}: invalid ${bad.join(', ')}`);
    }
    return frame(catalog.writerId(kind), type.toBuffer(v));
  }

  function decode<K extends SchemaKind>(kind: K, buf: Buffer): DecodeOutcome<KindValues[K]> {
    const framed = unframe(buf);
    if (!framed.ok) return { ok: false, code: framed.code, reason: framed.reason };
    const found = catalog.lookup(framed.schemaId, kind);
    if (!found.ok) return found;
    const badBounds = mustWalk(found.writer) ? checkAvroBounds(found.writer, framed.body) : null;
    if (badBounds !== null) {
      return { ok: false, code: 'DECODE_FAILED', reason: `not a ${kind} Avro record: ${badBounds}` };
    }
    let raw: unknown;
    try {
      const out = found.resolver
        ? found.reader.decode(framed.body, 0, found.resolver)
        : found.reader.decode(framed.body, 0);
      if (out.offset !== framed.body.length) {
        const what =
          out.offset < 0
            ? 'the record ends early (truncated)'
            : `${framed.body.length - out.offset} bytes left over after the record`;
        return { ok: false, code: 'DECODE_FAILED', reason: `not a ${kind} Avro record: ${what}` };
      }
      raw = out.value;
    } catch (e) {
      return {
        ok: false,
        code: 'DECODE_FAILED',
        reason: `not a ${kind} Avro record: ${(e as Error).message}`,
      };
    }
    const schemaId = framed.schemaId;
    const o = plain(raw);
    if (kind === 'tap' || kind === 'adjustment') {
      const v = kind === 'tap' ? validateTap(o, { now: now() }) : validateAdjustment(o, { now: now() });
      return v.ok ? { ok: true, value: v.value as KindValues[K], schemaId } : v;
    }
    const value = kind === 'decision' || kind === 'alert' ? withoutFalseFlags(o) : o;
    return { ok: true, value: value as unknown as KindValues[K], schemaId };
  }

  async function prefetch(bufs: Iterable<Buffer>): Promise<void> {
    if (!catalog.prefetch) return;
    const ids: number[] = [];
    for (const b of bufs) {
      const f = unframe(b);
      if (f.ok) ids.push(f.schemaId);
    }
    await catalog.prefetch(ids);
  }

  return { encode, decode, prefetch };
}
