// Scenario suite run against every StateStore (memory: unit; Redis: integration). Each scenario is
// timestamped records in, decisions and final state out, at the boundaries of windows and thresholds.
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../operators/stateStore.ts';
import { adjustment, DAY, decisionOf, harness, HOUR, MIN, rulesWith, SEC, T0, tap } from './harness.ts';

/**
 * The store, with its `finish` replaced: the whole call, and the installments a streaming store takes
 * (`stream().finish`), so the replacement sees every claim whichever way the detector sends them.
 */
function withFinish(store: StateStore, finish: StateStore['finish']): StateStore {
  const stream = store.stream?.bind(store);
  return {
    ...store,
    lookupTaps: (ids) => store.lookupTaps(ids),
    execute: (parts) => store.execute(parts),
    finish,
    ...(stream && { stream: () => ({ part: stream().part, finish }) }),
  };
}

export function conformanceSuite(name: string, makeStore: () => StateStore | Promise<StateStore>): void {
  describe(`detector scenarios (${name})`, () => {
    const setup = async (rules = rulesWith()) => harness(await makeStore(), rules);

    it('account_burst: the tap exactly 60 s after the first is outside its window; 1 ms less is inside', async () => {
      const h = await setup();
      for (let i = 0; i < 5; i++)
        expect(decisionOf(await h.send(tap({ t: T0 + i * SEC }))).rules).toEqual([]);
      const at = decisionOf(await h.send(tap({ t: T0 + 60 * SEC })));
      expect(at.rules).toEqual([]); // (t−60 s, t]: the tap at T0 is excluded, 5 taps, not more than 5
      const h2 = await setup();
      for (let i = 0; i < 5; i++) await h2.send(tap({ t: T0 + i * SEC }));
      const inside = decisionOf(await h2.send(tap({ t: T0 + 60 * SEC - 1 })));
      expect(inside.decision).toBe('REVIEW');
      expect(inside.rules).toEqual(['account_burst']);
      expect(inside.reasons[0]).toBe('6 taps of this account within 60 s (more than 5)');
    });

    it('account_burst: silent retries do not count again', async () => {
      const h = await setup();
      const first = tap({ t: T0, status: 'FAILED' });
      await h.send(first);
      for (let i = 1; i <= 4; i++) await h.send(tap({ t: T0 + i * SEC }));
      const retry = decisionOf(await h.send(tap({ t: T0 + 5 * SEC, retry_of: first.tap_id })));
      expect(retry.rules).not.toContain('account_burst');
      const sixth = decisionOf(await h.send(tap({ t: T0 + 6 * SEC })));
      expect(sixth.rules).toContain('account_burst');
    });

    it('account_declines: 3 declines within 10 min flag every tap of the account while it holds', async () => {
      const h = await setup();
      await h.send(tap({ t: T0, status: 'DECLINED' }));
      await h.send(tap({ t: T0 + MIN, status: 'FAILED' }));
      const third = decisionOf(await h.send(tap({ t: T0 + 2 * MIN, status: 'DECLINED' })));
      expect(third.rules).toEqual(['account_declines']);
      const approved = decisionOf(await h.send(tap({ t: T0 + 10 * MIN - 1 })));
      expect(approved.rules).toEqual(['account_declines']);
      const after = decisionOf(await h.send(tap({ t: T0 + 10 * MIN }))); // first decline left the window
      expect(after.rules).toEqual([]);
    });

    it('msisdn_daily_amount: ₩300,000 exactly does not fire, ₩300,001 does; declined amounts do not count', async () => {
      const h = await setup();
      await h.send(tap({ t: T0, amount: 200_000, account_id: 'a1', device_id: 'd1' }));
      await h.send(
        tap({ t: T0 + MIN, amount: 50_000, status: 'DECLINED', account_id: 'a1', device_id: 'd1' }),
      );
      const equal = decisionOf(
        await h.send(tap({ t: T0 + HOUR, amount: 100_000, account_id: 'a1', device_id: 'd1' })),
      );
      expect(equal.rules).toEqual([]);
      const above = decisionOf(
        await h.send(tap({ t: T0 + 2 * HOUR, amount: 1, account_id: 'a1', device_id: 'd1' })),
      );
      expect(above.rules).toEqual(['msisdn_daily_amount']);
      expect(above.reasons[0]).toContain('₩300,001');
      const nextDay = decisionOf(
        await h.send(tap({ t: T0 + DAY, amount: 1, account_id: 'a1', device_id: 'd1' })),
      );
      expect(nextDay.rules).toEqual([]); // the ₩200,000 at T0 is out of (t−24 h, t]
    });

    it('amount rules do not apply to a currency without thresholds', async () => {
      const h = await setup();
      const d = decisionOf(await h.send(tap({ t: T0, amount: 5_000_000, currency: 'USD' })));
      expect(d.rules).toEqual([]);
    });

    it('msisdn_many_accounts and device_many_accounts (REVIEW at 3, BLOCK at 5)', async () => {
      const h = await setup();
      await h.send(tap({ t: T0, account_id: 'a1' }));
      await h.send(tap({ t: T0 + MIN, account_id: 'a2' }));
      const third = decisionOf(await h.send(tap({ t: T0 + 2 * MIN, account_id: 'a3' })));
      expect(third.rules).toEqual(['msisdn_many_accounts', 'device_many_accounts']);
      expect(third.decision).toBe('REVIEW');
      await h.send(tap({ t: T0 + 3 * MIN, account_id: 'a4', msisdn_hash: 'p4' }));
      const fifth = decisionOf(await h.send(tap({ t: T0 + 4 * MIN, account_id: 'a5', msisdn_hash: 'p5' })));
      expect(fifth.rules).toEqual(['device_many_accounts']);
      expect(fifth.decision).toBe('BLOCK');
    });

    it('account_many_devices: the 4th device within 24 h', async () => {
      const h = await setup();
      for (let i = 1; i <= 3; i++) await h.send(tap({ t: T0 + i * HOUR, device_id: `d${i}` }));
      const fourth = decisionOf(await h.send(tap({ t: T0 + 4 * HOUR, device_id: 'd4' })));
      expect(fourth.rules).toEqual(['account_many_devices']);
      const later = decisionOf(await h.send(tap({ t: T0 + DAY + HOUR, device_id: 'd4' })));
      expect(later.rules).toEqual([]); // d1 at T0+1h is out of (t−24 h, t]
    });

    it('ip_jump: another country, a fast long jump, zero gap; not a short or slow one, not unknown, not country-only', async () => {
      const run = async (ipA: string, ipB: string, gap: number, account: string) => {
        const h = await setup();
        await h.send(tap({ t: T0, ip: ipA, account_id: account, device_id: account, msisdn_hash: account }));
        return decisionOf(
          await h.send(
            tap({ t: T0 + gap, ip: ipB, account_id: account, device_id: account, msisdn_hash: account }),
          ),
        ).rules;
      };
      expect(await run('10.0.0.1', '10.0.0.3', HOUR, 'j1')).toEqual(['ip_jump']); // KR → JP
      expect(await run('10.0.0.1', '10.0.0.2', 0, 'j2')).toEqual([]); // Seoul → Busan, 325 km
      expect(await run('10.0.0.4', '10.0.0.5', HOUR, 'j3')).toEqual(['ip_jump']); // NY → LA at ~3,940 km/h
      expect(await run('10.0.0.4', '10.0.0.5', 5 * HOUR, 'j4')).toEqual([]); // ~790 km/h
      expect(await run('10.0.0.4', '10.0.0.5', 0, 'j5')).toEqual(['ip_jump']); // zero gap: infinite speed
      expect(await run('10.0.0.1', '10.9.9.9', MIN, 'j6')).toEqual([]); // unknown location
      expect(await run('10.0.0.6', '10.0.0.5', 0, 'j7')).toEqual([]); // country only: no distance
      expect(await run('10.0.0.1', '10.0.0.3', 6 * HOUR, 'j8')).toEqual([]); // previous tap exactly 6 h back
      expect(await run('10.0.0.1', '10.0.0.3', 6 * HOUR - 1, 'j9')).toEqual(['ip_jump']);
    });

    it('ip_jump compares with the latest tap before this one, also when taps arrive out of order', async () => {
      const h = await setup();
      await h.send(tap({ t: T0, ip: '10.0.0.1' }));
      await h.send(tap({ t: T0 + 5 * MIN, ip: '10.0.0.3' })); // JP, fires against KR
      const between = decisionOf(await h.send(tap({ t: T0 + 2 * MIN, ip: '10.0.0.1' })));
      expect(between.rules).toEqual([]); // its previous tap is the KR one at T0, not the later JP one
    });

    it('monthly_cap: the calendar month in Asia/Seoul, less refunds', async () => {
      const h = await setup(rulesWith({ rules: { msisdn_daily_amount: { enabled: false } } }));
      const nov = tap({ t: Date.parse('2026-11-20T00:00:00Z'), amount: 1_000_000 });
      expect(decisionOf(await h.send(nov)).rules).toEqual([]); // exactly ₩1,000,000: not more
      const dec = decisionOf(await h.send(tap({ t: Date.parse('2026-11-30T15:30:00Z'), amount: 5000 })));
      expect(dec.rules).toEqual([]); // 00:30 KST on 1 December: a new month
      const over = decisionOf(await h.send(tap({ t: Date.parse('2026-11-30T14:59:59.999Z'), amount: 1 })));
      expect(over.rules).toEqual(['monthly_cap']);
      expect(over.decision).toBe('BLOCK');
      const refunded = await h.send(
        adjustment({ t: Date.parse('2026-11-30T15:00:00Z'), tap_id: nov.tap_id, kind: 'REFUND', amount: 1 }),
      );
      expect(refunded[0]!.kind).toBe('applied');
      const back = decisionOf(
        await h.send(
          tap({ t: Date.parse('2026-11-30T14:59:59.999Z') - 1, amount: 0 + 1, status: 'DECLINED' }),
        ),
      );
      expect(back.rules).toEqual([]); // ₩1,000,001 − ₩1 refunded = ₩1,000,000
    });

    it('a refund cut short after its tap index update (the store died between the two) counts once its record is replayed', async () => {
      const store = await makeStore();
      const rules = rulesWith({ rules: { msisdn_daily_amount: { enabled: false } } });
      const h = harness(store, rules);
      const nov = tap({ t: Date.parse('2026-11-20T00:00:00Z'), amount: 1_000_000 });
      await h.send(nov);
      await h.send(tap({ t: Date.parse('2026-11-21T00:00:00Z'), amount: 1 }));
      const refund = {
        kind: 'adjustment' as const,
        adjustment: adjustment({
          t: Date.parse('2026-11-22T00:00:00Z'),
          tap_id: nov.tap_id,
          kind: 'REFUND',
          amount: 1,
        }),
        source: 'adjustments/0/7',
      };
      // The store runs the batch's operations up to the tap index update, then fails: the phone's
      // month never saw the refund, and the batch is not committed. Every part through `execute`
      // (not part by part through `stream`), so that it sees the batch's operations together.
      const { stream: _partByPart, ...whole } = store;
      const dying: StateStore = {
        ...whole,
        lookupTaps: (ids) => store.lookupTaps(ids),
        finish: (ops) => store.finish(ops),
        execute(parts) {
          const ops = parts.flat();
          const cut = ops.findIndex((op) => op.op === 'adjustTap');
          expect(ops[cut + 1]?.op).toBe('adjustPhone');
          const died = Promise.all(store.execute([ops.slice(0, cut + 1)])).then(() => {
            throw new Error('store went away mid-batch');
          });
          return parts.map(() => died);
        },
      };
      await expect(harness(dying, rules).send(refund)).rejects.toThrow('store went away');
      // The batch again, after the restart: the refund is a replay of its own record, sent again, and
      // its effect on the phone completed (once: a second replay changes nothing).
      for (let i = 0; i < 2; i++) {
        const replayed = await h.send(refund);
        expect(replayed[0]).toMatchObject({ kind: 'applied' });
      }
      const probe = decisionOf(
        await h.send(tap({ t: Date.parse('2026-11-23T00:00:00Z'), amount: 1, status: 'DECLINED' })),
      );
      expect(probe.rules).toEqual([]); // ₩1,000,001 − ₩1 refunded = ₩1,000,000: not over the cap
      const again = decisionOf(await h.send(tap({ t: Date.parse('2026-11-23T00:00:01Z'), amount: 2 })));
      expect(again.rules).toEqual(['monthly_cap']); // counted once, not twice: ₩1,000,002 is over
    });

    it('blocklist: UNPAID blocks the phone for 30 days until fully COLLECTED; WRITE_OFF does not lift it', async () => {
      const h = await setup();
      const billed = tap({ t: T0, amount: 3000 });
      await h.send(billed);
      const unpaidAt = T0 + 10 * DAY;
      expect(
        (await h.send(adjustment({ t: unpaidAt, tap_id: billed.tap_id, kind: 'UNPAID', amount: 3000 })))[0]!
          .kind,
      ).toBe('applied');
      const blocked = decisionOf(
        await h.send(tap({ t: unpaidAt + DAY, account_id: 'other', device_id: 'x' })),
      );
      expect(blocked).toMatchObject({ decision: 'BLOCK', rules: ['blocklist'] });
      await h.send(
        adjustment({ t: unpaidAt + 2 * DAY, tap_id: billed.tap_id, kind: 'WRITE_OFF', amount: 1000 }),
      );
      expect(
        decisionOf(await h.send(tap({ t: unpaidAt + 3 * DAY, account_id: 'o3', device_id: 'z' }))).rules,
      ).toEqual(['blocklist']);
      await h.send(
        adjustment({ t: unpaidAt + 4 * DAY, tap_id: billed.tap_id, kind: 'COLLECTED', amount: 1999 }),
      );
      expect(
        decisionOf(await h.send(tap({ t: unpaidAt + 5 * DAY, account_id: 'o4', device_id: 'w' }))).rules,
      ).toEqual(['blocklist']);
      const inside = decisionOf(
        await h.send(tap({ t: unpaidAt + 30 * DAY - 1, account_id: 'o2', device_id: 'y' })),
      );
      expect(inside.rules).toEqual(['blocklist']);
      const edge = decisionOf(
        await h.send(tap({ t: unpaidAt + 30 * DAY, account_id: 'o5', device_id: 'v' })),
      );
      expect(edge.rules).toEqual([]); // exactly 30 days after the UNPAID: out of the block
    });

    it('blocklist is lifted once the unpaid amount is fully collected', async () => {
      const h = await setup();
      const billed = tap({ t: T0, amount: 3000 });
      await h.send(billed, adjustment({ t: T0 + DAY, tap_id: billed.tap_id, kind: 'UNPAID', amount: 3000 }));
      await h.send(adjustment({ t: T0 + 2 * DAY, tap_id: billed.tap_id, kind: 'COLLECTED', amount: 3000 }));
      expect(
        decisionOf(await h.send(tap({ t: T0 + 3 * DAY, account_id: 'o', device_id: 'o' }))).rules,
      ).toEqual([]);
    });

    it('adjustments: unknown tap is pending, over the open amount or on a declined tap is rejected, a repeat is idempotent', async () => {
      const h = await setup();
      const t1 = tap({ t: T0, amount: 1000 });
      const declined = tap({ t: T0, amount: 1000, status: 'DECLINED' });
      const refund = adjustment({ t: T0 + HOUR, tap_id: t1.tap_id, kind: 'REFUND', amount: 600 });
      const out = await h.send(
        adjustment({ t: T0, tap_id: 'nope', kind: 'REFUND', amount: 1 }),
        t1,
        declined,
        refund,
        adjustment({ t: T0 + HOUR, tap_id: t1.tap_id, kind: 'CHARGEBACK', amount: 401 }),
        adjustment({ t: T0 + HOUR, tap_id: declined.tap_id, kind: 'REFUND', amount: 1 }),
        adjustment({ t: T0 - 1, tap_id: t1.tap_id, kind: 'REFUND', amount: 1 }),
      );
      expect(out.map((o) => o.kind)).toEqual([
        'pending',
        'decision',
        'decision',
        'applied',
        'rejected',
        'rejected',
        'rejected',
      ]);
      const again = await h.send(refund);
      expect(again[0]).toMatchObject({ kind: 'applied', duplicate: true });
      const rest = await h.send(
        adjustment({ t: T0 + HOUR, tap_id: t1.tap_id, kind: 'CHARGEBACK', amount: 400 }),
      );
      expect(rest[0]).toMatchObject({
        kind: 'applied',
        duplicate: false,
        adjustment: { account_id: 'acc-1', tap_occurred_at: T0 },
      });
    });

    it('duplicates repeat the first decision and change nothing; conflicts are rejected; replays are re-sent as they were', async () => {
      const h = await setup();
      const taps = Array.from({ length: 6 }, (_, i) => tap({ t: T0 + i * SEC }));
      const first = (
        await h.send(...taps.map((t, i) => ({ kind: 'tap' as const, tap: t, source: `taps/0/${i}` })))
      ).map((o) => decisionOf([o]));
      const dup = decisionOf(await h.send(taps[5]!));
      expect(dup).toEqual({ ...first[5], duplicate: true });
      // the duplicate did not count: a 7th distinct tap sees 7, not 8
      expect(decisionOf(await h.send(tap({ t: T0 + 7 * SEC }))).reasons[0]).toContain('7 taps');
      const replay = await h.send({ kind: 'tap', tap: taps[5]!, source: 'taps/0/5' });
      expect(replay[0]).toMatchObject({ kind: 'decision', replay: true, decision: first[5] });
      expect((replay[0] as { decision: object }).decision).not.toHaveProperty('duplicate');
      const conflict = await h.send({ ...taps[0]!, amount: 999 });
      expect(conflict[0]).toMatchObject({ kind: 'rejected', code: 'DUPLICATE_CONFLICT' });
      // the conflict did not count either
      expect(decisionOf(await h.send(tap({ t: T0 + 8 * SEC }))).reasons[0]).toContain('8 taps');
      // within one batch
      const x = tap({ t: T0 + HOUR, account_id: 'b' });
      const inBatch = await h.send(x, x, { ...x, amount: 1 });
      expect(inBatch.map((o) => o.kind)).toEqual(['decision', 'decision', 'rejected']);
      expect(decisionOf([inBatch[1]!]).duplicate).toBe(true);
    });

    it('a batch whose store died after its inserts, before its taps were claimed, counts them once when it is replayed', async () => {
      const store = await makeStore();
      const rules = rulesWith({ rules: { msisdn_daily_amount: { enabled: false } } });
      const big = { kind: 'tap' as const, tap: tap({ t: T0, amount: 600_000 }), source: 'taps/0/1' };
      const dying = withFinish(store, () => Promise.reject(new Error('store went away before the claims')));
      await expect(harness(dying, rules).send(big)).rejects.toThrow('before the claims');
      const h = harness(store, rules);
      const decided = await h.send(big);
      expect(decided[0]).toMatchObject({ kind: 'decision', replay: false });
      expect(decisionOf(decided).duplicate).toBeUndefined();
      // the replay is the same record again: its stored first decision
      expect((await h.send(big))[0]).toMatchObject({
        kind: 'decision',
        replay: true,
        decision: decisionOf(decided),
      });
      // ₩600,000 counted once: ₩600,001 in the month, under the cap (twice would be ₩1,200,001)
      expect(decisionOf(await h.send(tap({ t: T0 + SEC, amount: 1 }))).rules).toEqual([]);
    });

    it('a conflicting copy dated after its entities moved past the original changes no window or month sum', async () => {
      const h = await setup(rulesWith({ rules: { msisdn_daily_amount: { enabled: false } } }));
      const original = tap({ t: T0, amount: 600_000 });
      await h.send(original);
      // Two days later, out of every window: the copy's events are new to its entities, so they are
      // applied before its claim finds the original, then taken back.
      const copy = { ...original, occurred_at: T0 + 2 * DAY, amount: 500_000 };
      expect((await h.send(copy))[0]).toMatchObject({ kind: 'rejected', code: 'DUPLICATE_CONFLICT' });
      const probe = decisionOf(await h.send(tap({ t: T0 + 2 * DAY + SEC, amount: 1 })));
      expect(probe.rules).toEqual([]); // ₩600,001 this month, not ₩1,100,001
      expect(probe.reasons).toEqual([]);
    });

    it('the same record decided by two workers at once (a rebalance): the one claiming second leaves the events in place', async () => {
      const store = await makeStore();
      const rules = rulesWith({ rules: { msisdn_daily_amount: { enabled: false } } });
      const rec = { kind: 'tap' as const, tap: tap({ t: T0, amount: 600_000 }), source: 'taps/3/42' };
      // The old owner applies the record's inserts, then stalls before its claim; the new owner reads
      // the same record, finds its events, and claims it first.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const stalled = withFinish(store, async (ops) => {
        await gate;
        return store.finish(ops);
      });
      const oldOwner = harness(stalled, rules).send(rec);
      await new Promise((r) => setTimeout(r, 50));
      const decided = decisionOf(await harness(store, rules).send(rec));
      release();
      expect((await oldOwner)[0]).toMatchObject({ kind: 'decision', replay: true, decision: decided });
      // ₩600,000 still counted: ₩500,000 more is over the cap
      const probe = decisionOf(await harness(store, rules).send(tap({ t: T0 + SEC, amount: 500_000 })));
      expect(probe.rules).toEqual(['monthly_cap']);
    });

    it('a tap claimed before a batch died, without its decision, is decided when it comes again, and that decision stays', async () => {
      const store = await makeStore();
      const h = harness(store);
      const t = tap({ t: T0 });
      // What a batch in which an adjustment named this tap leaves when it dies between its round
      // trips: the claim (with the batch's operations) and no decision.
      const claimOnly = withFinish(store, () =>
        Promise.reject(new Error('store went away before the decisions')),
      );
      const refund = adjustment({ t: T0 + MIN, tap_id: t.tap_id, kind: 'REFUND', amount: 100 });
      await expect(harness(claimOnly).send(t, refund)).rejects.toThrow('before the decisions');
      expect((await store.lookupTaps([t.tap_id]))[0]).toMatchObject({ decision: null });
      const decided = decisionOf(await h.send(t));
      expect(decided.duplicate).toBeUndefined();
      expect((await store.lookupTaps([t.tap_id]))[0]?.decision).toEqual(decided);
      expect(decisionOf(await h.send(t))).toEqual({ ...decided, duplicate: true });
    });

    it('late events: up to 10 minutes behind count exactly; older ones are decided and marked late', async () => {
      const h = await setup();
      for (let i = 0; i < 5; i++) await h.send(tap({ t: T0 + 10 * MIN + i * SEC }));
      const onTime = decisionOf(await h.send(tap({ t: T0 + 10 * MIN + 4 * SEC - 10 * MIN })));
      expect(onTime.late).toBeUndefined();
      const late = decisionOf(await h.send(tap({ t: T0 + 4 * SEC - 1, account_id: 'acc-1' })));
      expect(late.late).toBe(true);
      // out of order but on time: counts in the window of the taps after it
      const h2 = await setup();
      for (let i = 0; i < 5; i++) await h2.send(tap({ t: T0 + (i + 1) * 10 * SEC, account_id: 'ooo' }));
      await h2.send(tap({ t: T0, account_id: 'ooo' })); // arrives last, happened first
      expect(decisionOf(await h2.send(tap({ t: T0 + 55 * SEC, account_id: 'ooo' }))).reasons[0]).toContain(
        '7 taps',
      );
    });

    it('allowlist lowers REVIEW to ALLOW but never lifts a BLOCK; the static blocklist blocks', async () => {
      const h = await setup(
        rulesWith({ allowlist: { accounts: ['vip'] }, blocklist: { devices: ['bad-dev'] } }),
      );
      for (let i = 0; i < 5; i++) await h.send(tap({ t: T0 + i, account_id: 'vip' }));
      const sixth = decisionOf(await h.send(tap({ t: T0 + 5, account_id: 'vip' })));
      expect(sixth).toMatchObject({ decision: 'ALLOW', rules: ['account_burst'] });
      const blocked = decisionOf(await h.send(tap({ t: T0 + 6, account_id: 'vip', device_id: 'bad-dev' })));
      expect(blocked.decision).toBe('BLOCK');
      expect(blocked.rules).toContain('blocklist');
    });
  });
}
