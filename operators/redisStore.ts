/**
 * Redis StateStore (ioredis). Scripts are defined once with `defineCommand`, so ioredis calls them by
 * SHA (EVALSHA) and loads them only when Redis answers NOSCRIPT. Each call of `execute` or `finish` is
 * one pipelined round trip. Keys: `${prefix}{a:<account>}`, `{m:<msisdn_hash>}`, `{d:<device>}`,
 * `{t:<tap_id>}` (tap index) and `{t:<tap_id>}:d` (its first decision); every key gets a TTL.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import { TaplineError } from '../pipeline/errors.ts';
import type { Decision } from '../schemas/types.ts';
import type { EntityState, TapIndexEntry } from './entityState.ts';
import * as lua from './redisScripts.ts';
import type { EntityRef, FinishOp, StateStore, StoreResult, TapRecord } from './stateStore.ts';

/** Operation codes of the batch script (operators/redisScripts.ts). */
const CLAIM = 1;
const INSERT = 2;
const ADJUST_TAP = 3;
const ADJUST_PHONE = 4;
const REMOVE = 5;
const UNDO_PHONE = 6;
const DECIDE = 7;

type BatchResult = number | string | [number, unknown, unknown];

export interface RedisStoreOptions {
  /** An ioredis client, or a URL to connect to. */
  redis: Redis | string;
  /** config.redis.keyPrefix */
  keyPrefix: string;
}

interface BatchCommand {
  /** ioredis flattens array arguments. */
  tlBatch(numKeys: number, keys: string[], args: Array<string | number>): Promise<unknown>;
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
  // No fixed numberOfKeys: each call passes its key count first (EVALSHA, loaded on NOSCRIPT).
  if (!('tlBatch' in redis)) redis.defineCommand('tlBatch', { lua: lua.batch });
  const p = options.keyPrefix;
  const entityKey = (ref: EntityRef) => `${p}{${ref.type}:${ref.id}}`;
  const tapKey = (id: string) => `${p}{t:${id}}`;
  const decisionKey = (id: string) => `${p}{t:${id}}:d`;
  let trips = 0;

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

  /**
   * Runs operations through the batch script: keys are numbered once per call (an entity touched by
   * ten taps of the batch is read and written once), the operations travel as one JSON argument and
   * the results come back as one JSON text. One command per batch instead of one per operation is
   * what makes Node fast here: encoding commands is the client's main cost.
   */
  const batch = async (build: (key: (k: string) => number, args: Array<string | number>) => void) => {
    const keys: string[] = [];
    const index = new Map<string, number>();
    const key = (k: string) => {
      let i = index.get(k);
      if (i === undefined) {
        i = keys.push(k);
        index.set(k, i);
      }
      return i;
    };
    const args: Array<string | number> = [];
    build(key, args);
    if (args.length === 0) return [];
    trips++;
    let raw: string;
    try {
      raw = (await (redis as unknown as BatchCommand).tlBatch(keys.length, keys, args)) as string;
    } catch (e) {
      throw unavailable(e);
    }
    return JSON.parse(raw) as BatchResult[];
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
      const res = await batch((key, args) => {
        for (const op of ops) {
          switch (op.op) {
            case 'claimTap':
              args.push(
                CLAIM,
                key(tapKey(op.tapId)),
                key(decisionKey(op.tapId)),
                JSON.stringify(op.entry),
                op.ttlMs,
              );
              break;
            case 'insertEvent': {
              const ev = op.event;
              args.push(
                INSERT,
                key(entityKey(op.entity)),
                op.retentionMs,
                op.ttlMs,
                op.month?.key ?? '',
                op.month?.amount ?? 0,
                op.holdWindowMs ?? '',
                op.adjustmentKeepMs ?? '',
                op.entity.type,
              );
              // Nullable fields travel as '' (the script turns them back into null).
              for (const f of ev) args.push(f ?? '');
              break;
            }
            case 'adjustTap':
              args.push(
                ADJUST_TAP,
                key(tapKey(op.tapId)),
                op.adjustmentId,
                op.expectedVersion,
                JSON.stringify(op.entry),
                op.ttlMs,
              );
              break;
            case 'adjustPhone': {
              const a = op.adjustment;
              args.push(
                ADJUST_PHONE,
                key(entityKey({ type: 'm', id: op.msisdnHash })),
                a.adjustmentId,
                a.kind,
                a.tapId,
                a.amount,
                a.monthKey,
                a.occurredAt,
                op.ttlMs,
              );
              break;
            }
          }
        }
      });
      return ops.map((op, i): StoreResult => {
        const r = res[i];
        switch (op.op) {
          case 'claimTap': {
            if (r === 1) return { op: 'claimTap', status: 'new' };
            const [, entry, decision] = r as [number, TapIndexEntry, Decision | null];
            return { op: 'claimTap', status: 'seen', entry, decision };
          }
          case 'insertEvent': {
            const [inserted, prev, state] = r as [number, number, EntityState];
            if (!Array.isArray(state.e)) state.e = []; // cjson writes an empty array as {}
            return { op: 'insertEvent', inserted: inserted === 1, prevMax: prev, state };
          }
          case 'adjustTap':
            return { op: 'adjustTap', status: r as 'ok' | 'unknown' | 'duplicate' | 'conflict' };
          case 'adjustPhone':
            return { op: 'adjustPhone', applied: r === 1 };
        }
      });
    },
    async finish(ops: FinishOp[]) {
      await batch((key, args) => {
        for (const op of ops) {
          switch (op.op) {
            case 'recordDecision':
              args.push(DECIDE, key(decisionKey(op.tapId)), JSON.stringify(op.decision), op.ttlMs);
              break;
            case 'removeEvent':
              args.push(
                REMOVE,
                key(entityKey(op.entity)),
                op.tapId,
                op.month?.key ?? '',
                op.month?.amount ?? 0,
              );
              break;
            case 'undoAdjustPhone': {
              const a = op.adjustment;
              args.push(
                UNDO_PHONE,
                key(entityKey({ type: 'm', id: op.msisdnHash })),
                a.adjustmentId,
                a.kind,
                a.tapId,
                a.amount,
                a.monthKey,
                a.occurredAt,
              );
              break;
            }
          }
        }
      });
    },
    async close() {
      if (owned) await redis.quit();
    },
  };
}
