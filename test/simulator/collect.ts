/** Runs the generator into arrays, for tests on samples of a few hundred thousand records. */
import type { Adjustment, Tap } from '../../schemas/types.ts';
import { generateTraffic, type SimulationOptions } from '../../simulator/traffic.ts';
import type { FraudLabel } from '../../simulator/records.ts';

export interface Sample {
  taps: Tap[];
  adjustments: Adjustment[];
  labels: Map<string, FraudLabel>;
  /** Record kinds and times in stream order. */
  order: number[];
}

export function collect(options: SimulationOptions): Sample {
  const sample: Sample = { taps: [], adjustments: [], labels: new Map(), order: [] };
  for (const { record, label } of generateTraffic(options)) {
    sample.order.push(record.occurred_at);
    if (record.type === 'tap') {
      const { type: _t, ...tap } = record;
      sample.taps.push(tap);
    } else {
      const { type: _t, ...adj } = record;
      sample.adjustments.push(adj);
    }
    if (label) sample.labels.set(label.tap_id, label);
  }
  return sample;
}
