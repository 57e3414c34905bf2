import { describe, expect, it } from 'vitest';
import { monthSumAt } from '../../operators/entityState.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import type { StoreOp, StoreResult } from '../../operators/stateStore.ts';
import { conformanceSuite } from './conformance.ts';

conformanceSuite('memory store', () => createMemoryStore());

describe('memory store: states lent until the next call', () => {
  const month = '2026-11|KRW';
  const insert = (tapId: string, t: number, amount: number): StoreOp => ({
    op: 'insertEvent',
    entity: { type: 'm', id: 'phone' },
    retentionMs: 1000,
    ttlMs: 1e9,
    event: [tapId, t, 'acc', amount, 'KRW'],
    month: { key: month, amount },
    holdWindowMs: 1e9,
    adjustmentKeepMs: 1e9,
  });

  it('a result reads as of its own operation when a later one of the same call changes the entity', async () => {
    const store = createMemoryStore();
    const refund: StoreOp = {
      op: 'adjustPhone',
      msisdnHash: 'phone',
      ttlMs: 1e9,
      adjustment: {
        adjustmentId: 'r1',
        kind: 'REFUND',
        tapId: 't1',
        amount: 2,
        monthKey: month,
        occurredAt: 3000,
      },
    };
    const [results] = await Promise.all(
      store.execute([[insert('t1', 1000, 5), insert('t2', 2500, 7), refund]]),
    );
    const [first, second] = results as Array<Extract<StoreResult, { op: 'insertEvent' }>>;
    expect(first!.state.e.map((ev) => ev[0])).toEqual(['t1']);
    expect(monthSumAt(first!.state, month, 1000)).toBe(5);
    // t1 fell out of the 1 s retention when t2 came; the refund came after t2's result.
    expect(second!.state.e.map((ev) => ev[0])).toEqual(['t2']);
    expect(monthSumAt(second!.state, month, 2500)).toBe(12);
    expect(monthSumAt(store.entity({ type: 'm', id: 'phone' })!, month, 2500)).toBe(10);
  });

  it('a result of the last operation on an entity is its live state, read before the next call', async () => {
    const store = createMemoryStore();
    const [[a] = []] = await Promise.all(store.execute([[insert('t1', 1000, 5)]]));
    const [[b] = []] = await Promise.all(store.execute([[insert('t2', 1500, 7)]]));
    if (a?.op !== 'insertEvent' || b?.op !== 'insertEvent') throw new Error('unexpected result');
    expect(b.state.e.map((ev) => ev[0])).toEqual(['t1', 't2']);
    expect(b.state).toBe(a.state); // no copy per insert: the earlier result was past its next call
  });
});
