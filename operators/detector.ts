/**
 * The detection engine, designed for batches. The streaming worker and `tapline backtest` call:
 *
 *   const detector = createDetector({ store, rules, geo, clock?, tapIndexDays? });
 *   const outcomes = await detector.processBatch(records);   // one Outcome per record, same order
 *   detector.setRules(newRules);                              // e.g. from watchRules(); next batch on
 *
 * records: `{ kind: 'tap', tap: EnrichedTap, source? }` or `{ kind: 'adjustment', adjustment, source? }`
 * (`source`: the record's position, e.g. `topic/partition/offset`, so a replay after a crash is told
 * apart from a producer duplicate; omit it offline). Records of a batch are applied in order.
 *
 * Outcomes:
 *   decision  { decision, tap, replay }: `decision.duplicate` is set for a producer duplicate (the first
 *             decision again, no state change); `replay` for the same record delivered again (re-send
 *             the decision as it was).
 *   applied   { adjustment: AppliedAdjustment (with its tap's context), duplicate }
 *   pending   { reason }: the adjustment's tap is unknown (yet); the worker retries, backtest rejects.
 *   rejected  { code, reason }: DUPLICATE_CONFLICT (same tap_id, other content) or ADJUSTMENT_REJECTED.
 *
 * Store round trips per batch: lookupTaps (only when the batch holds adjustments), execute, finish,
 * and a second finish only when a tap's claim found it already there (see operators/stateStore.ts).
 * A store with `stream` (Redis) takes execute part by part as the detector cuts them, and finish slice
 * by slice as taps are decided: the same round trips, with nothing held back until the batch is planned.
 * `lazyTap` records are prepared (decoded, enriched) in the planning loop, between those parts.
 */
import type { AppliedAdjustment, PreparedTap } from '../pipeline/topology.ts';
import type { ErrorCode } from '../pipeline/errors.ts';
import type { Adjustment, Decision, EnrichedTap } from '../schemas/types.ts';
import { checkAdjustment } from './adjustments.ts';
import { capMonth } from './calendarMonth.ts';
import { decide } from './decide.ts';
import {
  DECLINED_FLAG,
  RETRY_FLAG,
  type EntityState,
  type PhoneAdjustment,
  type PhoneAdjustmentKind,
  type TapIndexEntry,
} from './entityState.ts';
import type { Geo } from './geo.ts';
import type { Rules } from './rulesFile.ts';
import { tapContentHash } from './tapContentHash.ts';
import type { EntityViews, TapContext } from './ruleTypes.ts';
import type {
  ClaimResult,
  EntityRef,
  FinishOp,
  FinishResult,
  StateStore,
  StoreOp,
  StoreResult,
  TapRecord,
} from './stateStore.ts';

export type DetectorInput =
  /** `hash`: the tap's tapContentHash when the caller has it already (the backtest's input thread). */
  | { kind: 'tap'; tap: EnrichedTap; source?: string; hash?: string }
  /**
   * A tap prepared (enriched) only when the detector reaches it, so that with a store that takes parts
   * one at a time (`StateStore.stream`) the work overlaps the store's on the parts already sent. A tap
   * its preparation refuses is rejected with that code and reason.
   */
  | { kind: 'lazyTap'; prepare: () => PreparedTap; source?: string }
  | { kind: 'adjustment'; adjustment: Adjustment; source?: string };

export type Outcome =
  | { kind: 'decision'; decision: Decision; tap: EnrichedTap; replay: boolean }
  | { kind: 'applied'; adjustment: AppliedAdjustment; duplicate: boolean }
  | { kind: 'pending'; reason: string }
  | { kind: 'rejected'; code: ErrorCode; reason: string };

export interface DetectorOptions {
  store: StateStore;
  rules: Rules;
  geo: Geo;
  /** Wall clock for `decided_at`. @default Date.now */
  clock?: () => number;
  /** How long the tap index keeps a tap for its adjustments. @default 400 */
  tapIndexDays?: number;
}

export interface Detector {
  processBatch(records: readonly DetectorInput[]): Promise<Outcome[]>;
  setRules(rules: Rules): void;
  rules(): Rules;
}

const DAY = 86_400_000;
/** Keys outlive their retention by this much, so a quiet hour never loses state still in a window. */
const TTL_SLACK = 3_600_000;
/** A phone keeps its month sums at least through the longest month plus lateness. */
const MONTH_KEEP = 32 * DAY;
const PHONE_KINDS = new Set<string>(['REFUND', 'CHARGEBACK', 'UNPAID', 'COLLECTED']);

const round4 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 1e4) / 1e4);

interface Retention {
  account: number;
  msisdn: number;
  device: number;
  lateness: number;
  unpaid: number;
}

function retention(rules: Rules): Retention {
  const r = rules.rules;
  const late = rules.lateness_ms;
  return {
    account:
      Math.max(
        r.account_burst.window_ms,
        r.account_declines.window_ms,
        r.account_many_devices.window_ms,
        r.ip_jump.window_ms,
      ) + late,
    msisdn: Math.max(r.msisdn_daily_amount.window_ms, r.msisdn_many_accounts.window_ms) + late,
    device: r.device_many_accounts.window_ms + late,
    lateness: late,
    unpaid: r.blocklist.unpaid_block_ms,
  };
}

type Plan =
  | {
      kind: 'tap';
      tap: EnrichedTap;
      hash: string;
      ctx: TapContext;
      entry: TapIndexEntry;
      first: number;
      /**
       * Claimed with the batch's operations, its decision recorded after: an adjustment of the batch
       * names the tap, and its tap index update needs the entry there. Any other tap is claimed
       * together with its decision, in `finish`.
       */
      early: boolean;
      source?: string;
    }
  | { kind: 'tapRepeat'; tap: EnrichedTap; hash: string; of: number }
  | {
      kind: 'adjustment';
      adjustment: Adjustment;
      base: TapIndexEntry;
      first: number;
      phone: boolean;
      phoneAdj?: PhoneArgs;
    }
  | { kind: 'done'; outcome: Outcome };

type TapPlan = Extract<Plan, { kind: 'tap' }>;
type InsertResult = Extract<StoreResult, { op: 'insertEvent' }>;

type PhoneArgs = {
  msisdnHash: string;
  adjustment: {
    adjustmentId: string;
    kind: PhoneAdjustmentKind;
    tapId: string;
    amount: number;
    monthKey: string;
    occurredAt: number;
  };
};

function applied(adj: Adjustment, e: TapIndexEntry, duplicate: boolean): Outcome {
  return {
    kind: 'applied',
    duplicate,
    adjustment: {
      ...adj,
      account_id: e.account_id,
      msisdn_hash: e.msisdn_hash,
      platform_id: e.platform_id,
      creator_id: e.creator_id,
      carrier: e.carrier,
      currency: e.currency,
      tap_occurred_at: e.occurred_at,
    },
  };
}

export function createDetector(options: DetectorOptions): Detector {
  const { store, geo } = options;
  const clock = options.clock ?? Date.now;
  const tapTtl = (options.tapIndexDays ?? 400) * DAY;
  let rules = options.rules;
  let ret = retention(rules);

  return {
    rules: () => rules,
    setRules(next) {
      rules = next;
      ret = retention(next);
    },
    async processBatch(records) {
      const batchRules = rules;
      const r = ret;
      const accountTtl = r.account + TTL_SLACK;
      const deviceTtl = r.device + TTL_SLACK;
      const msisdnTtl = Math.max(r.msisdn, r.unpaid, MONTH_KEEP) + TTL_SLACK;

      // Taps that adjustments of this batch name, from the store even when the batch also holds a copy
      // of the tap: a stored tap stays the truth, and a copy that turns out a duplicate or a conflict
      // must not give its adjustments a fresh entry (no earlier refunds, or the conflicting content).
      const local = new Map<string, TapIndexEntry>();
      const toLookup: string[] = [];
      for (const rec of records) if (rec.kind === 'adjustment') toLookup.push(rec.adjustment.tap_id);
      const looked: Array<TapRecord | null> =
        toLookup.length > 0 ? await store.lookupTaps([...new Set(toLookup)]) : [];
      const adjusted = new Set(toLookup);
      [...adjusted].forEach((id, i) => {
        const found = looked[i];
        if (found) local.set(id, found.entry);
      });

      const ops: StoreOp[] = [];
      const plans: Plan[] = [];
      const firstTapInBatch = new Map<string, number>();
      // The operations go to the store in parts cut at plan boundaries (a plan's operations share one
      // part). A store that takes parts one at a time gets each as soon as it is cut: it works on the
      // first parts while the later taps are prepared and planned. Otherwise every part goes in one
      // `execute` below. Either way the first part's taps are decided while the store works on the rest.
      let streamed: ReturnType<NonNullable<StateStore['stream']>> | undefined;
      const parts: StoreOp[][] = [];
      let pending: Array<Promise<StoreResult[]>> = [];
      let cut = 0;
      const cutPart = () => {
        const part = ops.slice(cut);
        cut = ops.length;
        streamed ??= store.stream?.();
        if (!streamed) {
          parts.push(part); // for one `execute` below
          return;
        }
        const answered = streamed.part(part);
        answered.catch(() => {}); // awaited below, unless preparing a later tap throws first
        pending.push(answered);
      };
      /** Called where a tap's or an adjustment's operations start. */
      const planStarts = () => {
        if (ops.length - cut >= store.opsPerPart) cutPart();
      };
      for (const rec of records) {
        if (rec.kind !== 'adjustment') {
          let tap: EnrichedTap;
          let given: string | undefined;
          if (rec.kind === 'lazyTap') {
            const prepared = rec.prepare();
            if (!prepared.ok) {
              const { code, reason } = prepared;
              plans.push({ kind: 'done', outcome: { kind: 'rejected', code, reason } });
              continue;
            }
            tap = prepared.tap;
          } else {
            tap = rec.tap;
            given = rec.hash;
          }
          const hash = given ?? tapContentHash(tap);
          const earlier = firstTapInBatch.get(tap.tap_id);
          if (earlier !== undefined) {
            plans.push({ kind: 'tapRepeat', tap, hash, of: earlier });
            continue;
          }
          firstTapInBatch.set(tap.tap_id, plans.length);
          const loc = geo.lookup(tap.ip);
          const month = capMonth(tap.occurred_at, batchRules.rules.monthly_cap.timezone);
          const ctx: TapContext = { tap, geo: loc, monthKey: `${month}|${tap.currency}` };
          const approved = tap.status === 'APPROVED' ? tap.amount : 0;
          const entry: TapIndexEntry = {
            v: 0,
            h: hash,
            src: rec.source ?? null,
            account_id: tap.account_id,
            msisdn_hash: tap.msisdn_hash,
            platform_id: tap.platform_id,
            creator_id: tap.creator_id,
            carrier: tap.carrier,
            currency: tap.currency,
            occurred_at: tap.occurred_at,
            month: ctx.monthKey,
            amount: tap.amount,
            status: tap.status,
            reversed: 0,
            held: 0,
            adj: {},
          };
          const early = adjusted.has(tap.tap_id);
          // Only the batch's adjustments look taps up in `local`: a tap none of them names stays out.
          if (early && !local.has(tap.tap_id)) local.set(tap.tap_id, entry);
          const flags = (tap.status === 'APPROVED' ? 0 : DECLINED_FLAG) | (tap.retry_of ? RETRY_FLAG : 0);
          planStarts();
          plans.push({ kind: 'tap', tap, hash, ctx, entry, first: ops.length, early, source: rec.source });
          if (early) ops.push({ op: 'claimTap', tapId: tap.tap_id, entry, ttlMs: tapTtl });
          ops.push(
            {
              op: 'insertEvent',
              entity: { type: 'a', id: tap.account_id },
              retentionMs: r.account,
              ttlMs: accountTtl,
              event: [
                tap.tap_id,
                tap.occurred_at,
                flags,
                tap.device_id,
                loc?.country ?? null,
                round4(loc?.lat),
                round4(loc?.lon),
              ],
            },
            {
              op: 'insertEvent',
              entity: { type: 'm', id: tap.msisdn_hash },
              retentionMs: r.msisdn,
              ttlMs: msisdnTtl,
              event: [tap.tap_id, tap.occurred_at, tap.account_id, approved, tap.currency],
              month: { key: ctx.monthKey, amount: approved },
              holdWindowMs: r.unpaid,
              adjustmentKeepMs: msisdnTtl,
            },
            {
              op: 'insertEvent',
              entity: { type: 'd', id: tap.device_id },
              retentionMs: r.device,
              ttlMs: deviceTtl,
              event: [tap.tap_id, tap.occurred_at, tap.account_id],
            },
          );
          continue;
        }
        const adj = rec.adjustment;
        const base = local.get(adj.tap_id);
        if (!base) {
          plans.push({
            kind: 'done',
            outcome: {
              kind: 'pending',
              reason: `adjustment ${adj.adjustment_id}: tap ${adj.tap_id} is unknown`,
            },
          });
          continue;
        }
        const appliedBy = base.adj[adj.adjustment_id];
        if (appliedBy) {
          // The same record again (a batch replayed after a crash whose Kafka transaction was aborted):
          // its effect stays applied once, and its output is sent again, as a replayed tap's decision is.
          const replay = rec.source !== undefined && appliedBy === rec.source;
          plans.push({ kind: 'done', outcome: applied(adj, base, !replay) });
          // The tap index and the phone are two writes: a store that died between them left the
          // phone without the effect. A replay completes it; the phone counts an adjustment id once.
          if (replay && PHONE_KINDS.has(adj.kind))
            ops.push({ op: 'adjustPhone', ...phoneAdjustment(adj, base), ttlMs: msisdnTtl });
          continue;
        }
        const check = checkAdjustment(base, adj, rec.source);
        if (!check.ok) {
          plans.push({
            kind: 'done',
            outcome: { kind: 'rejected', code: 'ADJUSTMENT_REJECTED', reason: check.reason },
          });
          continue;
        }
        local.set(adj.tap_id, check.entry);
        const phone = PHONE_KINDS.has(adj.kind);
        planStarts();
        const plan: Plan = { kind: 'adjustment', adjustment: adj, base, first: ops.length, phone };
        ops.push({
          op: 'adjustTap',
          tapId: adj.tap_id,
          adjustmentId: adj.adjustment_id,
          expectedVersion: base.v,
          entry: check.entry,
          ttlMs: tapTtl,
        });
        if (phone) {
          plan.phoneAdj = phoneAdjustment(adj, base);
          ops.push({ op: 'adjustPhone', ...plan.phoneAdj, ttlMs: msisdnTtl });
        }
        plans.push(plan);
      }

      if (ops.length > cut) cutPart();
      if (!streamed && parts.length > 0) {
        pending = store.execute(parts);
        for (const part of pending) part.catch(() => {}); // each is awaited below; none is left unhandled
      }
      const results: StoreResult[] = [];
      let received = 0;
      const resultsThrough = async (lastOp: number) => {
        while (results.length <= lastOp) for (const r of await pending[received++]!) results.push(r);
      };
      const finish: FinishOp[] = [];
      /**
       * With a streaming store, `finish` goes in installments, in order: what is ready whenever the
       * detector would wait for a part. The store has every part already (all were sent while planning),
       * so it applies them after every part, as one `finish` call would be. A part that fails later
       * leaves claims of taps decided before it, as a store dying between claims does.
       */
      const finishSent: Array<Promise<FinishResult[]>> = [];
      let finishCut = 0;
      const sendFinished = () => {
        if (!streamed || finishCut === finish.length) return;
        const answered = streamed.finish(finish.slice(finishCut));
        finishCut = finish.length;
        answered.catch(() => {}); // awaited below, unless a part fails first
        finishSent.push(answered);
      };
      /** Filled in order; a tap claimed in `finish`, and every repeat, once `finish` has answered. */
      const outcomes: Array<Outcome | undefined> = [];
      /** Taps claimed together with their decision: where their outcome goes, and their claim's index. */
      const claims: Array<{
        at: number;
        plan: TapPlan;
        inserts: InsertResult[];
        decision: Decision;
        index: number;
      }> = [];
      const claimOf = new Map<TapPlan, ClaimResult>();
      const decidedAt = clock();

      /** Removals of the events a conflicting copy inserted (its tap_id was claimed with other content). */
      const undo = (plan: TapPlan, inserts: InsertResult[], into: FinishOp[]) =>
        inserts.forEach((ins, k) => {
          if (!ins.inserted) return;
          const entity: EntityRef = [
            { type: 'a' as const, id: plan.tap.account_id },
            { type: 'm' as const, id: plan.tap.msisdn_hash },
            { type: 'd' as const, id: plan.tap.device_id },
          ][k]!;
          const removal: FinishOp = { op: 'removeEvent', entity, tapId: plan.tap.tap_id };
          if (k === 1 && plan.tap.status === 'APPROVED')
            removal.month = { key: plan.ctx.monthKey, amount: plan.tap.amount };
          into.push(removal);
        });
      /**
       * The outcome of a tap whose claim found its tap_id there: a conflict, its inserts undone, or the
       * stored first decision again (a replay of the same record, or a duplicate); null when the stored
       * entry has no decision yet (claimed in a batch that died before recording it): decide it now.
       */
      const seenOutcome = (
        plan: TapPlan,
        claim: Extract<ClaimResult, { status: 'seen' }>,
        inserts: InsertResult[],
        into: FinishOp[],
      ): Outcome | null => {
        if (claim.entry.h !== plan.hash) {
          undo(plan, inserts, into);
          return conflict(plan.tap.tap_id);
        }
        if (claim.decision === null) return null;
        // The same content's events are left in place: they are the tap's own (found, they were not
        // inserted again), and two workers can hold the same record in a rebalance, where the one
        // claiming second may be the one whose inserts came first.
        const replay = plan.source !== undefined && claim.entry.src === plan.source;
        return {
          kind: 'decision',
          decision: replay ? claim.decision : { ...claim.decision, duplicate: true },
          tap: plan.tap,
          replay,
        };
      };

      for (const plan of plans) {
        const lastOp =
          plan.kind === 'tap'
            ? plan.first + (plan.early ? 3 : 2)
            : plan.kind === 'adjustment'
              ? plan.first + (plan.phone ? 1 : 0)
              : -1;
        if (results.length <= lastOp) {
          // Waiting for the store: meanwhile it gets the claims (and undos) of the taps decided so far.
          sendFinished();
          await resultsThrough(lastOp);
        }
        switch (plan.kind) {
          case 'done':
            outcomes.push(plan.outcome);
            break;
          case 'tapRepeat':
            outcomes.push(undefined); // after its first copy's claim, below
            break;
          case 'tap': {
            const at = plan.first + (plan.early ? 1 : 0);
            const inserts = [results[at], results[at + 1], results[at + 2]] as InsertResult[];
            if (plan.early) {
              const claim = results[plan.first] as ClaimResult;
              claimOf.set(plan, claim);
              const settled = claim.status === 'seen' ? seenOutcome(plan, claim, inserts, finish) : null;
              if (settled) {
                outcomes.push(settled);
                break;
              }
            }
            const views: EntityViews = {
              account: inserts[0]!.state,
              msisdn: inserts[1]!.state,
              device: inserts[2]!.state,
            };
            const t = plan.tap.occurred_at;
            const late = inserts.some((ins) => ins.prevMax >= 0 && t < ins.prevMax - r.lateness);
            const decision = decide({
              ctx: plan.ctx,
              views,
              rules: batchRules,
              geoDb: geo.build,
              decidedAt,
              late,
            });
            if (plan.early) {
              finish.push({ op: 'recordDecision', tapId: plan.tap.tap_id, decision, ttlMs: tapTtl });
              outcomes.push({ kind: 'decision', decision, tap: plan.tap, replay: false });
            } else {
              claims.push({ at: outcomes.length, plan, inserts, decision, index: finish.length });
              finish.push({
                op: 'claimDecided',
                tapId: plan.tap.tap_id,
                entry: plan.entry,
                decision,
                ttlMs: tapTtl,
              });
              outcomes.push(undefined);
            }
            break;
          }
          case 'adjustment': {
            const res = results[plan.first] as Extract<StoreResult, { op: 'adjustTap' }>;
            const phone = plan.phone
              ? (results[plan.first + 1] as Extract<StoreResult, { op: 'adjustPhone' }>)
              : null;
            if (res.status !== 'ok' && phone?.applied && plan.phoneAdj)
              finish.push({ op: 'undoAdjustPhone', ...plan.phoneAdj });
            const adj = plan.adjustment;
            if (res.status === 'ok') outcomes.push(applied(adj, plan.base, false));
            else if (res.status === 'duplicate') outcomes.push(applied(adj, plan.base, true));
            else
              outcomes.push({
                kind: 'pending',
                reason:
                  res.status === 'unknown'
                    ? `adjustment ${adj.adjustment_id}: tap ${adj.tap_id} is unknown`
                    : `adjustment ${adj.adjustment_id}: tap ${adj.tap_id} changed while it was checked; try again`,
              });
            break;
          }
        }
      }
      // Every part answered (a replayed adjustment's phone op has no plan reading it) before the
      // finish is complete.
      while (received < pending.length) await pending[received++];
      sendFinished();
      const finished = streamed
        ? (await Promise.all(finishSent)).flat()
        : finish.length > 0
          ? await store.finish(finish)
          : [];

      // The taps claimed with their decision: new, or already there (then undone, unless the stored
      // entry waits for its decision: this one is recorded).
      const after: FinishOp[] = [];
      for (const c of claims) {
        const claim = finished[c.index]!;
        claimOf.set(c.plan, claim);
        const settled = claim.status === 'seen' ? seenOutcome(c.plan, claim, c.inserts, after) : null;
        if (settled) outcomes[c.at] = settled;
        else {
          if (claim.status === 'seen')
            after.push({
              op: 'recordDecision',
              tapId: c.plan.tap.tap_id,
              decision: c.decision,
              ttlMs: tapTtl,
            });
          outcomes[c.at] = { kind: 'decision', decision: c.decision, tap: c.plan.tap, replay: false };
        }
      }
      plans.forEach((plan, i) => {
        if (plan.kind !== 'tapRepeat') return;
        const first = outcomes[plan.of]!;
        const firstPlan = plans[plan.of] as TapPlan;
        const stored = claimOf.get(firstPlan);
        if (
          first.kind === 'rejected' &&
          first.code === 'DUPLICATE_CONFLICT' &&
          stored?.status === 'seen' &&
          stored.decision !== null
        ) {
          // The batch's first copy conflicted with a tap decided in an earlier batch: judge this
          // copy against that stored tap, not the refused copy (an exact resend is a duplicate).
          outcomes[i] =
            stored.entry.h === plan.hash
              ? {
                  kind: 'decision',
                  decision: { ...stored.decision, duplicate: true },
                  tap: plan.tap,
                  replay: false,
                }
              : conflict(plan.tap.tap_id);
        } else if (first.kind !== 'decision') outcomes[i] = first;
        else if (firstPlan.hash !== plan.hash) outcomes[i] = conflict(plan.tap.tap_id);
        else
          outcomes[i] = {
            kind: 'decision',
            decision: { ...first.decision, duplicate: true },
            tap: plan.tap,
            replay: false,
          };
      });
      if (after.length > 0) await store.finish(after);
      return outcomes as Outcome[];
    },
  };
}

/** An adjustment's effect on its tap's phone, for the phone's state. */
function phoneAdjustment(
  adj: Adjustment,
  base: TapIndexEntry,
): { msisdnHash: string; adjustment: PhoneAdjustment } {
  return {
    msisdnHash: base.msisdn_hash,
    adjustment: {
      adjustmentId: adj.adjustment_id,
      kind: adj.kind as PhoneAdjustmentKind,
      tapId: adj.tap_id,
      amount: adj.amount,
      monthKey: base.month,
      occurredAt: adj.occurred_at,
    },
  };
}

function conflict(tapId: string): Outcome {
  return {
    kind: 'rejected',
    code: 'DUPLICATE_CONFLICT',
    reason: `tap_id ${tapId} was already seen with different content; a tap_id names one attempt only`,
  };
}

/** Exported for tests: entity views are plain states. */
export type { EntityState };
