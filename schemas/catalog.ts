/**
 * The schema catalog: which Avro schema each schema id names, and how to read any known writer
 * version with the current reader. Ids of the bundled schemas are a fixed table, so the same id means
 * the same schema on every machine and in every release; append new versions, never renumber.
 */
import avro from 'avsc';
import type { Resolver, Type } from 'avsc';
import { loadSchema, logicalTypes } from './avroTypes.ts';

export const schemaKinds = [
  'tap',
  'adjustment',
  'tapEnriched',
  'decision',
  'alert',
  'dlq',
  'adjustmentApplied',
] as const;
export type SchemaKind = (typeof schemaKinds)[number];

export interface CatalogEntry {
  id: number;
  kind: SchemaKind;
  version: number;
  /** The parsed .avsc document. */
  schema: object;
}

/** The fixed id table: kind block × 100 + version. A new version gets the next id of its block. */
export const bundledIds: readonly { id: number; kind: SchemaKind; version: number; file: string }[] = [
  { id: 101, kind: 'tap', version: 1, file: 'tap.v1' },
  { id: 201, kind: 'adjustment', version: 1, file: 'adjustment.v1' },
  { id: 301, kind: 'tapEnriched', version: 1, file: 'tap-enriched.v1' },
  { id: 401, kind: 'decision', version: 1, file: 'decision.v1' },
  { id: 501, kind: 'alert', version: 1, file: 'alert.v1' },
  { id: 601, kind: 'dlq', version: 1, file: 'dlq.v1' },
  { id: 701, kind: 'adjustmentApplied', version: 1, file: 'adjustment-applied.v1' },
];

export function bundledEntries(): CatalogEntry[] {
  return bundledIds.map(({ id, kind, version, file }) => ({
    id,
    kind,
    version,
    schema: loadSchema(file).schema,
  }));
}

export type WriterLookup =
  | { ok: true; writer: Type; reader: Type; resolver: Resolver | null }
  | { ok: false; code: 'UNKNOWN_SCHEMA_ID'; reason: string };

export interface SchemaCatalog {
  /** Id to frame `kind`'s records with (its current version). */
  writerId(kind: SchemaKind): number;
  /** The current (reader) type of `kind`. */
  readerType(kind: SchemaKind): Type;
  /** How to read a record framed with `id` as `kind`. */
  lookup(id: number, kind: SchemaKind): WriterLookup;
  /** Fetches unknown writer schemas ahead of decoding (registry catalogs only). */
  prefetch?(ids: Iterable<number>): Promise<void>;
}

interface Compiled {
  entry: CatalogEntry;
  type: Type;
}

function compile(entry: CatalogEntry): Compiled {
  return { entry, type: avro.Type.forSchema(entry.schema as avro.Schema, { logicalTypes }) };
}

function currentOf(compiled: Compiled[]): Map<SchemaKind, Compiled> {
  const current = new Map<SchemaKind, Compiled>();
  for (const c of compiled) {
    const seen = current.get(c.entry.kind);
    if (!seen || c.entry.version > seen.entry.version) current.set(c.entry.kind, c);
  }
  return current;
}

/**
 * Backward compatibility over all version pairs: every version of a kind must read every earlier
 * version (Avro schema resolution, as avsc's resolver applies it). Returns the problems, empty when
 * compatible. Checking all pairs, not just current-vs-previous, keeps a chain of "each step is fine"
 * changes from breaking readers of old data.
 */
export function compatibilityProblems(entries: readonly CatalogEntry[]): string[] {
  const compiled = entries.map(compile);
  const problems: string[] = [];
  for (const reader of compiled) {
    for (const writer of compiled) {
      if (writer.entry.kind !== reader.entry.kind || writer.entry.version >= reader.entry.version) continue;
      try {
        reader.type.createResolver(writer.type);
      } catch (e) {
        problems.push(
          `${reader.entry.kind} v${reader.entry.version} cannot read v${writer.entry.version}: ${(e as Error).message}`,
        );
      }
    }
  }
  return problems;
}

/** A catalog over a fixed set of entries (the bundled schemas by default). */
export function createLocalCatalog(entries: readonly CatalogEntry[] = bundledEntries()): SchemaCatalog {
  const byId = new Map<number, Compiled>();
  for (const e of entries) {
    if (byId.has(e.id)) throw new Error(`schema id ${e.id} is listed twice`);
    byId.set(e.id, compile(e));
  }
  const current = currentOf([...byId.values()]);
  const resolvers = new Map<number, Resolver | null>();
  for (const [id, c] of byId) {
    const reader = current.get(c.entry.kind)!;
    // Resolvers are built once, up front: an incompatible bundled schema fails at start, not mid-stream.
    resolvers.set(id, reader === c ? null : reader.type.createResolver(c.type));
  }
  return {
    writerId(kind) {
      const c = current.get(kind);
      if (!c) throw new Error(`no schema for ${kind} in the catalog`);
      return c.entry.id;
    },
    readerType(kind) {
      const c = current.get(kind);
      if (!c) throw new Error(`no schema for ${kind} in the catalog`);
      return c.type;
    },
    lookup(id, kind) {
      const c = byId.get(id);
      if (!c) {
        return {
          ok: false,
          code: 'UNKNOWN_SCHEMA_ID',
          reason: `schema id ${id} is not in the catalog (known ids: ${[...byId.keys()].join(', ')}); was it written by a newer Tapline or another producer?`,
        };
      }
      if (c.entry.kind !== kind) {
        return {
          ok: false,
          code: 'UNKNOWN_SCHEMA_ID',
          reason: `schema id ${id} is ${c.entry.kind} v${c.entry.version}, not a ${kind} (wrong topic?)`,
        };
      }
      return {
        ok: true,
        writer: c.type,
        reader: current.get(kind)!.type,
        resolver: resolvers.get(id) ?? null,
      };
    },
  };
}
