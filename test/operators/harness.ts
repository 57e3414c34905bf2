// Test harness: builds timestamped taps and adjustments and runs them through a detector.
import { createDetector, type DetectorInput, type Outcome } from '../../operators/detector.ts';
import { staticGeo } from '../../operators/geo.ts';
import { resolveRules, type Rules } from '../../operators/rulesFile.ts';
import type { StateStore } from '../../operators/stateStore.ts';
import type { Adjustment, EnrichedTap } from '../../schemas/types.ts';

export const T0 = Date.parse('2026-11-09T12:00:00.000Z');
export const SEC = 1000;
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const geo = staticGeo(
  {
    '10.0.0.1': { country: 'KR', lat: 37.5665, lon: 126.978 }, // Seoul
    '10.0.0.2': { country: 'KR', lat: 35.1796, lon: 129.0756 }, // Busan, ~325 km
    '10.0.0.3': { country: 'JP', lat: 35.6762, lon: 139.6503 }, // Tokyo
    '10.0.0.4': { country: 'US', lat: 40.7128, lon: -74.006 }, // New York
    '10.0.0.5': { country: 'US', lat: 34.0522, lon: -118.2437 }, // Los Angeles, ~3,940 km
    '10.0.0.6': { country: 'US' }, // country only
  },
  'test-geo',
);

let seq = 0;
export function tap(p: Partial<EnrichedTap> & { t: number }): EnrichedTap {
  const { t, ...rest } = p;
  seq++;
  return {
    tap_id: `tap-${seq}`,
    occurred_at: t,
    account_id: 'acc-1',
    msisdn_hash: 'phone-1',
    msisdn_key_version: 1,
    carrier: 'SKT',
    device_id: 'dev-1',
    ip: '10.0.0.1',
    platform_id: 'plat',
    creator_id: null,
    item_id: null,
    channel: null,
    amount: 1000,
    currency: 'KRW',
    status: 'APPROVED',
    retry_of: null,
    ...rest,
  };
}

export function adjustment(
  p: Partial<Adjustment> & Pick<Adjustment, 'tap_id' | 'kind' | 'amount'> & { t: number },
): Adjustment {
  const { t, ...rest } = p;
  seq++;
  return { adjustment_id: `adj-${seq}`, occurred_at: t, reason: null, ...rest };
}

export function rulesWith(doc: unknown = {}): Rules {
  return resolveRules(doc);
}

/** A detector over the store; `send` runs one batch, `decisions` keeps every decision by tap_id. */
export function harness(store: StateStore, rules: Rules = rulesWith()) {
  const detector = createDetector({ store, rules, geo, clock: () => 0 });
  return {
    detector,
    async send(...records: Array<EnrichedTap | Adjustment | DetectorInput>): Promise<Outcome[]> {
      const inputs = records.map((r): DetectorInput => {
        if (
          'kind' in r &&
          (r.kind === 'tap' || r.kind === 'lazyTap' || r.kind === 'adjustment') &&
          !('adjustment_id' in r)
        )
          return r as DetectorInput;
        return 'adjustment_id' in r
          ? { kind: 'adjustment', adjustment: r as Adjustment }
          : { kind: 'tap', tap: r as EnrichedTap };
      });
      return detector.processBatch(inputs);
    },
  };
}

/** The decision of a single-outcome batch, or a failure naming what came instead. */
export function decisionOf(outcomes: Outcome[]) {
  const o = outcomes[outcomes.length - 1];
  if (!o || o.kind !== 'decision') throw new Error(`expected a decision, got ${JSON.stringify(o)}`);
  return o.decision;
}
