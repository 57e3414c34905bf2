import { describe, expect, it } from 'vitest';
import { BatchBuffer } from '../../../sinks/clickhouse/batchBuffer.ts';
import { parseClickHouseError } from '../../../sinks/clickhouse/errors.ts';
import { renderTable } from '../../../sinks/clickhouse/resultFormat.ts';
import { ttlYears } from '../../../sinks/clickhouse/retention.ts';
import { chTime } from '../../../sinks/clickhouse/rows.ts';
import { versionHasDedupToken } from '../../../sinks/clickhouse/store.ts';

const source = { describe: 'ClickHouse at http://h:8123', hint: 'Fix CLICKHOUSE_URL.' };

describe('parseClickHouseError', () => {
  it('maps refused credentials, old and new server texts, to CLICKHOUSE_AUTH', () => {
    const modern = Object.assign(new Error('default: Authentication failed'), { code: '516' });
    const old = new Error('Code: 193, e.displayText() = DB::Exception: Wrong password for user default');
    for (const e of [modern, old]) {
      const parsed = parseClickHouseError(e, source);
      expect(parsed.code).toBe('CLICKHOUSE_AUTH');
      expect(parsed.canRetry).toBe(false);
      expect(parsed.message).toContain('CLICKHOUSE_PASSWORD');
      expect(parsed.cause).toBe(e);
    }
  });

  it('maps refused connections to a retryable CLICKHOUSE_UNAVAILABLE', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const parsed = parseClickHouseError(e, source);
    expect(parsed).toMatchObject({ code: 'CLICKHOUSE_UNAVAILABLE', canRetry: true });
    expect(parsed.message).toBe(
      'Cannot reach ClickHouse at http://h:8123 (ECONNREFUSED). Fix CLICKHOUSE_URL.',
    );
  });

  it('maps bad SQL to CLICKHOUSE_QUERY with only the first line of the server text', () => {
    const e = Object.assign(new Error('Syntax error: failed at position 1\nStack trace: ...'), {
      code: '62',
    });
    const parsed = parseClickHouseError(e, source);
    expect(parsed).toMatchObject({ code: 'CLICKHOUSE_QUERY', canRetry: false });
    expect(parsed.message).toBe(
      'ClickHouse at http://h:8123 rejected the query: Syntax error: failed at position 1',
    );
  });
});

describe('BatchBuffer', () => {
  it('names the exact offset ranges of each table in its token and commits the next offsets', () => {
    const b = new BatchBuffer();
    b.add('taps', { id: 1 }, 'taps-enriched', 0, '10', 1000);
    b.add('taps', { id: 2 }, 'taps-enriched', 0, '11', 1001);
    b.add('taps', { id: 3 }, 'taps-enriched', 1, '4', 1002);
    b.add(null, null, 'decisions', 0, '7', 1003); // undecodable: no row, offset still committed
    expect(b.rows).toBe(3);
    expect(b.firstAt).toBe(1000);
    const plan = b.take();
    expect(plan.batches).toEqual([
      {
        table: 'taps',
        rows: [{ id: 1 }, { id: 2 }, { id: 3 }],
        token: 'taps:taps-enriched/0/10-11,taps-enriched/1/4-4',
      },
    ]);
    expect(plan.commits).toEqual([
      { topic: 'taps-enriched', partition: 0, offset: '12' },
      { topic: 'taps-enriched', partition: 1, offset: '5' },
      { topic: 'decisions', partition: 0, offset: '8' },
    ]);
    expect(b.rows).toBe(0);
    expect(b.hasPositions).toBe(false);
  });
});

describe('result formatting', () => {
  it('aligns columns, numbers to the right, and counts rows', () => {
    const text = JSON.stringify({
      meta: [
        { name: 'carrier', type: 'LowCardinality(String)' },
        { name: 'amount', type: 'UInt64' },
      ],
      data: [
        ['SKT', 1000],
        ['LGU', 25],
      ],
    });
    expect(renderTable(text)).toBe(
      'carrier  amount\n-------  ------\nSKT        1000\nLGU          25\n(2 rows)\n',
    );
  });

  it('writes DateTime64 text in UTC with milliseconds', () => {
    expect(chTime(Date.UTC(2026, 10, 30, 15, 30, 0, 120))).toBe('2026-11-30 15:30:00.120');
  });
});

describe('versionHasDedupToken', () => {
  it('sends insert dedup tokens from ClickHouse 22.2 on, never to older servers', () => {
    expect(versionHasDedupToken('18.16.1')).toBe(false);
    expect(versionHasDedupToken('22.1.3.7')).toBe(false);
    expect(versionHasDedupToken('22.2.1.1')).toBe(true);
    expect(versionHasDedupToken('24.8.14.39')).toBe(true);
    expect(versionHasDedupToken('26.7.1.1')).toBe(true);
    expect(versionHasDedupToken('garbage')).toBe(false);
  });
});

describe('ttlYears', () => {
  it('reads the retention of a TTL as ClickHouse prints it, and null without one', () => {
    const q = (ttl: string) =>
      `CREATE TABLE db.taps (\`occurred_at\` DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ` +
      `PARTITION BY toYYYYMM(occurred_at) ORDER BY tap_id ${ttl}SETTINGS index_granularity = 8192`;
    expect(ttlYears(q('TTL toDateTime(occurred_at) + toIntervalYear(5) '))).toBe(5);
    expect(ttlYears(q('TTL day + toIntervalYear(12) '))).toBe(12);
    expect(ttlYears(q(''))).toBeNull();
    // An interval elsewhere in the statement is not the TTL.
    expect(ttlYears('CREATE VIEW v AS SELECT now() - toIntervalYear(1) AS t')).toBeNull();
  });
});
