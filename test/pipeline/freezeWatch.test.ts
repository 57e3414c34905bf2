import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFreezeWatch } from '../../pipeline/freezeWatch.ts';

describe('freezeWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse('2026-11-23T12:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('sees no freeze while the event loop ticks, however long the process runs', () => {
    const watch = startFreezeWatch({ freezeMs: 3000 });
    const start = Date.now();
    vi.advanceTimersByTime(60_000);
    expect(watch.frozeSince(start)).toBe(false);
    watch.stop();
  });

  it('sees a freeze at once, before any tick, and afterwards for batches fetched before it only', () => {
    const watch = startFreezeWatch({ freezeMs: 3000 });
    vi.advanceTimersByTime(1000);
    const fetchedBefore = Date.now();
    // Frozen for 10 s: the clock moves, no timer runs (SIGSTOP).
    vi.setSystemTime(Date.now() + 10_000);
    expect(watch.frozeSince(fetchedBefore)).toBe(true);
    expect(watch.lastFreezeEnd()).toBe(Date.now());
    vi.advanceTimersByTime(100); // the first tick after the freeze
    expect(watch.frozeSince(fetchedBefore)).toBe(true);
    expect(watch.lastFreezeEnd()).toBe(Date.now());
    const fetchedAfter = Date.now();
    vi.advanceTimersByTime(5000);
    expect(watch.frozeSince(fetchedAfter)).toBe(false);
    watch.stop();
  });

  it('does not call a stall shorter than freezeMs a freeze', () => {
    const watch = startFreezeWatch({ freezeMs: 3000 });
    const fetched = Date.now();
    vi.setSystemTime(Date.now() + 2500);
    expect(watch.frozeSince(fetched)).toBe(false);
    vi.advanceTimersByTime(100);
    expect(watch.frozeSince(fetched)).toBe(false);
    watch.stop();
  });
});
