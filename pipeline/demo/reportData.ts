/** What the demo measured: the one object both the terminal and the HTML report render. */
import type { QualityReport } from './quality.ts';

export interface DemoReport {
  title: string;
  /** How the run was made: seed, traffic, rules version, services. */
  run: Record<string, string | number>;
  throughput: { records: number; seconds: number; recordsPerSecond: number };
  latencyMs: { p50: number; p99: number; max: number } | null;
  decisions: { ALLOW: number; REVIEW: number; BLOCK: number; duplicates: number; rejected: number };
  ruleHits: Record<string, number>;
  /** Decisions per event-time bucket (ISO minute or hour in Asia/Seoul). */
  timeline: Array<{ bucket: string; ALLOW: number; REVIEW: number; BLOCK: number }>;
  quality: QualityReport | null;
  /** Settlement totals by party type, in minor units (decimal strings: they may pass 2^53). */
  settlement: {
    period: string;
    currency: string;
    gross: string;
    net: string;
    parties: Array<{ party_type: string; earned: string; payable: string; paid: string }>;
  } | null;
}
