/**
 * Redis StateStore (ioredis). Scripts are defined once with `defineCommand`, so ioredis calls them by
 * SHA (EVALSHA) and loads them only when Redis answers NOSCRIPT. Each call of `execute` or `finish` is
 * one pipelined round trip. Keys: `${prefix}{a:<account>}`, `{m:<msisdn_hash>}`, `{d:<device>}`,
 * `{t:<tap_id>}` (tap index) and `{t:<tap_id>}:d` (its first decision); every key gets a TTL.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import { TaplineError } from '../pipeline/errors.ts';
import type { Decision } from '../schemas/types.ts';
import type { EntityState, PhoneAdjustment, TapIndexEntry } from './entityState.ts';
import * as lua from './redisScripts.ts';
import type { EntityRef, FinishOp, StateStore, StoreResult, TapRecord } from './stateStore.ts';

const scripts = {
  tlClaimTap: { numberOfKeys: 2, lua: lua.claimTap },
  tlInsertEvent: { numberOfKeys: 1, lua: lua.insertEvent },
  tlRemoveEvent: { numberOfKeys: 1, lua: lua.removeEvent },
  tlAdjustTap: { numberOfKeys: 1, lua: lua.adjustTap },
  tlAdjustPhone: { numberOfKeys: 1, lua: lua.adjustPhone },
  tlUndoAdjustPhone: { numberOfKeys: 1, lua: lua.undoAdjustPhone },
} as const;

type ScriptName = keyof typeof scripts;
type Call = (name: ScriptName, ...args: Array<string | number>) => void;

export interface RedisStoreOptions {
  /** An ioredis client, or a URL to connect to. */
  redis: Redis | string;
  /** config.redis.keyPrefix */
  keyPrefix: string;
}

function parseState(json: string): EntityState {
  const s = JSON.parse(json) as EntityState;
  if (!Array.isArray(s.e)) s.e = []; // cjson writes an empty array as {}
  return s;
}

function unavailable(e: unknown): TaplineError {
  return new TaplineError(
    'REDIS_UNAVAILABLE',
    `Redis did not answer the detector's batch: ${(e as Error).message}`,
    {
      cause: e,
      canRetry: true,
    },
  );
}

export function createRedisStore(options: RedisStoreOptions): StateStore & { redis: Redis } {
  const owned = typeof options.redis === 'string';
  const redis =
    typeof options.redis === 'string' ? new Redis(options.redis, { lazyConnect: false }) : options.redis;
  for (const [name, def] of Object.entries(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, def);
  }
  const p = options.keyPrefix;
  const entityKey = (ref: EntityRef) => `${p}{${ref.type}:${ref.id}}`;
  const tapKey = (id: string) => `${p}{t:${id}}`;
  /** KEYS and ARGV shared by the scripts that apply and undo a phone adjustment. */
  const phoneAdjustmentArgs = (msisdnHash: string, a: PhoneAdjustment): Array<string | number> => [
    entityKey({ type: 'm', id: msisdnHash }),
    a.adjustmentId,
    a.kind,
    a.tapId,
    a.amount,
    a.monthKey,
    a.occurredAt,
  ];
  const decisionKey = (id: string) => `${p}{t:${id}}:d`;
  let trips = 0;

  const call =
    (pipe: ChainableCommander): Call =>
    (name, ...args) => {
      (pipe as unknown as Record<string, (...a: Array<string | number>) => void>)[name]!(...args);
    };
  const run = async (pipe: ChainableCommander): Promise<unknown[]> => {
    trips++;
    let res: Array<[Error | null, unknown]> | null;
    try {
      res = await pipe.exec();
    } catch (e) {
      throw unavailable(e);
    }
    if (!res) throw unavailable(new Error('pipeline aborted'));
    return res.map(([err, value]) => {
      if (err) throw unavailable(err);
      return value;
    });
  };

  return {
    redis,
    roundTrips: () => trips,
    async lookupTaps(ids) {
      const pipe = redis.pipeline();
      for (const id of ids) pipe.get(tapKey(id)).get(decisionKey(id));
      const res = (await run(pipe)) as Array<string | null>;
      return ids.map((_, i): TapRecord | null => {
        const entry = res[2 * i];
        if (!entry) return null;
        const d = res[2 * i + 1];
        return {
          entry: JSON.parse(entry) as TapIndexEntry,
          decision: d ? (JSON.parse(d) as Decision) : null,
        };
      });
    },
    async execute(ops) {
      const pipe = redis.pipeline();
      const c = call(pipe);
      for (const op of ops) {
        switch (op.op) {
          case 'claimTap':
            c('tlClaimTap', tapKey(op.tapId), decisionKey(op.tapId), JSON.stringify(op.entry), op.ttlMs);
            break;
          case 'insertEvent':
            c(
              'tlInsertEvent',
              entityKey(op.entity),
              JSON.stringify(op.event),
              op.event[0],
              op.event[1],
              op.retentionMs,
              op.ttlMs,
              op.month?.key ?? '',
              op.month?.amount ?? 0,
              op.holdWindowMs ?? '',
              op.adjustmentKeepMs ?? '',
            );
            break;
          case 'adjustTap':
            c(
              'tlAdjustTap',
              tapKey(op.tapId),
              op.adjustmentId,
              op.expectedVersion,
              JSON.stringify(op.entry),
              op.ttlMs,
            );
            break;
          case 'adjustPhone':
            c('tlAdjustPhone', ...phoneAdjustmentArgs(op.msisdnHash, op.adjustment), op.ttlMs);
            break;
        }
      }
      const res = await run(pipe);
      return ops.map((op, i): StoreResult => {
        const r = res[i];
        switch (op.op) {
          case 'claimTap': {
            const [isNew, entry, decision] = r as [number, string?, string?];
            if (isNew === 1) return { op: 'claimTap', status: 'new' };
            return {
              op: 'claimTap',
              status: 'seen',
              entry: JSON.parse(entry!) as TapIndexEntry,
              decision: decision ? (JSON.parse(decision) as Decision) : null,
            };
          }
          case 'insertEvent': {
            const [inserted, prev, state] = r as [number, string, string];
            return {
              op: 'insertEvent',
              inserted: inserted === 1,
              prevMax: Number(prev),
              state: parseState(state),
            };
          }
          case 'adjustTap':
            return { op: 'adjustTap', status: r as 'ok' | 'unknown' | 'duplicate' | 'conflict' };
          case 'adjustPhone':
            return { op: 'adjustPhone', applied: r === 1 };
        }
      });
    },
    async finish(ops: FinishOp[]) {
      const pipe = redis.pipeline();
      const c = call(pipe);
      for (const op of ops) {
        switch (op.op) {
          case 'recordDecision':
            pipe.set(decisionKey(op.tapId), JSON.stringify(op.decision), 'PX', op.ttlMs, 'NX');
            break;
          case 'removeEvent':
            c('tlRemoveEvent', entityKey(op.entity), op.tapId, op.month?.key ?? '', op.month?.amount ?? 0);
            break;
          case 'undoAdjustPhone':
            c('tlUndoAdjustPhone', ...phoneAdjustmentArgs(op.msisdnHash, op.adjustment));
            break;
        }
      }
      await run(pipe);
    },
    async close() {
      if (owned) await redis.quit();
    },
  };
}
