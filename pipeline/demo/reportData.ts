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
  settlement: DemoSettlement | null;
}

export interface DemoSettlement {
  /** One month, or `first..last` when the traffic and its adjustments span several. */
  period: string;
  currency: string;
  gross: string;
  net: string;
  /** gross − reversals = net. */
  reversals?: string;
  /** The four shares of net (they sum to it). */
  shares?: { carrier_fee: string; pg_fee: string; platform_share: string; creator_share: string };
  /** Over several months: earned and paid summed, payable = paid + carried_forward (after the last month). */
  parties: Array<{
    party_type: string;
    earned: string;
    payable: string;
    paid: string;
    carried_forward?: string;
  }>;
  /** Each settled month, with the id of the run stored in ClickHouse. */
  months?: Array<{ period: string; runId: string; gross: string; net: string }>;
}
