import { describe, expect, it } from 'vitest';
import { insertEvent, monthSumAt, removeEvent, type MsisdnEvent } from '../../operators/entityState.ts';

const H = 3_600_000;
const retentionMs = 24 * H + 600_000;
const ev = (id: string, t: number, amount: number): MsisdnEvent => [id, t, 'acc', amount, 'KRW'];
const month = (amount: number) => ({ key: '2026-11|KRW', amount });

describe('phone month sums', () => {
  it('count a tap once even when it is replayed after its event was trimmed from the window', () => {
    let r = insertEvent(undefined, { event: ev('t1', 0, 1000), retentionMs, month: month(1000) });
    r = insertEvent(r.state, { event: ev('t2', 30 * H, 500), retentionMs, month: month(500) });
    expect(r.state.e.map((e) => e[0])).toEqual(['t2']); // t1 trimmed out of the 24 h window
    // the worker crashed before committing: the batch is replayed
    r = insertEvent(r.state, { event: ev('t1', 0, 1000), retentionMs, month: month(1000) });
    expect(r.inserted).toBe(false);
    r = insertEvent(r.state, { event: ev('t2', 30 * H, 500), retentionMs, month: month(500) });
    expect(r.inserted).toBe(false);
    expect(r.state.mo).toEqual({ '2026-11|KRW': 1500 });
  });

  it('take a removed tap out of the month sum once, also after its event was trimmed', () => {
    let r = insertEvent(undefined, { event: ev('t1', 0, 1000), retentionMs, month: month(1000) });
    r = insertEvent(r.state, { event: ev('t2', 30 * H, 500), retentionMs, month: month(500) });
    removeEvent(r.state, 't1', month(1000));
    removeEvent(r.state, 't1', month(1000));
    expect(r.state.mo).toEqual({ '2026-11|KRW': 500 });
  });
});

describe('monthSumAt', () => {
  it('measures the month as of the tap, whatever later taps are already counted', () => {
    let r = insertEvent(undefined, { event: ev('t1', 0, 1000), retentionMs, month: month(1000) });
    r = insertEvent(r.state, { event: ev('t2', 2 * H, 500), retentionMs, month: month(500) });
    r = insertEvent(r.state, { event: ev('t3', 30 * H, 700), retentionMs, month: month(700) });
    expect(monthSumAt(r.state, '2026-11|KRW', 0)).toBe(1000);
    expect(monthSumAt(r.state, '2026-11|KRW', 2 * H)).toBe(1500);
    expect(monthSumAt(r.state, '2026-11|KRW', 30 * H)).toBe(2200);
    expect(monthSumAt(r.state, '2026-12|KRW', 30 * H)).toBe(0);
  });
});
