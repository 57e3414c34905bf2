// When the pipeline-sink benchmark counts the sink as caught up: the end of a transactional topic is
// its commit marker, which a consumer may never commit past.
import { describe, expect, it } from 'vitest';
import { behind } from '../../bench/pipelineSink.ts';

const ends = new Map([
  ['decisions/0', '101'],
  ['decisions/1', '0'],
]);
const at = (p0: string, p1: string) => [
  {
    topic: 'decisions',
    partitions: [
      { partition: 0, offset: p0 },
      { partition: 1, offset: p1 },
    ],
  },
];

describe('behind', () => {
  it('is done at the end or one short of it (the commit marker), behind before', () => {
    expect(behind(ends, at('101', '-1'))).toBe(false);
    expect(behind(ends, at('100', '-1'))).toBe(false);
    expect(behind(ends, at('99', '-1'))).toBe(true);
  });

  it('counts a partition never committed as behind unless it is empty', () => {
    expect(behind(ends, at('-1', '-1'))).toBe(true);
    expect(behind(new Map([['decisions/0', '0']]), at('-1', '-1'))).toBe(false);
  });
});
