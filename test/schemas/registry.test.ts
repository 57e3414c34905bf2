// The registry client against a small in-process HTTP server speaking the two Confluent endpoints
// it uses (no registry installs on this machine). It checks requests, ids and resolution, not Kafka.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledEntries, schemaKinds } from '../../schemas/catalog.ts';
import { createCodec } from '../../schemas/codec.ts';
import { codecForConfig } from '../../schemas/codecForConfig.ts';
import { loadConfig } from '../../pipeline/config.ts';
import { createRegistryCatalog, topicSubjects } from '../../schemas/registry.ts';
import type { Tap } from '../../schemas/types.ts';
import { frame } from '../../schemas/wireFormat.ts';
import avro from 'avsc';
import { logicalTypes } from '../../schemas/avroTypes.ts';

interface Registered {
  subject: string;
  schema: string;
}
const schemas = new Map<number, Registered>();
const requests: string[] = [];
const authorizations: (string | undefined)[] = [];
let nextId = 1;
let server: Server;
let url: string;

function register(subject: string, schema: string): number {
  for (const [id, r] of schemas) if (r.schema === schema) return id;
  const id = nextId++;
  schemas.set(id, { subject, schema });
  return id;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      authorizations.push(req.headers.authorization);
      const send = (status: number, obj: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(obj));
      };
      const post = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
      if (req.method === 'POST' && post) {
        const { schema } = JSON.parse(body) as { schema: string };
        return send(200, { id: register(decodeURIComponent(post[1]!), schema) });
      }
      const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && get) {
        const r = schemas.get(Number(get[1]));
        return r
          ? send(200, { schema: r.schema })
          : send(404, { error_code: 40403, message: 'Schema not found' });
      }
      send(404, { error_code: 404, message: 'HTTP 404 Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const subjects = topicSubjects({
  taps: 'taps',
  adjustments: 'adjustments',
  tapsEnriched: 'taps-enriched',
  decisions: 'decisions',
  alerts: 'fraud-alerts',
  dlq: 'taps-dlq',
  adjustmentsEnriched: 'adjustments-enriched',
});
const now = Date.UTC(2026, 10, 30);
const tap: Tap = {
  tap_id: 't-1',
  occurred_at: Date.UTC(2026, 10, 9),
  account_id: 'a',
  msisdn: '01012345678',
  carrier: 'LGU',
  device_id: 'd',
  ip: '10.1.2.3',
  platform_id: 'p',
  creator_id: null,
  item_id: null,
  channel: 'WEB',
  amount: 500,
  currency: 'KRW',
  status: 'APPROVED',
  retry_of: null,
};

describe('schema registry catalog', () => {
  it('registers the current schema of every kind under its topic subject and frames with those ids', async () => {
    const catalog = await createRegistryCatalog({ url, subjects });
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual(
      schemaKinds.map((k) => `POST /subjects/${subjects[k]}/versions application/vnd.schemaregistry.v1+json`),
    );
    const ids = schemaKinds.map((k) => catalog.writerId(k));
    expect(new Set(ids).size).toBe(schemaKinds.length);
    for (const k of schemaKinds) expect(schemas.get(catalog.writerId(k))!.subject).toBe(subjects[k]);
    const codec = createCodec({ catalog, now: () => now });
    const bytes = codec.encode('tap', tap);
    expect(bytes.readUInt32BE(1)).toBe(catalog.writerId('tap'));
    expect(codec.decode('tap', bytes)).toEqual({ ok: true, value: tap, schemaId: catalog.writerId('tap') });
  });

  it('fetches an older writer schema by id and reads it with the current reader', async () => {
    const v1 = bundledEntries().find((e) => e.kind === 'tap')!.schema as { fields: { name: string }[] };
    const older = { ...v1, fields: v1.fields.filter((f) => f.name !== 'retry_of') };
    const olderId = register('taps-value', JSON.stringify(older));
    const { retry_of: _r, ...olderTap } = tap;
    const body = avro.Type.forSchema(older as avro.Schema, { logicalTypes }).toBuffer(olderTap);
    const codec = createCodec({ catalog: await createRegistryCatalog({ url, subjects }), now: () => now });
    const framed = frame(olderId, body);
    expect(codec.decode('tap', framed)).toMatchObject({ ok: false, code: 'UNKNOWN_SCHEMA_ID' });
    await codec.prefetch([framed]);
    expect(codec.decode('tap', framed)).toEqual({ ok: true, value: tap, schemaId: olderId });
  });

  it('refuses ids the registry does not know, and schemas that are no Tapline record', async () => {
    const foreignId = register('other-value', JSON.stringify({ type: 'record', name: 'Other', fields: [] }));
    const codec = createCodec({ catalog: await createRegistryCatalog({ url, subjects }), now: () => now });
    const missing = frame(9999, Buffer.alloc(0));
    const foreign = frame(foreignId, Buffer.alloc(0));
    await codec.prefetch([missing, foreign, Buffer.from('junk')]);
    expect(codec.decode('tap', missing)).toEqual({
      ok: false,
      code: 'UNKNOWN_SCHEMA_ID',
      reason: 'schema id 9999 is not in the schema registry',
    });
    expect(codec.decode('tap', foreign)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Other, which is no Tapline record'),
    });
  });

  it('sends credentials from the URL as Basic auth and never shows them', async () => {
    authorizations.length = 0;
    const withCreds = url.replace('http://', 'http://api-key:s%3Acret@');
    await createRegistryCatalog({ url: withCreds, subjects });
    expect(new Set(authorizations)).toEqual(
      new Set([`Basic ${Buffer.from('api-key:s:cret').toString('base64')}`]),
    );
    const down = createRegistryCatalog({
      url: 'http://api-key:s3cret@127.0.0.1:9',
      subjects,
      timeoutMs: 2000,
    });
    await expect(down).rejects.toThrow(/Schema registry at http:\/\/127\.0\.0\.1:9 did not answer/);
    await expect(down).rejects.not.toThrow(/s3cret/);
  });

  it('says so, retryably, when the registry is down', async () => {
    await expect(
      createRegistryCatalog({ url: 'http://127.0.0.1:9', subjects, timeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: 'SERVICE_UNREACHABLE',
      canRetry: true,
    });
  });

  it('is what codecForConfig builds when SCHEMA_REGISTRY_URL is set, and the bundled ids otherwise', async () => {
    const withRegistry = await codecForConfig(loadConfig({ SCHEMA_REGISTRY_URL: url }).config);
    expect(
      withRegistry
        .encode('decision', {
          tap_id: 't',
          decision: 'ALLOW',
          rules: [],
          reasons: [],
          rules_version: 'r',
          geo_db: 'g',
          decided_at: now,
        })
        .readUInt32BE(1),
    ).not.toBe(401);
    const local = await codecForConfig(loadConfig({}).config);
    expect(
      local
        .encode('decision', {
          tap_id: 't',
          decision: 'ALLOW',
          rules: [],
          reasons: [],
          rules_version: 'r',
          geo_db: 'g',
          decided_at: now,
        })
        .readUInt32BE(1),
    ).toBe(401);
  });
});
