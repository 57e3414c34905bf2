/**
 * avsc plumbing: the timestamp-millis logical type as epoch-ms numbers, loading the bundled .avsc
 * files, and a bounds check run before avsc decodes untrusted bytes.
 *
 * Why the bounds check: avsc trusts an array's block count. Five hostile bytes announcing two
 * billion items make it push two billion values and take the process down with an out-of-memory
 * crash (seen with avsc 5.7.9). `checkAvroBounds` walks the writer schema over the bytes first and
 * refuses any length or count the remaining bytes cannot hold, so decoding stays linear in the input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';

/** timestamp-millis on a long, kept as epoch milliseconds (number) rather than avsc's Date. */
export class EpochMillisType extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): unknown {
    return val;
  }
  protected override _toValue(val: unknown): unknown {
    // Returning undefined makes avsc refuse the value (isValid false, toBuffer throws).
    return typeof val === 'number' && Number.isSafeInteger(val) ? val : undefined;
  }
  protected override _resolve(type: Type): unknown {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return (v: unknown) => v;
    return undefined;
  }
}

export const logicalTypes = { 'timestamp-millis': EpochMillisType };

/**
 * Where a bundled schema file lives: beside this module when running the sources, or back in the
 * source tree when running the compiled build (tsc does not copy .avsc files into dist/).
 */
export function schemaFileUrl(name: string, base: string = import.meta.url): URL {
  const beside = new URL(`./avro/${name}.avsc`, base);
  if (existsSync(beside)) return beside;
  const inSources = new URL(`../../schemas/avro/${name}.avsc`, base);
  if (existsSync(inSources)) return inSources;
  throw new Error(
    `bundled schema ${name}.avsc not found at ${fileURLToPath(beside)} or ${fileURLToPath(inSources)}`,
  );
}

/** Reads one bundled schema file (schemas/avro/NAME.avsc) into an avsc Type. */
export function loadSchema(name: string): { schema: object; type: Type } {
  const text = readFileSync(schemaFileUrl(name), 'utf8');
  const schema = JSON.parse(text) as object;
  return { schema, type: avro.Type.forSchema(schema as avro.Schema, { logicalTypes }) };
}

interface Cursor {
  buf: Buffer;
  pos: number;
}

/** Thrown only inside checkAvroBounds and caught there. */
class Bounds extends Error {}

function varint(c: Cursor): number {
  let n = 0;
  let shift = 0;
  for (let i = 0; i < 10; i += 1) {
    if (c.pos >= c.buf.length) throw new Bounds('the record ends inside a number');
    const b = c.buf[c.pos++]!;
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2; // zig-zag
    shift += 7;
  }
  throw new Bounds('a number runs longer than 10 bytes');
}

function take(c: Cursor, n: number, what: string): void {
  if (n < 0 || c.pos + n > c.buf.length) {
    throw new Bounds(`${what} announces ${n} bytes but only ${c.buf.length - c.pos} remain`);
  }
  c.pos += n;
}

/** Smallest encoded size of one value of a type, for bounding array and map counts. */
function minSize(t: Type): number {
  const name = t.typeName;
  if (name === 'null') return 0;
  if (name === 'record')
    return (t as unknown as { fields: { type: Type }[] }).fields.reduce((s, f) => s + minSize(f.type), 0);
  if (name === 'fixed') return (t as unknown as { size: number }).size;
  return 1;
}

function walk(t: Type, c: Cursor, depth: number): void {
  if (depth > 64) throw new Bounds('the record nests too deeply');
  const name = t.typeName;
  if (name.startsWith('logical:'))
    return walk((t as unknown as { underlyingType: Type }).underlyingType, c, depth);
  switch (name) {
    case 'null':
      return;
    case 'boolean':
      return take(c, 1, 'a boolean');
    case 'int':
    case 'long':
      varint(c);
      return;
    case 'float':
      return take(c, 4, 'a float');
    case 'double':
      return take(c, 8, 'a double');
    case 'bytes':
    case 'string':
      return take(c, varint(c), `a ${name}`);
    case 'fixed':
      return take(c, (t as unknown as { size: number }).size, 'a fixed');
    case 'enum': {
      const i = varint(c);
      const symbols = (t as unknown as { symbols: string[] }).symbols;
      if (i < 0 || i >= symbols.length)
        throw new Bounds(`enum index ${i} is not one of ${symbols.length} symbols`);
      return;
    }
    case 'record':
      for (const f of (t as unknown as { fields: { type: Type }[] }).fields) walk(f.type, c, depth + 1);
      return;
    case 'array':
    case 'map': {
      const item =
        name === 'array'
          ? (t as unknown as { itemsType: Type }).itemsType
          : (t as unknown as { valuesType: Type }).valuesType;
      const per = Math.max(minSize(item) + (name === 'map' ? 1 : 0), 1);
      for (;;) {
        let n = varint(c);
        if (n === 0) return;
        if (n < 0) {
          n = -n;
          varint(c); // block size in bytes, which we do not trust either
        }
        // Every item takes at least `per` bytes (null items are counted as one, so an array of
        // nulls longer than the buffer is refused too: no Tapline schema has one).
        if (n * per > c.buf.length - c.pos) {
          throw new Bounds(`an ${name} announces ${n} items but only ${c.buf.length - c.pos} bytes remain`);
        }
        for (let i = 0; i < n; i += 1) {
          if (name === 'map') take(c, varint(c), 'a map key');
          walk(item, c, depth + 1);
        }
      }
    }
    default:
      if (name.startsWith('union')) {
        const types = (t as unknown as { types: Type[] }).types;
        const i = varint(c);
        if (i < 0 || i >= types.length) throw new Bounds(`union branch ${i} is not one of ${types.length}`);
        return walk(types[i]!, c, depth + 1);
      }
      throw new Bounds(`cannot check Avro type ${name}`);
  }
}

/**
 * Whether a type holds arrays or maps, the only places where avsc allocates from a count in the
 * bytes. Strings and bytes past the end of the buffer are cut short by avsc without allocating, so
 * array-free schemas (tap, adjustment, enriched tap, DLQ) can skip the bounds walk.
 */
export function hasCountedCollections(t: Type, seen: Set<Type> = new Set()): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  const name = t.typeName;
  if (name === 'array' || name === 'map') return true;
  if (name.startsWith('logical:'))
    return hasCountedCollections((t as unknown as { underlyingType: Type }).underlyingType, seen);
  if (name === 'record')
    return (t as unknown as { fields: { type: Type }[] }).fields.some((f) =>
      hasCountedCollections(f.type, seen),
    );
  if (name.startsWith('union'))
    return (t as unknown as { types: Type[] }).types.some((u) => hasCountedCollections(u, seen));
  return false;
}

/**
 * Checks that `body` is exactly one value of `writer`, every length and count within the bytes
 * present. Returns null when it is, or what is wrong.
 */
export function checkAvroBounds(writer: Type, body: Buffer): string | null {
  const c: Cursor = { buf: body, pos: 0 };
  try {
    walk(writer, c, 0);
  } catch (e) {
    if (e instanceof Bounds) return e.message;
    throw e;
  }
  if (c.pos !== body.length) return `${body.length - c.pos} bytes left over after the record`;
  return null;
}
