// The detector state a run leaves in Redis, comparable across runs and servers: every key under a
// prefix (prefix removed), values parsed as the store reads them. A first decision keeps its outcome
// and rules only, since `decided_at` is wall-clock time; an applied adjustment keeps its id only, not
// the record that applied it, since a refund that came before its tap is applied from the retry topic
// at a position that depends on timing (its effect, amount and idempotency are the same). The no-fault reference runs the same
// detector, with the same record positions, through the Redis store on the shared server under a
// prefix of its own.
import type { Redis } from 'ioredis';
import { createDetector } from '../../operators/detector.ts';
import { openGeo } from '../../operators/geo.ts';
import type { EntityType } from '../../operators/entityState.ts';
import { parseEntity, parseTapIndex } from '../../operators/redis/layout.ts';
import { createRedisStore } from '../../operators/redisStore.ts';
import { defaultRuleSet } from '../../operators/rulesFile.ts';
import { enrichTap, type PiiKey } from '../../schemas/msisdn.ts';
import type { Adjustment, Tap } from '../../schemas/types.ts';

export async function redisState(redis: Redis, prefix: string): Promise<Map<string, unknown>> {
  const state = new Map<string, unknown>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
    cursor = next;
    // Values as the store reads them (operators/redis/layout.ts): an entity's live events and sums,
    // a tap's index entry and first decision, a phone's counted month taps (hash and sorted set).
    const values = keys.length > 0 ? await redis.mget(...keys) : [];
    for (const [i, key] of keys.entries()) {
      const name = key.slice(prefix.length);
      if (/^\{m:[^}]+\}:t$/.test(name)) state.set(name, await redis.hgetall(key));
      else if (/^\{m:[^}]+\}:z$/.test(name)) state.set(name, await redis.zrange(key, 0, -1, 'WITHSCORES'));
      const raw = values[i];
      if (raw === null || raw === undefined) continue;
      if (name.startsWith('{t:')) {
        const { entry, decision } = parseTapIndex(raw);
        state.set(name, { ...entry, adj: Object.keys(entry.adj).sort() });
        if (decision !== null) {
          const d = JSON.parse(decision) as Record<string, unknown>;
          state.set(`${name}:d`, `${String(d['decision'])}:${String(d['rules'])}`);
        }
      } else state.set(name, parseEntity(name[1] as EntityType, raw));
    }
  } while (cursor !== '0');
  return state;
}

/**
 * Runs `taps` in order, in batches of 500, through the detector on the Redis store under `prefix`,
 * each with the source position the worker gives it (by default `topic/0/offset` on a 1-partition
 * topic that holds exactly these taps from offset 0; `tapSources` gives each tap's position on a topic
 * of several partitions), then `adjustments`, and returns the state left there. Adjustments go after
 * every tap: the fault tests send only refunds that move no decision, and their effect on the state
 * (a phone's month sum less the amount, the tap's reversed amount, the id kept) does not depend on
 * when they arrive.
 */
export async function referenceRedisState(
  redis: Redis,
  prefix: string,
  taps: readonly Tap[],
  pii: PiiKey,
  topic: string,
  more: { tapSources?: readonly string[]; adjustments?: readonly Adjustment[] } = {},
): Promise<Map<string, unknown>> {
  const detector = createDetector({
    store: createRedisStore({ redis, keyPrefix: prefix }),
    rules: defaultRuleSet(),
    geo: await openGeo(),
  });
  for (let i = 0; i < taps.length; i += 500) {
    const batch = taps.slice(i, i + 500).map((t, j) => {
      const e = enrichTap(t, pii);
      if ('error' in e) throw new Error(e.error);
      return { kind: 'tap' as const, tap: e, source: more.tapSources?.[i + j] ?? `${topic}/0/${i + j}` };
    });
    await detector.processBatch(batch);
  }
  const adjustments = more.adjustments ?? [];
  for (let i = 0; i < adjustments.length; i += 500) {
    const batch = adjustments
      .slice(i, i + 500)
      .map((adjustment) => ({ kind: 'adjustment' as const, adjustment }));
    for (const o of await detector.processBatch(batch))
      if (o.kind !== 'applied') throw new Error(`reference: an adjustment was not applied (${o.kind})`);
  }
  return redisState(redis, prefix);
}
