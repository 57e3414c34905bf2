/** The worked example of DESIGN.md (test/fixtures/example): settled offline, it is the expected statement. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InputRecord } from '../../schemas/types.ts';
import { parseContracts } from '../../settlement/contracts.ts';
import { settleRecords, type SourceItem } from '../../settlement/offline.ts';
import { parsePeriod } from '../../settlement/period.ts';
import { statementToJson } from '../../settlement/statementFormat.ts';

const dir = new URL('../fixtures/example/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');

/** Without the free parts (key order, generated_from wording) the statement is compared whole. */
function comparable(json: string): unknown {
  const { generated_from: _ignored, ...rest } = JSON.parse(json) as Record<string, unknown>;
  return rest;
}

describe('worked example', () => {
  it('settles events.jsonl for 2026-11 to statement.expected.json', async () => {
    const items: SourceItem[] = read('events.jsonl')
      .trim()
      .split('\n')
      .map((text, i) => {
        const r = JSON.parse(text) as Record<string, unknown>;
        const record = { creator_id: null, ...r, occurred_at: Date.parse(String(r['occurred_at'])) };
        return { lineNo: i + 1, record: record as unknown as InputRecord };
      });
    const run = await settleRecords(items, {
      period: parsePeriod('2026-11'),
      contracts: parseContracts(JSON.parse(read('contracts.json'))),
      opening: [],
      generatedFrom: 'events.jsonl',
    });
    expect(comparable(statementToJson(run.statement))).toEqual(comparable(read('statement.expected.json')));
    expect(run.rejects).toEqual([]);
    expect(run.counts).toMatchObject({ taps: 13, adjustmentsApplied: 2 });
  });
});
