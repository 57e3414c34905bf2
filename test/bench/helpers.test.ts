// Helpers the end-to-end benchmarks depend on: tap ids found in encoded decisions, RSS parsing and
// growth, worker exit classification, the script-benchmark protocol and the workload's encoding.
import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { extractTapIds, tapIdPattern } from '../../bench/decisionWatch.ts';
import { kafkaVersionFromCmdline } from '../../bench/machine.ts';
import { naiveKeys, seoulMonth } from '../../bench/redisReference.ts';
import { exportsBenchmarks, parseFigureLines, scriptArgs } from '../../bench/registry.ts';
import {
  BENCH_SCHEMA_ID,
  benchTapId,
  confluentFrame,
  decodeBenchTap,
  encodeBenchTap,
  takeTaps,
} from '../../bench/taps.ts';
import {
  exitToError,
  isNotImplemented,
  parseVmRss,
  rssGrowthMbPerMinute,
} from '../../bench/workerProcess.ts';

describe('tap ids in decision bytes', () => {
  const decisionType = avro.Type.forSchema({
    type: 'record',
    name: 'D',
    fields: [
      { name: 'tap_id', type: 'string' },
      { name: 'decision', type: { type: 'enum', name: 'O', symbols: ['ALLOW', 'REVIEW', 'BLOCK'] } },
      { name: 'rules', type: { type: 'array', items: 'string' } },
    ],
  });

  it('finds the id in a Confluent-framed Avro record and in JSON, and nothing of other runs', () => {
    const pattern = tapIdPattern('Labc1r0');
    const id = benchTapId('Labc1r0', 42);
    expect(id).toBe('Labc1r0-000000042');
    const avroBytes = confluentFrame(
      7,
      decisionType.toBuffer({ tap_id: id, decision: 'REVIEW', rules: ['account_burst'] }),
    );
    expect(extractTapIds(avroBytes, pattern)).toEqual([id]);
    expect(extractTapIds(Buffer.from(JSON.stringify({ tap_id: id })), pattern)).toEqual([id]);
    const other = confluentFrame(
      7,
      decisionType.toBuffer({ tap_id: benchTapId('Labc1r1', 42), decision: 'ALLOW', rules: [] }),
    );
    expect(extractTapIds(other, pattern)).toEqual([]);
  });

  it('does not run into digits that follow the fixed-width number', () => {
    const pattern = tapIdPattern('P');
    expect(extractTapIds(Buffer.from(`${benchTapId('P', 7)}123`), pattern)).toEqual(['P-000000007']);
  });
});

describe('worker process', () => {
  it('reads VmRSS in bytes from /proc/<pid>/status text', () => {
    const status = 'Name:\tnode\nVmPeak:\t 900000 kB\nVmRSS:\t  123456 kB\nThreads:\t11\n';
    expect(parseVmRss(status)).toBe(123_456 * 1024);
    expect(parseVmRss('Name:\tzombie\n')).toBeUndefined();
  });

  it('measures growth as a least-squares slope in MB per minute', () => {
    const MB = 2 ** 20;
    const growing = Array.from({ length: 61 }, (_, t) => ({ t, bytes: 100 * MB + t * (MB / 6) }));
    expect(rssGrowthMbPerMinute(growing)).toBeCloseTo(10, 6);
    const flat = Array.from({ length: 61 }, (_, t) => ({ t, bytes: 100 * MB + (t % 2) * MB }));
    expect(Math.abs(rssGrowthMbPerMinute(flat))).toBeLessThan(0.1);
  });

  it('turns the NOT_IMPLEMENTED stub into a skip and any other early exit into an error', () => {
    const stub = {
      code: 2,
      signal: null,
      stderr: 'tapline: tapline run is not implemented yet (see the open issues).\n',
    };
    expect(isNotImplemented(stub)).toBe(true);
    expect(exitToError(stub).name).toBe('BenchSkip');
    const crash = { code: 1, signal: null, stderr: 'tapline: Cannot reach Kafka\n' };
    expect(isNotImplemented(crash)).toBe(false);
    const err = exitToError(crash);
    expect(err.name).toBe('Error');
    expect(err.message).toContain('exited early with 1: tapline: Cannot reach Kafka');
  });
});

describe('registry', () => {
  it('recognises in-process benchmark modules by their exports', () => {
    expect(exportsBenchmarks('export const benchmark = defineBenchmark({})')).toBe(true);
    expect(exportsBenchmarks('export const benchmarks: Benchmark[] = []')).toBe(true);
    expect(exportsBenchmarks('const benchmark = 1;\nexport { benchmark };')).toBe(true);
    expect(exportsBenchmarks('const count = Number(process.argv[2]);\nconsole.log(count)')).toBe(false);
  });

  it('reads BENCH lines of a script benchmark and rejects malformed ones', () => {
    const out =
      'warming up\nBENCH {"metric":"rows","unit":"rows/s","value":1234}\nBENCH {"metric":"t","unit":"s","value":2.5,"better":"lower"}\n';
    expect(parseFigureLines(out)).toEqual([
      { metric: 'rows', unit: 'rows/s', value: 1234 },
      { metric: 't', unit: 's', value: 2.5, better: 'lower' },
    ]);
    expect(() => parseFigureLines('BENCH {"metric":"x"}')).toThrow(/malformed/);
  });

  it('passes a script benchmark only its own --set NAME-args, split on whitespace', () => {
    const options = new Map([
      ['settle-args', ' 10000000   --clickhouse-only '],
      ['detect-args', '5000'],
    ]);
    expect(scriptArgs('settle', options)).toEqual(['10000000', '--clickhouse-only']);
    expect(scriptArgs('sink', options)).toEqual([]);
  });
});

describe('machine and workload', () => {
  it('reads the broker release from a kafka.Kafka command line', () => {
    expect(
      kafkaVersionFromCmdline('java -cp /x/.cache/kafka/3.9.1/libs/* kafka.Kafka server.properties'),
    ).toBe('3.9.1');
    expect(kafkaVersionFromCmdline('java -cp libs/kafka_2.13-4.0.0.jar kafka.Kafka s.p')).toBe('4.0.0');
    expect(kafkaVersionFromCmdline('java -cp libs/kafka_2.13-4.0.0.jar org.Other')).toBeUndefined();
  });

  it('generates the same taps for the same seed, with unique ids', () => {
    const a = takeTaps({ accounts: 100, idPrefix: 'w' }, 500);
    expect(takeTaps({ accounts: 100, idPrefix: 'w' }, 500)).toEqual(a);
    expect(new Set(a.map((t) => t.tap_id)).size).toBe(500);
    expect(a.every((t, i) => i === 0 || t.occurred_at >= a[i - 1]!.occurred_at)).toBe(true);
  });

  it('frames the stand-in encoding as Confluent wire format and round-trips it', () => {
    const [tap] = takeTaps({ accounts: 10, idPrefix: 'f' }, 1);
    const bytes = encodeBenchTap(tap!);
    expect(bytes.readUInt8(0)).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(BENCH_SCHEMA_ID);
    expect(decodeBenchTap(bytes)).toEqual(tap);
  });

  it('puts each entity of the naive design under its own hash tag and counts months in Seoul time', () => {
    const [tap] = takeTaps({ accounts: 10, idPrefix: 'k' }, 1);
    const keys = naiveKeys('p:', tap!);
    expect(keys).toHaveLength(9);
    expect(keys[1]).toBe(`p:{a:${tap!.account_id}}:burst`);
    expect(keys[3]).toBe(`p:{m:${tap!.msisdn}}:amounts`);
    expect(keys[5]).toBe(`p:{d:${tap!.device_id}}:accounts`);
    expect(seoulMonth(Date.parse('2026-11-30T15:30:00Z'))).toBe('2026-12');
    expect(seoulMonth(Date.parse('2026-11-30T14:59:59.999Z'))).toBe('2026-11');
  });
});
