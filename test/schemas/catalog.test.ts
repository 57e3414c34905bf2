import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { logicalTypes } from '../../schemas/avroTypes.ts';
import {
  bundledEntries,
  bundledIds,
  compatibilityProblems,
  createLocalCatalog,
  schemaKinds,
  type CatalogEntry,
} from '../../schemas/catalog.ts';

type Field = { name: string; type: unknown; default?: unknown; doc?: string };
type RecordSchema = { fields: Field[] };

function tapV1(): CatalogEntry {
  return structuredClone(bundledEntries().find((e) => e.id === 101)!);
}

function withVersion(
  base: CatalogEntry,
  id: number,
  version: number,
  edit: (s: RecordSchema) => void,
): CatalogEntry {
  const schema = structuredClone(base.schema) as RecordSchema;
  edit(schema);
  return { ...base, id, version, schema };
}

const addOptional = (s: RecordSchema) =>
  s.fields.push({ name: 'pg_approval_code', type: ['null', 'string'], default: null, doc: 'PG code.' });
const addRequired = (s: RecordSchema) =>
  s.fields.push({ name: 'pg_approval_code', type: 'string', doc: 'PG code.' });
const dropEnumSymbol = (s: RecordSchema) => {
  const carrier = s.fields.find((f) => f.name === 'carrier')!;
  (carrier.type as { symbols: string[] }).symbols = ['SKT', 'KT', 'LGU'];
};
const amountToInt = (s: RecordSchema) => {
  s.fields.find((f) => f.name === 'amount')!.type = 'int';
};

describe('bundled schemas', () => {
  it('have fixed, unique ids and one current schema per kind', () => {
    const ids = bundledIds.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    const catalog = createLocalCatalog();
    expect(schemaKinds.map((k) => catalog.writerId(k))).toEqual([101, 201, 301, 401, 501, 601, 701]);
  });

  it('are backward compatible over every pair of versions', () => {
    expect(compatibilityProblems(bundledEntries())).toEqual([]);
  });
});

describe('compatibility check', () => {
  it('accepts a v2 that adds an optional field with a null default', () => {
    expect(compatibilityProblems([tapV1(), withVersion(tapV1(), 102, 2, addOptional)])).toEqual([]);
  });

  it.each([
    ['a required field without a default', addRequired],
    ['a removed enum symbol', dropEnumSymbol],
    ['a long narrowed to int', amountToInt],
  ])('fails on a v2 with %s', (_what, edit) => {
    const problems = compatibilityProblems([tapV1(), withVersion(tapV1(), 102, 2, edit)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^tap v2 cannot read v1: /);
  });

  it('checks every pair, so v3 must still read v1', () => {
    const v2 = withVersion(tapV1(), 102, 2, addOptional);
    // v3 drops the default of v2's new field: v2 records carry the field, v1 records do not.
    const v3 = withVersion(v2, 103, 3, (s) => {
      delete s.fields.find((f) => f.name === 'pg_approval_code')!.default;
    });
    const problems = compatibilityProblems([tapV1(), v2, v3]);
    expect(problems).toEqual([expect.stringMatching(/^tap v3 cannot read v1: /)]);
  });
});

describe('catalog resolution', () => {
  it('reads a record written with v1 through the current v2 reader', () => {
    const v1 = tapV1();
    const catalog = createLocalCatalog([v1, withVersion(v1, 102, 2, addOptional)]);
    expect(catalog.writerId('tap')).toBe(102);
    const writer = avro.Type.forSchema(v1.schema as avro.Schema, { logicalTypes });
    const record = {
      tap_id: 't',
      occurred_at: Date.UTC(2026, 0, 1),
      account_id: 'a',
      msisdn: '01012345678',
      carrier: 'MVNO',
      device_id: 'd',
      ip: '::1',
      platform_id: 'p',
      creator_id: null,
      item_id: 'i',
      channel: null,
      amount: 300,
      currency: 'KRW',
      status: 'DECLINED',
      retry_of: 'x',
    };
    const found = catalog.lookup(101, 'tap');
    if (!found.ok) throw new Error(found.reason);
    expect(found.resolver).not.toBeNull();
    const decoded = found.reader.decode(writer.toBuffer(record), 0, found.resolver!);
    expect({ ...(decoded.value as object) }).toEqual({ ...record, pg_approval_code: null });
  });

  it('refuses to build a catalog holding an incompatible version', () => {
    expect(() => createLocalCatalog([tapV1(), withVersion(tapV1(), 102, 2, addRequired)])).toThrow();
  });
});
