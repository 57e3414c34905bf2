// A tap_id repeated inside one batch after a copy that conflicts with a tap decided in an earlier
// batch: an exact resend of the stored tap is a duplicate (its decision repeated), not a conflict.
// Found by the JSON Lines fuzz (test/faults/jsonLinesFuzz.test.ts): a backtest batch holding a
// conflicting copy and then a producer duplicate of the same tap refused both.
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../operators/detector.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { geo, rulesWith, tap, T0 } from './harness.ts';

function detector() {
  return createDetector({ store: createMemoryStore(), rules: rulesWith(), geo });
}

const asTap = (t: ReturnType<typeof tap>) => ({ kind: 'tap' as const, tap: t });
const summary = (o: Awaited<ReturnType<ReturnType<typeof createDetector>['processBatch']>>[number]) =>
  o.kind === 'decision'
    ? `decision${o.decision.duplicate ? ' duplicate' : ''}`
    : o.kind === 'rejected'
      ? o.code
      : o.kind;

describe('detector: repeats of a tap_id within a batch after a conflict', () => {
  it('an exact resend after a conflicting copy in the same batch is a duplicate of the stored decision', async () => {
    const d = detector();
    const original = tap({ t: T0 });
    const [first] = await d.processBatch([asTap(original)]);
    const out = await d.processBatch([asTap({ ...original, amount: original.amount + 1 }), asTap(original)]);
    expect(out.map(summary)).toEqual(['DUPLICATE_CONFLICT', 'decision duplicate']);
    expect(out[1]!.kind === 'decision' && first!.kind === 'decision' && out[1]!.decision.decision).toBe(
      first!.kind === 'decision' && first!.decision.decision,
    );
  });

  it('two different conflicting copies in one batch are both refused', async () => {
    const d = detector();
    const original = tap({ t: T0 });
    await d.processBatch([asTap(original)]);
    const out = await d.processBatch([
      asTap({ ...original, amount: original.amount + 1 }),
      asTap({ ...original, amount: original.amount + 2 }),
    ]);
    expect(out.map(summary)).toEqual(['DUPLICATE_CONFLICT', 'DUPLICATE_CONFLICT']);
  });

  it('a resend then a conflicting copy in one batch: duplicate, then conflict', async () => {
    const d = detector();
    const original = tap({ t: T0 });
    await d.processBatch([asTap(original)]);
    const out = await d.processBatch([asTap(original), asTap({ ...original, amount: original.amount + 1 })]);
    expect(out.map(summary)).toEqual(['decision duplicate', 'DUPLICATE_CONFLICT']);
  });

  it('a new tap then its conflicting copy in one batch: decided, then conflict', async () => {
    const d = detector();
    const original = tap({ t: T0 });
    const out = await d.processBatch([asTap(original), asTap({ ...original, amount: original.amount + 1 })]);
    expect(out.map(summary)).toEqual(['decision', 'DUPLICATE_CONFLICT']);
  });
});
