/**
 * What the simulator produces: input records in the contracts of DESIGN.md, each with its fraud label
 * (or null for honest traffic). Labels travel beside records, never inside the fields detectors read.
 */
import type { Adjustment, InputRecord, Tap } from '../schemas/types.ts';

export const scenarioNames = [
  'card_testing',
  'device_farm',
  'account_takeover',
  'monthly_cap',
  'stolen_msisdn',
  'small_tap_burst',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** One line of the --labels side file. */
export interface FraudLabel {
  tap_id: string;
  scenario: ScenarioName;
  instance_id: string;
}

export interface SimulatedRecord {
  record: InputRecord;
  label: FraudLabel | null;
}

export function tapRecord(tap: Tap): InputRecord {
  return { type: 'tap', ...tap };
}

export function adjustmentRecord(adjustment: Adjustment): InputRecord {
  return { type: 'adjustment', ...adjustment };
}

/** Ids unique within a run and, through the run tag, across runs with different seeds. */
export class IdFactory {
  private taps = 0;
  private adjustments = 0;
  private readonly tag: string;

  constructor(runKey: number) {
    this.tag = (runKey >>> 0).toString(36).padStart(7, '0');
  }

  tapId(): string {
    return `tap-${this.tag}-${(this.taps++).toString(36).padStart(6, '0')}`;
  }

  adjustmentId(): string {
    return `adj-${this.tag}-${(this.adjustments++).toString(36).padStart(6, '0')}`;
  }
}
