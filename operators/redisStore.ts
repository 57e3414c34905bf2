/**
 * Redis StateStore. Its pipelines go over a connection of its own (operators/redis/pipelineConnection.ts:
 * commands encoded straight to RESP, scripts called by SHA and loaded on every connection), opened with
 * the ioredis client's endpoint; the client itself is left to the caller. Each call of `execute` or
 * `finish` is one pipelined round trip. Keys: `${prefix}{a:<account>}`, `{m:<msisdn_hash>}` (with `{m:…}:t` and
 * `{m:…}:z`, its counted month taps), `{d:<device>}`, and `{t:<tap_id>}` (tap index entry, then its
 * first decision); every key gets a TTL. Value layout: operators/redisScripts.ts. Per tap: three
 * entity scripts, then SET NX GET of its index entry with its decision (or, for a tap an adjustment
 * of its batch names, that claim first and a decision script after): no script decodes or
 * re-encodes a window.
 */
import { Redis } from 'ioredis';
import { TaplineError } from '../pipeline/errors.ts';
import type { Decision } from '../schemas/types.ts';
import type { PhoneAdjustment } from './entityState.ts';
import { packEvent, parseTapIndex } from './redis/layout.ts';
import { WindowCache, type WindowCacheOptions } from './redis/windowCache.ts';
import {
  createPipelineConnection,
  type PipelineConnection,
  type RedisEndpoint,
} from './redis/pipelineConnection.ts';
import { encodeCommand, ReplyError, type Reply } from './redis/resp.ts';
import { packEntry } from './tapIndexEntry.ts';
import * as lua from './redisScripts.ts';
import type {
  EntityRef,
  FinishOp,
  FinishResult,
  StateStore,
  StoreOp,
  StoreResult,
  TapRecord,
} from './stateStore.ts';

const scripts = {
  insertEvent: { numberOfKeys: 1, lua: lua.insertEvent },
  insertPhoneEvent: { numberOfKeys: 3, lua: lua.insertPhoneEvent },
  removeEvent: { numberOfKeys: 1, lua: lua.removeEvent },
  removePhoneEvent: { numberOfKeys: 3, lua: lua.removePhoneEvent },
  adjustTap: { numberOfKeys: 1, lua: lua.adjustTap },
  recordDecision: { numberOfKeys: 1, lua: lua.recordDecision },
  adjustPhone: { numberOfKeys: 3, lua: lua.adjustPhone },
  undoAdjustPhone: { numberOfKeys: 3, lua: lua.undoAdjustPhone },
} as const;

type ScriptName = keyof typeof scripts;

/** Where the ioredis client connects, for the store's own connection (same URL, TLS and credentials). */
function endpointOf(redis: Redis): RedisEndpoint {
  const o = redis.options;
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 6379,
    username: o.username ?? undefined,
    password: o.password ?? undefined,
    db: o.db ?? undefined,
    tls: o.tls ?? undefined,
    connectTimeoutMs: o.connectTimeout ?? 10_000,
  };
}

/** One pipeline being written: its commands as RESP, and how many. */
class Commands {
  text = '';
  count = 0;
  private readonly connection: PipelineConnection;
  constructor(connection: PipelineConnection) {
    this.connection = connection;
  }
  command(...args: Array<string | number>): void {
    this.text += encodeCommand(args);
    this.count++;
  }
  script(name: ScriptName, ...keysThenArgs: Array<string | number>): void {
    this.command('EVALSHA', this.connection.sha(name), scripts[name].numberOfKeys, ...keysThenArgs);
  }
}

/**
 * Operations per part of a batch (16 taps): the detector decides a part's taps while Redis applies
 * the next. bench/detect.ts, batches of 1,000 taps: one part 4,226 taps/s; 256 ops 4,959; 128 ops
 * 5,975; 64 ops 6,286-7,214; 16 ops 7,488 (Redis's own CPU is then the limit).
 */
const OPS_PER_PART = 64;

export interface RedisStoreOptions {
  /** An ioredis client, or a URL to connect to. */
  redis: Redis | string;
  /** config.redis.keyPrefix */
  keyPrefix: string;
  /** Operations per part of a batch (tests cut finer to exercise answers part by part). */
  opsPerPart?: number;
  /** Which windows stay parsed between inserts (operators/redis/windowCache.ts). */
  windowCache?: WindowCacheOptions;
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
  const connection = createPipelineConnection(
    endpointOf(redis),
    Object.fromEntries(Object.entries(scripts).map(([name, def]) => [name, def.lua])),
  );
  const p = options.keyPrefix;
  const entityKey = (ref: EntityRef) => `${p}{${ref.type}:${ref.id}}`;
  /** A phone's key and its month-tap keys (one hash tag): KEYS of every phone script. */
  const phoneKeys = (msisdnHash: string): [string, string, string] => {
    const k = `${p}{m:${msisdnHash}}`;
    return [k, `${k}:t`, `${k}:z`];
  };
  const tapKey = (id: string) => `${p}{t:${id}}`;
  /** KEYS and ARGV shared by the scripts that apply and undo a phone adjustment. */
  const phoneAdjustmentArgs = (msisdnHash: string, a: PhoneAdjustment): Array<string | number> => [
    ...phoneKeys(msisdnHash),
    a.adjustmentId,
    a.kind,
    a.tapId,
    a.amount,
    a.monthKey,
    a.occurredAt,
  ];
  let trips = 0;
  const windows = new WindowCache(options.windowCache);

  /** One pipeline's answers; `run` also counts it as a round trip. */
  const send = async (commands: Commands): Promise<Reply[]> => {
    let res: Reply[];
    try {
      res = await connection.send(commands.text, commands.count);
    } catch (e) {
      throw unavailable(e);
    }
    for (const r of res) if (r instanceof ReplyError) throw unavailable(r);
    return res;
  };
  const run = (commands: Commands): Promise<Reply[]> => {
    trips++;
    return send(commands);
  };
  const tapRecord = (raw: string): TapRecord => {
    const { entry, decision } = parseTapIndex(raw);
    return { entry, decision: decision === null ? null : (JSON.parse(decision) as Decision) };
  };
  /** A tap index entry created unless the tap_id exists (Redis 7: NX with GET answers what is there). */
  const claim = (pipe: Commands, tapId: string, value: string, ttlMs: number) =>
    pipe.command('SET', tapKey(tapId), value, 'PX', ttlMs, 'NX', 'GET');
  const claimResult = (r: Reply): NonNullable<FinishResult> =>
    r === null
      ? { op: 'claimTap', status: 'new' }
      : { op: 'claimTap', status: 'seen', ...tapRecord(r as string) };

  async function executePart(ops: readonly StoreOp[]): Promise<StoreResult[]> {
    const pipe = new Commands(connection);
    for (const op of ops) {
      switch (op.op) {
        case 'claimTap':
          claim(pipe, op.tapId, packEntry(op.entry), op.ttlMs);
          break;
        case 'insertEvent': {
          const ev = op.event;
          if (op.entity.type === 'm')
            pipe.script(
              'insertPhoneEvent',
              ...phoneKeys(op.entity.id),
              packEvent('m', ev),
              ev[0],
              ev[1],
              op.retentionMs,
              op.ttlMs,
              op.month?.key ?? '',
              op.month?.amount ?? 0,
              op.holdWindowMs ?? '',
              op.adjustmentKeepMs ?? '',
              ev[1] - op.retentionMs,
            );
          else
            pipe.script(
              'insertEvent',
              entityKey(op.entity),
              packEvent(op.entity.type, ev),
              ev[0],
              ev[1],
              op.retentionMs,
              op.ttlMs,
              ev[1] - op.retentionMs,
            );
          break;
        }
        case 'adjustTap':
          pipe.script(
            'adjustTap',
            tapKey(op.tapId),
            op.adjustmentId,
            op.expectedVersion,
            packEntry(op.entry),
            op.ttlMs,
          );
          break;
        case 'adjustPhone':
          pipe.script('adjustPhone', ...phoneAdjustmentArgs(op.msisdnHash, op.adjustment), op.ttlMs);
          break;
      }
    }
    const res = await send(pipe);
    return ops.map((op, i): StoreResult => {
      const r = res[i];
      switch (op.op) {
        case 'claimTap':
          return claimResult(r!);
        case 'insertEvent': {
          const [inserted, prev, state, later] = r as [number, string, string, string[]?];
          return {
            op: 'insertEvent',
            inserted: inserted === 1,
            prevMax: Number(prev),
            state: windows.state(`${op.entity.type}:${op.entity.id}`, op.entity.type, state, later),
          };
        }
        case 'adjustTap':
          return { op: 'adjustTap', status: r as 'ok' | 'unknown' | 'duplicate' | 'conflict' };
        case 'adjustPhone':
          return { op: 'adjustPhone', applied: r === 1 };
      }
    });
  }

  /** Claims with their decisions, decisions recorded, inserts and adjustments undone: one pipeline. */
  async function finishPart(ops: readonly FinishOp[]): Promise<FinishResult[]> {
    const pipe = new Commands(connection);
    for (const op of ops) {
      switch (op.op) {
        case 'claimDecided':
          // The entry and its first decision in one write.
          claim(pipe, op.tapId, `${packEntry(op.entry)}\n${JSON.stringify(op.decision)}`, op.ttlMs);
          break;
        case 'recordDecision':
          pipe.script('recordDecision', tapKey(op.tapId), JSON.stringify(op.decision));
          break;
        case 'removeEvent':
          if (op.entity.type === 'm')
            pipe.script(
              'removePhoneEvent',
              ...phoneKeys(op.entity.id),
              op.tapId,
              op.month?.key ?? '',
              op.month?.amount ?? 0,
            );
          else pipe.script('removeEvent', entityKey(op.entity), op.tapId);
          break;
        case 'undoAdjustPhone':
          pipe.script('undoAdjustPhone', ...phoneAdjustmentArgs(op.msisdnHash, op.adjustment));
          break;
      }
    }
    const res = await send(pipe);
    return ops.map((op, i): FinishResult => (op.op === 'claimDecided' ? claimResult(res[i]!) : null));
  }

  return {
    redis,
    roundTrips: () => trips,
    async lookupTaps(ids) {
      const pipe = new Commands(connection);
      for (const id of ids) pipe.command('GET', tapKey(id));
      const res = (await run(pipe)) as Array<string | null>;
      return res.map((raw) => (raw ? tapRecord(raw) : null));
    },
    opsPerPart: options.opsPerPart ?? OPS_PER_PART,
    execute(parts) {
      // Every part is written before any answer is awaited: one round trip, answered part by part.
      trips++;
      return parts.map((ops) => executePart(ops));
    },
    stream() {
      // The same round trips, written in installments as the detector has them (both write at once).
      trips++;
      let finishing = false;
      return {
        part: (ops) => executePart(ops),
        finish(ops) {
          if (!finishing) trips++;
          finishing = true;
          return finishPart(ops);
        },
      };
    },
    finish(ops) {
      trips++;
      return finishPart(ops);
    },
    async close() {
      await connection.close();
      if (owned) await redis.quit();
    },
  };
}
