/**
 * A Confluent-compatible schema registry as the catalog, when SCHEMA_REGISTRY_URL is set. A minimal
 * client over fetch (two endpoints), so standard tools reading the topics resolve the same ids:
 *   POST /subjects/{subject}/versions  registers the current schema of each kind, giving its id;
 *   GET  /schemas/ids/{id}             fetches a writer schema met in a record.
 * The codec decodes synchronously, so writer schemas are fetched ahead: `prefetch` the ids of a batch
 * before decoding it (EventCodec.prefetch does). An id the registry does not know, or whose schema
 * the current reader cannot read, decodes as UNKNOWN_SCHEMA_ID and goes to the DLQ.
 */
import avro from 'avsc';
import type { Resolver, Type } from 'avsc';
import { TaplineError } from '../pipeline/errors.ts';
import { logicalTypes } from './avroTypes.ts';
import {
  bundledEntries,
  schemaKinds,
  type CatalogEntry,
  type SchemaCatalog,
  type SchemaKind,
  type WriterLookup,
} from './catalog.ts';

export interface RegistryCatalog extends SchemaCatalog {
  /** Fetches the writer schemas of ids not seen yet. Throws SERVICE_UNREACHABLE (retryable) when the registry is down. */
  prefetch(ids: Iterable<number>): Promise<void>;
}

export interface RegistryOptions {
  /** Base URL, e.g. http://127.0.0.1:8081 (config.schemaRegistry.url). */
  url: string;
  /** Subject per kind; Confluent's default naming is `<topic>-value` (see topicSubjects). */
  subjects: Record<SchemaKind, string>;
  /** The current schemas to register. @default the bundled catalog */
  entries?: readonly CatalogEntry[];
  /** Per-request deadline. @default 10000 */
  timeoutMs?: number;
}

/** Confluent's TopicNameStrategy subjects for Tapline's topics (config.kafka.topics). */
export function topicSubjects(topics: {
  taps: string;
  adjustments: string;
  tapsEnriched: string;
  decisions: string;
  alerts: string;
  dlq: string;
  adjustmentsEnriched: string;
}): Record<SchemaKind, string> {
  return {
    tap: `${topics.taps}-value`,
    adjustment: `${topics.adjustments}-value`,
    tapEnriched: `${topics.tapsEnriched}-value`,
    decision: `${topics.decisions}-value`,
    alert: `${topics.alerts}-value`,
    dlq: `${topics.dlq}-value`,
    adjustmentApplied: `${topics.adjustmentsEnriched}-value`,
  };
}

const contentType = 'application/vnd.schemaregistry.v1+json';

/**
 * Splits `https://key:secret@host` into a credential-free base URL and a Basic authorization header:
 * fetch refuses URLs with credentials, and messages must never show the secret.
 */
export function registryEndpoint(url: string): { base: string; authorization: string | null } {
  const u = new URL(url);
  const authorization =
    u.username || u.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
      : null;
  u.username = '';
  u.password = '';
  return { base: u.href.replace(/\/+$/, ''), authorization };
}

async function call(endpoint: string, path: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  const { base, authorization } = registryEndpoint(endpoint);
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers: {
        accept: contentType,
        'content-type': contentType,
        ...(authorization ? { authorization } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new TaplineError(
      'SERVICE_UNREACHABLE',
      `Schema registry at ${base} did not answer (${(e as Error).message}); check SCHEMA_REGISTRY_URL.`,
      { cause: e, canRetry: true },
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message =
      typeof body === 'object' && body !== null
        ? String((body as { message?: unknown }).message ?? text)
        : text;
    const error = new TaplineError(
      'SERVICE_FAILED',
      `Schema registry ${init.method ?? 'GET'} ${path}: HTTP ${res.status}: ${message.slice(0, 300)}`,
      { canRetry: res.status >= 500 },
    );
    (error as TaplineError & { status?: number }).status = res.status;
    throw error;
  }
  return body;
}

interface Known {
  kind: SchemaKind;
  writer: Type;
  resolver: Resolver | null;
}

/** Registers the current schemas and returns a catalog resolving ids through the registry. */
export async function createRegistryCatalog(options: RegistryOptions): Promise<RegistryCatalog> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const entries = options.entries ?? bundledEntries();
  const readers = new Map<SchemaKind, { type: Type; id: number }>();
  const byName = new Map<string, SchemaKind>();
  const known = new Map<number, Known>();
  const refused = new Map<number, string>();

  for (const kind of schemaKinds) {
    const current = entries.filter((e) => e.kind === kind).sort((a, b) => b.version - a.version)[0];
    if (!current) continue;
    const type = avro.Type.forSchema(current.schema as avro.Schema, { logicalTypes });
    const res = (await call(
      options.url,
      `/subjects/${encodeURIComponent(options.subjects[kind])}/versions`,
      { method: 'POST', body: JSON.stringify({ schema: JSON.stringify(current.schema) }) },
      timeoutMs,
    )) as { id?: unknown };
    if (typeof res?.id !== 'number') {
      throw new TaplineError(
        'SERVICE_FAILED',
        `Schema registry gave no id when registering ${kind} under ${options.subjects[kind]}.`,
      );
    }
    readers.set(kind, { type, id: res.id });
    byName.set(type.name ?? kind, kind);
    known.set(res.id, { kind, writer: type, resolver: null });
  }

  async function fetchId(id: number): Promise<void> {
    let res: { schema?: unknown; schemaType?: unknown };
    try {
      res = (await call(options.url, `/schemas/ids/${id}`, { method: 'GET' }, timeoutMs)) as typeof res;
    } catch (e) {
      if ((e as { status?: number }).status === 404) {
        refused.set(id, `schema id ${id} is not in the schema registry`);
        return;
      }
      throw e;
    }
    if ((res.schemaType ?? 'AVRO') !== 'AVRO' || typeof res.schema !== 'string') {
      refused.set(id, `schema id ${id} is a ${String(res.schemaType)} schema, not Avro`);
      return;
    }
    try {
      const writer = avro.Type.forSchema(JSON.parse(res.schema) as avro.Schema, { logicalTypes });
      const kind = byName.get(writer.name ?? '');
      if (!kind) {
        refused.set(
          id,
          `schema id ${id} is ${writer.name ?? 'an unnamed schema'}, which is no Tapline record`,
        );
        return;
      }
      known.set(id, { kind, writer, resolver: readers.get(kind)!.type.createResolver(writer) });
    } catch (e) {
      refused.set(id, `schema id ${id} cannot be read by the current reader: ${(e as Error).message}`);
    }
  }

  return {
    writerId(kind) {
      const r = readers.get(kind);
      if (!r) throw new Error(`no schema for ${kind} in the catalog`);
      return r.id;
    },
    readerType(kind) {
      const r = readers.get(kind);
      if (!r) throw new Error(`no schema for ${kind} in the catalog`);
      return r.type;
    },
    lookup(id, kind): WriterLookup {
      const k = known.get(id);
      if (!k) {
        const why = refused.get(id) ?? `schema id ${id} was not fetched from the registry before decoding`;
        return { ok: false, code: 'UNKNOWN_SCHEMA_ID', reason: why };
      }
      if (k.kind !== kind) {
        return {
          ok: false,
          code: 'UNKNOWN_SCHEMA_ID',
          reason: `schema id ${id} is a ${k.kind}, not a ${kind} (wrong topic?)`,
        };
      }
      return { ok: true, writer: k.writer, reader: readers.get(kind)!.type, resolver: k.resolver };
    },
    async prefetch(ids) {
      for (const id of new Set(ids)) {
        if (!known.has(id) && !refused.has(id)) await fetchId(id);
      }
    },
  };
}
