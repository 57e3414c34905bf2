// The fault-free reference for worker tests: the same detector over the same taps in order, with the
// in-memory store. Keyed by tap_id, valued "DECISION:rule,rule".
import { createDetector } from '../../operators/detector.ts';
import { openGeo } from '../../operators/geo.ts';
import { createMemoryStore } from '../../operators/memoryStore.ts';
import { defaultRuleSet } from '../../operators/rulesFile.ts';
import { enrichTap, type PiiKey } from '../../schemas/msisdn.ts';
import type { Tap } from '../../schemas/types.ts';

export async function referenceDecisions(taps: readonly Tap[], pii: PiiKey): Promise<Map<string, string>> {
  const detector = createDetector({
    store: createMemoryStore(),
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
      if (o.kind === 'decision')
        expected.set(o.tap.tap_id, `${o.decision.decision}:${o.decision.rules.join(',')}`);
  }
  return expected;
}
