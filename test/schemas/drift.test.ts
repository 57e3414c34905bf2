// The TypeScript interfaces (through the typed field lists of schemas/fields.ts) and the .avsc files
// must describe the same records: same field names in the same order, same optionality, same enums.
import { describe, expect, it } from 'vitest';
import { bundledEntries, type SchemaKind } from '../../schemas/catalog.ts';
import {
  adjustmentAppliedFields,
  adjustmentFields,
  alertFields,
  decisionFields,
  dlqFields,
  tapEnrichedFields,
  tapFields,
  type Presence,
} from '../../schemas/fields.ts';
import type { AppliedAdjustment as PipelineAppliedAdjustment } from '../../pipeline/topology.ts';
import type { AppliedAdjustment } from '../../schemas/types.ts';
import { adjustmentKinds, carriers, channels, decisionOutcomes, tapStatuses } from '../../schemas/types.ts';

type AvroField = { name: string; type: unknown; default?: unknown; doc?: string };

const tables: Record<SchemaKind, Record<string, Presence>> = {
  tap: tapFields,
  adjustment: adjustmentFields,
  tapEnriched: tapEnrichedFields,
  decision: decisionFields,
  alert: alertFields,
  dlq: dlqFields,
  adjustmentApplied: adjustmentAppliedFields,
};

function presenceOf(f: AvroField): Presence {
  const nullableUnion = Array.isArray(f.type) && f.type[0] === 'null' && f.default === null;
  const falseFlag = f.type === 'boolean' && f.default === false;
  return nullableUnion || falseFlag ? 'optional' : 'required';
}

function enumsOf(schema: unknown, out: Record<string, string[]> = {}): Record<string, string[]> {
  if (Array.isArray(schema)) schema.forEach((s) => enumsOf(s, out));
  else if (schema && typeof schema === 'object') {
    const s = schema as { type?: unknown; name?: string; symbols?: string[]; fields?: AvroField[] };
    if (s.type === 'enum' && s.name && s.symbols) out[s.name] = s.symbols;
    s.fields?.forEach((f) => enumsOf(f.type, out));
    if (typeof s.type === 'object') enumsOf(s.type, out);
  }
  return out;
}

const expectedEnums: Record<string, readonly string[]> = {
  Carrier: carriers,
  TapStatus: tapStatuses,
  Channel: channels,
  AdjustmentKind: adjustmentKinds,
  DecisionOutcome: decisionOutcomes,
};

const entries = bundledEntries();
const newest = (e: (typeof entries)[number]) =>
  entries.every((o) => o.kind !== e.kind || o.version <= e.version);

describe.each(entries.map((e) => [`${e.kind} v${e.version}`, e] as const))('%s', (_name, entry) => {
  const fields = (entry.schema as { fields: AvroField[] }).fields;

  // Older versions keep the fields they had; the TypeScript type follows the newest one.
  it.runIf(newest(entry))('has the fields of the TypeScript type, with the same optionality', () => {
    expect(fields.map((f) => [f.name, presenceOf(f)])).toEqual(Object.entries(tables[entry.kind]));
  });

  it('documents every field and gives every optional union a null default', () => {
    for (const f of fields) {
      expect(f.doc, f.name).toMatch(/\S{3}/);
      if (Array.isArray(f.type)) expect([f.name, f.type[0], f.default]).toEqual([f.name, 'null', null]);
    }
  });

  it('uses timestamp-millis for every time and the TypeScript enums', () => {
    for (const f of fields.filter((f) => f.name.endsWith('_at'))) {
      expect(f.type, f.name).toEqual({ type: 'long', logicalType: 'timestamp-millis' });
    }
    for (const [name, symbols] of Object.entries(enumsOf(entry.schema))) {
      // Symbols are only ever appended, so an older version holds a prefix of today's list.
      const expected = expectedEnums[name] ?? [];
      expect(symbols, name).toEqual(newest(entry) ? expected : expected.slice(0, symbols.length));
    }
  });
});

// pipeline/topology.ts declares AppliedAdjustment too; both must stay the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const appliedAdjustmentIsTheSame: Same<PipelineAppliedAdjustment, AppliedAdjustment> = true;
it('AppliedAdjustment of pipeline/topology.ts is the contract of schemas/types.ts', () => {
  expect(appliedAdjustmentIsTheSame).toBe(true);
});
