import { describe, expect, it } from 'vitest';
import { partitionLags } from '../../pipeline/consumerLag.ts';

describe('partitionLags', () => {
  const ends = {
    taps: [
      { partition: 0, high: '1200', low: '0' },
      { partition: 1, high: '900', low: '100' },
      { partition: 2, high: '50', low: '0' },
    ],
  };

  it('is the end offset minus the committed offset, for the assigned partitions only', () => {
    const lags = partitionLags({ taps: [0, 2] }, ends, {
      taps: [
        { partition: 0, offset: '1000' },
        { partition: 1, offset: '10' },
        { partition: 2, offset: '50' },
      ],
    });
    expect(lags).toEqual([
      { topic: 'taps', partition: 0, lag: 200 },
      { topic: 'taps', partition: 2, lag: 0 },
    ]);
  });

  it('counts from the earliest offset when the group never committed (-1) or has no entry', () => {
    const lags = partitionLags({ taps: [0, 1] }, ends, { taps: [{ partition: 0, offset: '-1' }] });
    expect(lags).toEqual([
      { topic: 'taps', partition: 0, lag: 1200 },
      { topic: 'taps', partition: 1, lag: 800 },
    ]);
  });

  it('never reports a negative lag and skips partitions Kafka did not report', () => {
    const lags = partitionLags({ taps: [2, 7], other: [0] }, ends, {
      taps: [{ partition: 2, offset: '60' }],
    });
    expect(lags).toEqual([{ topic: 'taps', partition: 2, lag: 0 }]);
  });
});
