// The compiled build (dist/) is what the Docker image and the benchmarks run: it must build from the
// sources, decide the worked example as the sources do, and find the Avro schemas tsc does not copy.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { workerCli } from '../../bench/workerProcess.ts';
import type { createCodec as CreateCodec } from '../../schemas/codec.ts';

const fixtures = join(import.meta.dirname, '../fixtures/example');
let cli = '';

beforeAll(() => {
  cli = workerCli();
}, 120_000);

describe('compiled build', () => {
  it('decides the worked example exactly as decisions.expected.jsonl', () => {
    const out = execFileSync(process.execPath, [cli, 'backtest', '--input', join(fixtures, 'events.jsonl')], {
      env: { ...process.env, LOG_LEVEL: 'error' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const got = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((d) => ({ tap_id: d['tap_id'], decision: d['decision'], rules: d['rules'] }));
    const expected = readFileSync(join(fixtures, 'decisions.expected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(got).toEqual(expected);
  });

  it('encodes and decodes a tap with the bundled Avro schemas from dist/', async () => {
    const codecModule = pathToFileURL(join(cli, '../../schemas/codec.js')).href;
    const { createCodec } = (await import(codecModule)) as { createCodec: typeof CreateCodec };
    const codec = createCodec();
    const tap = {
      tap_id: 'compiled-1',
      occurred_at: Date.parse('2026-11-10T01:02:03Z'),
      account_id: 'acc-1',
      msisdn_hash: 'a'.repeat(64),
      msisdn_key_version: 1,
      carrier: 'SKT',
      device_id: 'dev-1',
      ip: '168.126.63.1',
      platform_id: 'toonville',
      creator_id: 'c-1',
      item_id: null,
      channel: 'APP',
      amount: 500,
      currency: 'KRW',
      status: 'APPROVED',
      retry_of: null,
    } as const;
    const decoded = codec.decode('tapEnriched', codec.encode('tapEnriched', tap));
    expect(decoded).toMatchObject({ ok: true, value: tap });
  });
});
