// Copies of a stored tap or adjustment arriving again. An exact resend after a conflicting copy is a duplicate
// (its decision repeated), not a conflict; and an adjustment after either copy in the same batch
// applies to the STORED tap: a conflicting copy must not replace the tap's amount, and a resend must
// not forget earlier refunds. Found by the JSON Lines fuzz (test/faults/jsonLinesFuzz.test.ts).
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../operators/detector.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { adjustment, geo, HOUR, rulesWith, tap, T0 } from './harness.ts';

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

  it('a refund after a conflicting copy in the same batch applies to the stored tap, not the copy', async () => {
    const d = detector();
    const original = tap({ t: T0, amount: 5000 });
    await d.processBatch([asTap(original)]);
    const refund = adjustment({ t: T0 + HOUR, tap_id: original.tap_id, kind: 'REFUND', amount: 5000 });
    const out = await d.processBatch([
      asTap({ ...original, amount: 5001 }),
      { kind: 'adjustment', adjustment: refund },
    ]);
    expect(out.map(summary)).toEqual(['DUPLICATE_CONFLICT', 'applied']);
    // The stored tap is still the original: an exact resend is a duplicate, and nothing is left open.
    const later = await d.processBatch([
      asTap(original),
      {
        kind: 'adjustment',
        adjustment: adjustment({ t: T0 + 2 * HOUR, tap_id: original.tap_id, kind: 'REFUND', amount: 1 }),
      },
    ]);
    expect(later.map(summary)).toEqual(['decision duplicate', 'ADJUSTMENT_REJECTED']);
  });

  it('a resend of a refunded tap in the same batch as another refund keeps the earlier refund (no over-refund)', async () => {
    const d = detector();
    const original = tap({ t: T0, amount: 1000 });
    await d.processBatch([asTap(original)]);
    await d.processBatch([
      {
        kind: 'adjustment',
        adjustment: adjustment({ t: T0 + HOUR, tap_id: original.tap_id, kind: 'REFUND', amount: 800 }),
      },
    ]);
    const out = await d.processBatch([
      asTap(original),
      {
        kind: 'adjustment',
        adjustment: adjustment({ t: T0 + 2 * HOUR, tap_id: original.tap_id, kind: 'REFUND', amount: 800 }),
      },
    ]);
    expect(out.map(summary)).toEqual(['decision duplicate', 'ADJUSTMENT_REJECTED']);
  });

  it('an adjustment replayed from the same record is applied output again (not a duplicate), effect once', async () => {
    const d = detector();
    const original = tap({ t: T0, amount: 1000 });
    await d.processBatch([asTap(original)]);
    const refund = adjustment({ t: T0 + HOUR, tap_id: original.tap_id, kind: 'REFUND', amount: 600 });
    const at = (source: string) => ({ kind: 'adjustment' as const, adjustment: refund, source });
    const first = await d.processBatch([at('adjustments/0/7')]);
    // The Kafka transaction of that batch was lost: the same record comes again and must be re-sent.
    const replay = await d.processBatch([at('adjustments/0/7')]);
    const resend = await d.processBatch([at('adjustments/0/9')]);
    const flags = (o: typeof first) =>
      o.map((x) => (x.kind === 'applied' ? `applied dup=${x.duplicate}` : x.kind));
    expect([...flags(first), ...flags(replay), ...flags(resend)]).toEqual([
      'applied dup=false',
      'applied dup=false',
      'applied dup=true',
    ]);
    // Applied once: 400 is still open, so 401 more is refused and 400 passes.
    const more = (amount: number) =>
      d.processBatch([
        {
          kind: 'adjustment',
          adjustment: adjustment({ t: T0 + 2 * HOUR, tap_id: original.tap_id, kind: 'REFUND', amount }),
        },
      ]);
    expect((await more(401)).map(summary)).toEqual(['ADJUSTMENT_REJECTED']);
    expect((await more(400)).map(summary)).toEqual(['applied']);
  });
});
