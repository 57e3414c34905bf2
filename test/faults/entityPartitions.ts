// A stream on several partitions whose end state cannot depend on how the partitions interleave, so a
// no-fault reference that reads the taps in one order is exact for any worker membership.
//
// Why it holds: a tap's decision and its state changes touch its account, its phone and its device
// only (operators/detector.ts; the IP is part of the account's and phone's events, not an entity of
// its own; the tap index is per tap), and the default rules (operators/defaultRules.ts) read nothing
// else. Taps are grouped into the connected components of the graph those three entities draw (two
// taps sharing any of them are in one component), and each component goes whole, in stream order, to
// one partition. Every entity then lives in one partition, sees its taps in the reference's order
// whoever owns that partition, and what two partitions do cannot meet in any state. Refunds touch a
// tap's phone month sum and tap index entry only, by amounts that commute (harness.ts safeRefunds).
import { normalizeMsisdn } from '../../schemas/msisdn.ts';
import type { Tap } from '../../schemas/types.ts';

export interface PartitionedTap {
  tap: Tap;
  /** The Kafka key: the component's root entity (the partition is given explicitly). */
  key: string;
  partition: number;
  /** `topic/partition/offset` of the tap once sent in this order to a fresh topic. */
  source: string;
}

/** Components balanced over `partitions` (largest first, to the least loaded), in stream order. */
export function entityPartitions(taps: readonly Tap[], partitions: number, topic: string): PartitionedTap[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    for (let at = x; at !== root;) {
      const next = parent.get(at)!;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };
  // A phone is one entity whatever form it is written in (the simulator sends national and E.164
  // forms): the detector keys it by the hash of its E.164 form.
  const phone = (t: Tap) => `m:${normalizeMsisdn(t.msisdn) ?? t.msisdn}`;
  for (const t of taps) {
    for (const e of [`a:${t.account_id}`, phone(t), `d:${t.device_id}`]) if (!parent.has(e)) parent.set(e, e);
    union(`a:${t.account_id}`, phone(t));
    union(`a:${t.account_id}`, `d:${t.device_id}`);
  }
  const sizes = new Map<string, number>();
  for (const t of taps) {
    const root = find(`a:${t.account_id}`);
    sizes.set(root, (sizes.get(root) ?? 0) + 1);
  }
  const load = new Array<number>(partitions).fill(0);
  const partitionOf = new Map<string, number>();
  for (const [root, size] of [...sizes].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))) {
    const p = load.indexOf(Math.min(...load));
    partitionOf.set(root, p);
    load[p]! += size;
  }
  const next = new Array<number>(partitions).fill(0);
  return taps.map((tap) => {
    const root = find(`a:${tap.account_id}`);
    const partition = partitionOf.get(root)!;
    return { tap, key: root, partition, source: `${topic}/${partition}/${next[partition]!++}` };
  });
}
