import { describe, expect, it } from 'vitest';
import { createDecisionQueue } from '../../pipeline/decisionQueue.ts';
import { deferred } from '../support/deferred.ts';

/** Lets every queued callback run, setImmediate ones included. */
const settle = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

describe('createDecisionQueue', () => {
  it('decides the batches that ask in one turn together, in the order they asked', async () => {
    const calls: string[][] = [];
    const queue = createDecisionQueue<string, string>(async (batches) => {
      calls.push(batches);
      return batches.map((b) => `${b}!`);
    });
    const results = await Promise.all(['a', 'b', 'c'].map((b) => queue.decide(b)));
    expect(results).toEqual(['a!', 'b!', 'c!']);
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('runs one call at a time: batches asking meanwhile are the next call, together', async () => {
    const calls: string[][] = [];
    const first = deferred<string[]>();
    let running = 0;
    let overlapped = false;
    const queue = createDecisionQueue<string, string>(async (batches) => {
      running++;
      if (running > 1) overlapped = true;
      calls.push(batches);
      try {
        return batches[0] === 'a' ? await first.promise : batches;
      } finally {
        running--;
      }
    });
    const a = queue.decide('a');
    await settle();
    expect(calls).toEqual([['a']]);
    const b = queue.decide('b');
    const c = queue.decide('c');
    await settle();
    expect(calls).toEqual([['a']]);
    first.resolve(['A']);
    expect(await Promise.all([a, b, c])).toEqual(['A', 'b', 'c']);
    expect(calls).toEqual([['a'], ['b', 'c']]);
    expect(overlapped).toBe(false);
  });

  it('fails every batch of a failed call, and decides the next batches after it', async () => {
    let calls = 0;
    const queue = createDecisionQueue<string, string>(async (batches) => {
      calls++;
      if (calls === 1) throw new Error('redis down');
      return batches;
    });
    const a = queue.decide('a');
    const b = queue.decide('b');
    await expect(a).rejects.toThrow('redis down');
    await expect(b).rejects.toThrow('redis down');
    await expect(queue.decide('c')).resolves.toBe('c');
    expect(calls).toBe(2);
  });

  it('refuses a call that returns a result count other than its batches', async () => {
    const queue = createDecisionQueue<string, string>(async () => ['only one']);
    const both = [queue.decide('a'), queue.decide('b')];
    for (const p of both) await expect(p).rejects.toThrow('decided 1 results for 2 batches');
  });
});
