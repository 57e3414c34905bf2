// The fault-free reference for worker tests: the same detector over the same taps in order, with the
// in-memory store unless another is given. Keyed by tap_id, valued "DECISION:rule,rule".
import { createDetector } from '../../operators/detector.ts';
import { openGeo } from '../../operators/geo.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { defaultRuleSet } from '../../operators/rulesFile.ts';
import type { StateStore } from '../../operators/stateStore.ts';
import { enrichTap, type PiiKey } from '../../schemas/msisdn.ts';
import type { Tap } from '../../schemas/types.ts';

/** How a decision is compared with the reference: "DECISION:rule,rule". */
export function outcomeOf(d: { decision: string; rules: readonly string[] }): string {
  return `${d.decision}:${d.rules.join(',')}`;
}

/** Decisions read back from a topic, by tap_id, and how many taps were decided more than once. */
export function tallyDecisions(
  decisions: readonly { tap_id: string; decision: string; rules: readonly string[] }[],
): {
  outcomes: Map<string, string>;
  duplicates: number;
} {
  const outcomes = new Map<string, string>();
  let duplicates = 0;
  for (const d of decisions) {
    if (outcomes.has(d.tap_id)) duplicates++;
    outcomes.set(d.tap_id, outcomeOf(d));
  }
  return { outcomes, duplicates };
}

export async function referenceDecisions(
  taps: readonly Tap[],
  pii: PiiKey,
  store: StateStore = createMemoryStore(),
): Promise<Map<string, string>> {
  const detector = createDetector({
    store,
    rules: defaultRuleSet(),
    geo: await openGeo(),
  });
  const expected = new Map<string, string>();
  for (let i = 0; i < taps.length; i += 500) {
    const batch = taps.slice(i, i + 500).map((t) => {
      const e = enrichTap(t, pii);
      if ('error' in e) throw new Error(e.error);
      return { kind: 'tap' as const, tap: e };
    });
    for (const o of await detector.processBatch(batch))
      if (o.kind === 'decision') expected.set(o.tap.tap_id, outcomeOf(o.decision));
  }
  return expected;
}
