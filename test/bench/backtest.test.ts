// The backtest benchmark fails a run that loses a line: its reading of `tapline backtest`'s summary
// (in the command's own format) and the balance it checks.
import { describe, expect, it } from 'vitest';
import { parseBacktestSummary, unaccounted } from '../../bench/backtest.ts';
import { formatSummary, type BacktestSummary } from '../../pipeline/commands/backtest.ts';

const summary: BacktestSummary = {
  records: 1_040,
  taps: 1_000,
  decisions: { ALLOW: 900, REVIEW: 60, BLOCK: 25 },
  ruleHits: { velocity_account: 70 },
  duplicates: 5,
  late: 3,
  adjustmentsApplied: 38,
  rejects: 12,
  rejectsByCode: { VALIDATION_FAILED: 12 },
};

describe('parseBacktestSummary', () => {
  it('reads the counts of the summary the command prints', () => {
    expect(parseBacktestSummary(`noise\n${formatSummary(summary, 'v1')}`)).toEqual({
      records: 1_040,
      decisions: 985,
      duplicates: 5,
      applied: 38,
      rejects: 12,
      taps: 1_000,
    });
  });

  it('throws, quoting the stderr, when there is no summary', () => {
    expect(() => parseBacktestSummary('out of memory')).toThrow(/no backtest summary.*out of memory/);
  });
});

describe('unaccounted', () => {
  const counts = parseBacktestSummary(formatSummary(summary, 'v1'));

  it('passes a run whose lines all ended somewhere', () => {
    expect(unaccounted(counts, 1_040, 990, 12)).toBeNull();
  });

  it('names each way a line can go missing', () => {
    expect(unaccounted(counts, 1_041, 990, 12)).toMatch(/1040 records, the file has 1041 lines/);
    expect(unaccounted({ ...counts, rejects: 11 }, 1_040, 990, 11)).toMatch(/records 1040 ≠/);
    expect(unaccounted(counts, 1_040, 989, 12)).toMatch(/989 decision lines written/);
    expect(unaccounted(counts, 1_040, 990, 0)).toMatch(/0 reject lines written for 12/);
  });
});
