import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseInputLine } from '../../schemas/jsonLines.ts';
import type { InputRecord } from '../../schemas/types.ts';
import {
  defaultSimulation,
  generateTraffic,
  simulateTraffic,
  type SimulationOptions,
} from '../../simulator/traffic.ts';
import { writeTrafficFiles } from '../../simulator/fileOutput.ts';

const dir = mkdtempSync(join(tmpdir(), 'tapline-sim-'));
const options: SimulationOptions = {
  ...defaultSimulation,
  seed: 5,
  count: 30_000,
  fraudShare: 0.03,
  days: 10,
};
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

async function write(name: string, o: SimulationOptions) {
  const out = join(dir, `${name}.jsonl`);
  const labels = join(dir, `${name}.labels.jsonl`);
  const counts = await writeTrafficFiles(simulateTraffic(o), out, labels);
  return { out, labels, counts };
}

let a: Awaited<ReturnType<typeof write>>;
beforeAll(async () => {
  a = await write('a', options);
});

describe('simulated files', () => {
  it('are byte-identical for the same seed and options, and differ for another seed', async () => {
    const again = await write('again', options);
    expect(sha(again.out)).toBe(sha(a.out));
    expect(sha(again.labels)).toBe(sha(a.labels));
    const other = await write('other', { ...options, seed: 6 });
    expect(sha(other.out)).not.toBe(sha(a.out));
  });

  it('hold exactly --count taps, and one label line per fraud tap', () => {
    expect(a.counts.taps).toBe(30_000);
    expect(lines(a.labels)).toHaveLength(a.counts.fraudTaps);
    expect(a.counts.fraudTaps).toBe(900);
  });

  it('round-trip through the JSON Lines codec to the records generated', () => {
    const generated: InputRecord[] = [...generateTraffic(options)].map((r) => r.record);
    const parsed = lines(a.out).map((line, i) => {
      const outcome = parseInputLine(line, { now: Date.parse('2030-01-01T00:00:00Z') });
      if (!outcome.ok) throw new Error(`line ${i + 1}: ${outcome.reason}`);
      return outcome.record;
    });
    expect(parsed).toHaveLength(generated.length);
    expect(parsed).toEqual(generated);
  });

  it('keep labels out of the taps: only contract fields, no label values', () => {
    const tapFields = new Set([
      'type',
      'tap_id',
      'occurred_at',
      'account_id',
      'msisdn',
      'carrier',
      'device_id',
      'ip',
      'platform_id',
      'creator_id',
      'item_id',
      'channel',
      'amount',
      'currency',
      'status',
      'retry_of',
    ]);
    const adjustmentFields = new Set([
      'type',
      'adjustment_id',
      'occurred_at',
      'tap_id',
      'kind',
      'amount',
      'reason',
    ]);
    const instanceIds = new Set(
      lines(a.labels).map((l) => (JSON.parse(l) as { instance_id: string }).instance_id),
    );
    for (const line of lines(a.out)) {
      const obj = JSON.parse(line) as Record<string, unknown>;
      const allowed = obj['type'] === 'tap' ? tapFields : adjustmentFields;
      for (const key of Object.keys(obj)) expect(allowed.has(key), key).toBe(true);
      expect(line).not.toMatch(
        /card_testing|device_farm|account_takeover|monthly_cap|stolen_msisdn|small_tap_burst|scenario/,
      );
      for (const v of Object.values(obj)) if (typeof v === 'string') expect(instanceIds.has(v)).toBe(false);
    }
    const labelled = new Set(lines(a.labels).map((l) => (JSON.parse(l) as { tap_id: string }).tap_id));
    const tapIds = new Set(
      lines(a.out)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((o) => o['type'] === 'tap')
        .map((o) => o['tap_id']),
    );
    for (const id of labelled) expect(tapIds.has(id)).toBe(true);
  });

  it('are in event-time order with unique ids', () => {
    const records = [...generateTraffic(options)].map((r) => r.record);
    for (let i = 1; i < records.length; i++)
      expect(records[i]!.occurred_at).toBeGreaterThanOrEqual(records[i - 1]!.occurred_at);
    const ids = records.map((r) => (r.type === 'tap' ? r.tap_id : r.adjustment_id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never adjust more than is open on a tap, nor before it, nor a tap that was not approved', () => {
    const taps = new Map<string, { at: number; status: string; open: number; held: number }>();
    let adjustments = 0;
    for (const { record: r } of generateTraffic({ ...options, count: 100_000, days: 20 })) {
      if (r.type === 'tap') {
        taps.set(r.tap_id, { at: r.occurred_at, status: r.status, open: r.amount, held: 0 });
        continue;
      }
      adjustments++;
      const tap = taps.get(r.tap_id);
      expect(tap, r.adjustment_id).toBeDefined();
      expect(tap!.status).toBe('APPROVED');
      expect(r.occurred_at).toBeGreaterThanOrEqual(tap!.at);
      expect(r.amount).toBeGreaterThan(0);
      if (r.kind === 'COLLECTED' || r.kind === 'WRITE_OFF') {
        expect(r.amount).toBeLessThanOrEqual(tap!.held);
        tap!.held -= r.amount;
      } else {
        expect(r.amount).toBeLessThanOrEqual(tap!.open);
        tap!.open -= r.amount;
        if (r.kind === 'UNPAID') tap!.held += r.amount;
      }
    }
    expect(adjustments).toBeGreaterThan(2000);
  });
});
