import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  checkAvroBounds,
  hasCountedCollections,
  logicalTypes,
  schemaFileUrl,
} from '../../schemas/avroTypes.ts';

const root = join(import.meta.dirname, '../..');

describe('schemaFileUrl', () => {
  it('finds the .avsc beside the sources, and from a compiled dist/ module back in the sources', () => {
    const fromSources = pathToFileURL(join(root, 'schemas/avroTypes.ts')).href;
    const fromDist = pathToFileURL(join(root, 'dist/schemas/avroTypes.js')).href;
    const expected = join(root, 'schemas/avro/tap.v1.avsc');
    expect(fileURLToPath(schemaFileUrl('tap.v1', fromSources))).toBe(expected);
    expect(fileURLToPath(schemaFileUrl('tap.v1', fromDist))).toBe(expected);
    expect(() => schemaFileUrl('tap.v9', fromSources)).toThrow(/tap\.v9\.avsc not found/);
  });
});

describe('timestamp-millis logical type', () => {
  const type = avro.Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' }, { logicalTypes });

  it('reads and writes epoch ms numbers, not Dates', () => {
    const ms = Date.UTC(2026, 10, 9, 11);
    expect(type.fromBuffer(type.toBuffer(ms))).toBe(ms);
    expect(type.isValid(new Date(ms))).toBe(false);
    expect(type.isValid(1.5)).toBe(false);
  });
});

describe('checkAvroBounds', () => {
  const rules = avro.Type.forSchema({
    type: 'record',
    name: 'R',
    fields: [
      { name: 'xs', type: { type: 'array', items: 'string' } },
      { name: 'm', type: { type: 'map', values: 'long' } },
    ],
  });

  it('accepts exactly one well-formed value', () => {
    const body = rules.toBuffer({ xs: ['a', 'bc'], m: { k: 1 } });
    expect(checkAvroBounds(rules, body)).toBeNull();
    expect(checkAvroBounds(rules, Buffer.concat([body, Buffer.from([0])]))).toBe(
      '1 bytes left over after the record',
    );
  });

  it('refuses counts and lengths the bytes cannot hold, and runaway varints', () => {
    expect(checkAvroBounds(rules, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0, 0]))).toMatch(
      /announces 2147483647 items/,
    );
    expect(checkAvroBounds(rules, Buffer.from([0x02, 0x7e, 0x61, 0x00, 0x00]))).toMatch(
      /a string announces 63 bytes/,
    );
    expect(checkAvroBounds(rules, Buffer.from(Array(12).fill(0xff)))).toBe(
      'a number runs longer than 10 bytes',
    );
    // A negative count (block with byte size) is bounded the same way.
    expect(checkAvroBounds(rules, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00]))).toMatch(
      /announces 1073741824 items/,
    );
  });

  it('knows which schemas need it', () => {
    expect(hasCountedCollections(rules)).toBe(true);
    expect(
      hasCountedCollections(
        avro.Type.forSchema({ type: 'record', name: 'S', fields: [{ name: 's', type: ['null', 'string'] }] }),
      ),
    ).toBe(false);
  });
});
