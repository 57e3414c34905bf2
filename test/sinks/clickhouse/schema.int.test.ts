import { describe, expect, it } from 'vitest';
import { TaplineError } from '../../../pipeline/errors.ts';
import { currentSchemaVersion, migrate } from '../../../sinks/clickhouse/migrate.ts';
import { migrations } from '../../../sinks/clickhouse/migrations/index.ts';
import { retentionTtl, ttlYears } from '../../../sinks/clickhouse/retention.ts';
import { alertRow, decisionRow, tapRow } from '../../../sinks/clickhouse/rows.ts';
import { openEmbeddedStore } from '../../../sinks/clickhouse/store.ts';
import { alert, decision, tap } from './fixtures.ts';
import { chdbPathForFile, migratedStore, uniqueDatabase } from './helpers.ts';

const path = chdbPathForFile();

describe('schema on chDB', () => {
  it('migrates a fresh database, and a second run applies nothing', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase());
    try {
      const first = await migrate(store, { retentionYears: 5 });
      expect(first.applied).toEqual(migrations.map((m) => m.version));
      const second = await migrate(store, { retentionYears: 5 });
      expect(second.applied).toEqual([]);
      expect(second.version).toBe(first.version);
      const tables = await store.query<{ name: string; engine: string }>(
        `SELECT name, engine FROM system.tables WHERE database = {db:String} ORDER BY name`,
        { db: store.database },
      );
      const byName = Object.fromEntries(tables.map((t) => [t.name, t.engine]));
      for (const t of ['taps', 'adjustments', 'decisions', 'fraud_alerts', 'settlement_lines', 'payouts'])
        expect(byName[t]).toBe('ReplacingMergeTree');
      expect(byName['schema_migrations']).toBeDefined();
      expect(byName['device_accounts_daily_mv']).toBe('MaterializedView');
      const versions = await store.query<{ c: number }>(`SELECT count() AS c FROM schema_migrations`);
      expect(versions[0]!.c).toBe(migrations.length);
    } finally {
      await store.close();
    }
  });

  it('refuses a database whose schema is newer than it knows', async () => {
    const store = await migratedStore(path);
    try {
      await store.insert('schema_migrations', [{ version: 999, name: 'from_the_future' }]);
      expect(await currentSchemaVersion(store)).toBe(999);
      await expect(migrate(store, { retentionYears: 5 })).rejects.toMatchObject({ code: 'SCHEMA_NEWER' });
    } finally {
      await store.close();
    }
  });

  it('uses event-time types, monthly partitions and the configured retention', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase());
    try {
      await migrate(store, { retentionYears: 7 });
      const rows = await store.query<{ create_table_query: string; partition_key: string }>(
        `SELECT create_table_query, partition_key FROM system.tables WHERE database = {db:String} AND name = 'taps'`,
        { db: store.database },
      );
      expect(rows[0]!.partition_key).toBe('toYYYYMM(occurred_at)');
      expect(rows[0]!.create_table_query).toContain("DateTime64(3, 'UTC')");
      expect(rows[0]!.create_table_query).toContain('toIntervalYear(7)');
      expect(rows[0]!.create_table_query).toContain('LowCardinality(String)');
    } finally {
      await store.close();
    }
  });

  it('brings the TTL of existing tables to a changed retention, once, and drops rows past it', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase());
    const ttlOf = async (table: string) => {
      const rows = await store.query<{ q: string }>(
        `SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {t:String}`,
        { db: store.database, t: table },
      );
      return ttlYears(rows[0]!.q);
    };
    try {
      expect((await migrate(store, { retentionYears: 5 })).retention).toEqual([]);
      // Every table a migration gives a TTL is one the reconciliation knows (add new ones to retentionTtl).
      const withTtl = await store.query<{ name: string; q: string }>(
        `SELECT name, create_table_query AS q FROM system.tables WHERE database = {db:String} ORDER BY name`,
        { db: store.database },
      );
      expect(withTtl.filter((t) => ttlYears(t.q) !== null).map((t) => t.name)).toEqual(
        Object.keys(retentionTtl).sort(),
      );
      const now = Date.now();
      const threeYearsAgo = now - 3 * 365 * 86_400_000;
      await store.insert('taps', [
        tapRow(tap('old', 0, { occurred_at: threeYearsAgo })),
        tapRow(tap('new', 0, { occurred_at: now })),
      ]);
      await store.command('OPTIMIZE TABLE taps FINAL');
      expect(await store.query('SELECT tap_id FROM taps ORDER BY tap_id')).toEqual([
        { tap_id: 'new' },
        { tap_id: 'old' },
      ]);

      const shortened = await migrate(store, { retentionYears: 2 });
      expect(shortened.applied).toEqual([]);
      expect(shortened.retention.map((c) => c.table).sort()).toEqual(Object.keys(retentionTtl).sort());
      expect(shortened.retention.every((c) => c.fromYears === 5 && c.toYears === 2)).toBe(true);
      for (const table of Object.keys(retentionTtl)) expect(await ttlOf(table), table).toBe(2);
      // The shortened TTL reaches rows already stored (materialized, or at the latest at a merge).
      await store.command('OPTIMIZE TABLE taps FINAL');
      expect(await store.query('SELECT tap_id FROM taps')).toEqual([{ tap_id: 'new' }]);

      // Same retention again: nothing to alter.
      expect((await migrate(store, { retentionYears: 2 })).retention).toEqual([]);
      const lengthened = await migrate(store, { retentionYears: 10 });
      expect(lengthened.retention).toHaveLength(Object.keys(retentionTtl).length);
      expect(await ttlOf('fraud_alerts')).toBe(10);
    } finally {
      await store.close();
    }
  });

  it('rejects a second chDB path in the same process with CHDB_PATH_IN_USE', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase());
    try {
      const attempt = openEmbeddedStore(`${path}-other`, 'x');
      await expect(attempt).rejects.toBeInstanceOf(TaplineError);
      await expect(openEmbeddedStore(`${path}-other`, 'x')).rejects.toMatchObject({
        code: 'CHDB_PATH_IN_USE',
      });
      // The first store still works.
      expect(await store.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await store.close();
    }
  });

  it('turns bad SQL into CLICKHOUSE_QUERY', async () => {
    const store = await openEmbeddedStore(path, uniqueDatabase());
    try {
      await expect(store.query('SELEC 1')).rejects.toMatchObject({
        code: 'CLICKHOUSE_QUERY',
        canRetry: false,
      });
      await expect(store.query('SELECT * FROM no_such_table')).rejects.toMatchObject({
        code: 'CLICKHOUSE_QUERY',
      });
    } finally {
      await store.close();
    }
  });

  it('stores events with exact times and folds a replayed batch in the unique views and rollups', async () => {
    const store = await migratedStore(path);
    try {
      const taps = [
        tap('t1', 0),
        tap('t2', 0, { account_id: 'acc-2', amount: 2500 }),
        tap('t3', 1, { account_id: 'acc-3', carrier: 'KT', status: 'DECLINED' }),
      ];
      const decisions = [
        decision(taps[0]!, 'ALLOW'),
        decision(taps[1]!, 'REVIEW', ['device_many_accounts']),
        decision(taps[2]!, 'REVIEW', ['device_many_accounts', 'account_declines']),
      ];
      const alerts = [alert(taps[1]!, decisions[1]!), alert(taps[2]!, decisions[2]!)];
      // The same batch twice under different tokens: what a replay with other batch edges does.
      for (const round of [1, 2]) {
        await store.insert('taps', taps.map(tapRow), { dedupToken: `taps-r${round}` });
        await store.insert('decisions', decisions.map(decisionRow), { dedupToken: `d-r${round}` });
        await store.insert('fraud_alerts', alerts.map(alertRow), { dedupToken: `a-r${round}` });
      }
      const raw = await store.query<{ c: number }>('SELECT count() AS c FROM taps');
      expect(raw[0]!.c).toBe(6); // the copies are there until a merge...
      const unique = await store.query<{ c: number; s: number }>(
        'SELECT count() AS c, sum(amount) AS s FROM taps_unique',
      );
      expect(unique[0]).toEqual({ c: 3, s: 4500 }); // ...and the view counts each tap once
      const times = await store.query<{ t: string }>(
        "SELECT toString(occurred_at) AS t FROM taps_unique WHERE tap_id = 't2'",
      );
      expect(times[0]!.t).toBe('2026-11-03 01:00:00.000');
      const devices = await store.query<{ day: string; device_id: string; accounts: number }>(
        'SELECT toString(day) AS day, device_id, accounts FROM device_accounts_per_day',
      );
      expect(devices).toEqual([{ day: '2026-11-03', device_id: 'dev-1', accounts: 3 }]);
      const hits = await store.query<{ rule: string; hits: number }>(
        'SELECT rule, sum(hits) AS hits FROM rule_hits_per_hour GROUP BY rule ORDER BY rule',
      );
      expect(hits).toEqual([
        { rule: 'account_declines', hits: 1 },
        { rule: 'device_many_accounts', hits: 2 },
      ]);
      const minute = await store.query<Record<string, unknown>>(
        `SELECT toString(minute) AS minute, carrier, status, decision, taps, amount
         FROM dashboard_minute ORDER BY minute, carrier, decision`,
      );
      expect(minute).toEqual([
        {
          minute: '2026-11-03 01:00:00',
          carrier: 'SKT',
          status: 'APPROVED',
          decision: 'ALLOW',
          taps: 1,
          amount: 1000,
        },
        {
          minute: '2026-11-03 01:00:00',
          carrier: 'SKT',
          status: 'APPROVED',
          decision: 'REVIEW',
          taps: 1,
          amount: 2500,
        },
        {
          minute: '2026-11-03 01:01:00',
          carrier: 'KT',
          status: 'DECLINED',
          decision: 'REVIEW',
          taps: 1,
          amount: 1000,
        },
      ]);
    } finally {
      await store.close();
    }
  });

  it('drops a retried insert with the same dedup token', async () => {
    const store = await migratedStore(path);
    try {
      const rows = [tap('a', 0), tap('b', 1)].map(tapRow);
      await store.insert('taps', rows, { dedupToken: 'taps-0-10-11' });
      await store.insert('taps', rows, { dedupToken: 'taps-0-10-11' });
      const raw = await store.query<{ c: number }>('SELECT count() AS c FROM taps');
      expect(raw[0]!.c).toBe(2);
    } finally {
      await store.close();
    }
  });
});
