import { describe, expect, it } from 'vitest';
import {
  awaitVisible,
  notYetVisible,
  offsetKey,
  type OffsetTable,
  type PartitionOffset,
  type TopicPartitions,
} from '../../pipeline/committedOffsets.ts';

const committed: PartitionOffset[] = [
  { topic: 'taps', partition: 0, offset: '200' },
  { topic: 'taps', partition: 3, offset: '90' },
  { topic: 'adjustments', partition: 1, offset: '7' },
];
const table = (entries: Array<[string, number, number]>): OffsetTable =>
  new Map(entries.map(([t, p, o]) => [offsetKey(t, p), BigInt(o)]));

/** A fake clock: sleeping advances it, so the deadline is reached without waiting. */
function clock() {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('notYetVisible', () => {
  it('names the partitions still behind, absent or at an older offset, and accepts one further on', () => {
    expect(
      notYetVisible(
        committed,
        table([
          ['taps', 0, 150],
          ['taps', 3, 95],
        ]),
      ),
    ).toEqual([committed[0], committed[2]]);
    expect(
      notYetVisible(
        committed,
        table([
          ['taps', 0, 200],
          ['taps', 3, 90],
          ['adjustments', 1, 7],
        ]),
      ),
    ).toEqual([]);
  });
});

describe('awaitVisible', () => {
  it('reads until the broker serves every committed offset, backing off between reads', async () => {
    // The broker serves the previous offsets twice (markers not yet written), then the new ones.
    const served = [
      table([
        ['taps', 0, 100],
        ['taps', 3, 80],
        ['adjustments', 1, 5],
      ]),
      table([
        ['taps', 0, 200],
        ['taps', 3, 80],
        ['adjustments', 1, 5],
      ]),
      table([
        ['taps', 0, 200],
        ['taps', 3, 90],
        ['adjustments', 1, 7],
      ]),
    ];
    const asked: TopicPartitions[][] = [];
    const c = clock();
    const result = await awaitVisible(committed, {
      read: async (topics) => {
        asked.push(topics);
        return served[asked.length - 1]!;
      },
      ...c,
    });
    expect(result).toEqual({ visible: true, reads: 3 });
    // Each read asks for the partitions still pending, no more (one OffsetFetch, no metadata).
    expect(asked).toEqual([
      [
        { topic: 'taps', partitions: [0, 3] },
        { topic: 'adjustments', partitions: [1] },
      ],
      [
        { topic: 'taps', partitions: [0, 3] },
        { topic: 'adjustments', partitions: [1] },
      ],
      [
        { topic: 'taps', partitions: [3] },
        { topic: 'adjustments', partitions: [1] },
      ],
    ]);
    expect(c.slept).toEqual([1, 2]);
  });

  it('reads again after a failed read', async () => {
    let reads = 0;
    const c = clock();
    const result = await awaitVisible(committed.slice(0, 1), {
      read: async () => {
        reads++;
        if (reads === 1) throw new Error('broker restarting');
        return table([['taps', 0, 200]]);
      },
      ...c,
    });
    expect(result).toEqual({ visible: true, reads: 2 });
  });

  it('gives up at the timeout and says which offsets never showed, and the last error', async () => {
    const c = clock();
    const error = new Error('coordinator not available');
    let reads = 0;
    const result = await awaitVisible(committed, {
      read: async () => {
        if (++reads % 2 === 0) throw error;
        return table([['taps', 0, 200]]);
      },
      timeoutMs: 1_000,
      ...c,
    });
    expect(result.visible).toBe(false);
    if (result.visible) return;
    expect(result.pending).toEqual(committed.slice(1));
    expect(result.lastError).toBe(error);
    expect(c.now()).toBeGreaterThanOrEqual(1_000);
    // Doubling from 1 ms, capped at 100 ms.
    expect(c.slept.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
    expect(Math.max(...c.slept)).toBe(100);
  });
});
