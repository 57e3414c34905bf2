/**
 * The settlement ledger of one period. Sources (a JSON Lines file, ClickHouse) feed it the same way:
 * gross per line and terms version (one tap at a time, or already summed), then adjustments in
 * event-time order with the facts of their tap. It keeps, per adjusted tap, what is still open, so an
 * adjustment is applied whole or rejected with a reason, never in part; adjustments before the period
 * only build that state, those in it also move money in this period.
 */
import type { AdjustmentKind, Carrier, TapStatus } from '../schemas/types.ts';
import { TaplineError } from '../pipeline/errors.ts';
import { addSplits, allocate, splitSum, subtractSplits, zeroSplit, type Split } from './allocate.ts';
import { splitWeightsFor, termsInForce, type ContractTerms, type Contracts } from './contracts.ts';
import { containsInstant, type SettlementPeriod } from './period.ts';

/** A settlement line: the unit whose money is split. creator_id null means the platform keeps that share. */
export interface LineKey {
  currency: string;
  platform_id: string;
  creator_id: string | null;
  carrier: Carrier;
}

/** What settlement needs to know of a tap. */
export interface TapFacts extends LineKey {
  tap_id: string;
  occurred_at: number;
  status: TapStatus;
  amount: number;
}

/** What settlement needs to know of an adjustment. */
export interface AdjustmentFacts {
  adjustment_id: string;
  occurred_at: number;
  tap_id: string;
  kind: AdjustmentKind;
  amount: number;
}

export type AdjustmentOutcome =
  | { applied: true; inPeriod: boolean }
  | { applied: false; inPeriod: boolean; code: 'TAP_UNKNOWN' | 'ADJUSTMENT_REJECTED'; reason: string };

/** Gross and reversals of one line under one terms version: allocated once, as a whole. */
export interface TermsGroup {
  line: LineKey;
  terms: ContractTerms;
  gross: bigint;
  reversals: bigint;
}

/** Holds, releases and write-offs of one line in the period, as amounts and as per-party splits. */
export interface LineAdjustments {
  line: LineKey;
  held: bigint;
  released: bigint;
  writtenOff: bigint;
  heldSplit: Split;
  releasedSplit: Split;
}

interface OpenTap {
  reversed: bigint;
  /** Per-party split of the unpaid amount still held: released or written off from exactly this. */
  openHold: Split;
  writtenOff: bigint;
}

export function lineId(line: LineKey): string {
  return JSON.stringify([line.currency, line.platform_id, line.creator_id, line.carrier]);
}

export class PeriodLedger {
  readonly period: SettlementPeriod;
  readonly contracts: Contracts;
  readonly groups = new Map<string, TermsGroup>();
  readonly adjustments = new Map<string, LineAdjustments>();
  readonly #openTaps = new Map<string, OpenTap>();

  constructor(period: SettlementPeriod, contracts: Contracts) {
    this.period = period;
    this.contracts = contracts;
  }

  /** Counts one tap's gross when it is APPROVED and in the period (settlement follows the PG's status). */
  addTap(tap: TapFacts): void {
    if (tap.status !== 'APPROVED' || !containsInstant(this.period, tap.occurred_at)) return;
    this.#group(tap, this.#termsOf(tap)).gross += BigInt(tap.amount);
  }

  /** Adds gross already summed by a store, per line and terms version. */
  addGross(line: LineKey, termsVersion: number, gross: bigint): void {
    const terms = this.contracts.terms[termsVersion];
    if (!terms) throw new RangeError(`no terms version ${termsVersion}`);
    this.#group(line, terms).gross += gross;
  }

  /**
   * Applies one adjustment, given its tap (undefined when unknown). Callers pass adjustments in the order
   * of compareAdjustmentOrder (event time, then adjustment_id), and only those not after the period.
   * `settlesHere` says whether it moves money in this period (by default: when it is dated in it) or
   * only sets what is still open on its tap; an adjustment dated in a closed period that settled without
   * it settles here as a new entry.
   */
  applyAdjustment(
    adj: AdjustmentFacts,
    tap: TapFacts | undefined,
    settlesHere = containsInstant(this.period, adj.occurred_at),
  ): AdjustmentOutcome {
    const inPeriod = settlesHere;
    const reject = (reason: string, code: 'TAP_UNKNOWN' | 'ADJUSTMENT_REJECTED' = 'ADJUSTMENT_REJECTED') => ({
      applied: false as const,
      inPeriod,
      code,
      reason: `${adj.kind} ${adj.adjustment_id} of ${adj.amount}: ${reason}`,
    });
    if (!tap) {
      return reject(
        `tap ${adj.tap_id} is unknown (the input must hold the history the period needs: earlier taps too)`,
        'TAP_UNKNOWN',
      );
    }
    if (tap.status !== 'APPROVED') return reject(`tap ${tap.tap_id} was ${tap.status}, not APPROVED`);
    if (adj.occurred_at < tap.occurred_at) {
      return reject(
        `dated ${new Date(adj.occurred_at).toISOString()}, before its tap ${tap.tap_id} ` +
          `(${new Date(tap.occurred_at).toISOString()})`,
      );
    }
    if (!Number.isSafeInteger(adj.amount) || adj.amount <= 0)
      return reject('amount must be a positive integer');
    const amount = BigInt(adj.amount);
    const open = this.#openTaps.get(tap.tap_id) ?? { reversed: 0n, openHold: zeroSplit, writtenOff: 0n };
    const held = splitSum(open.openHold);
    const terms = this.#termsOf(tap);
    let next: OpenTap;
    switch (adj.kind) {
      case 'REFUND':
      case 'CHARGEBACK':
      case 'UNPAID': {
        const available = BigInt(tap.amount) - open.reversed - held - open.writtenOff;
        if (amount > available) {
          return reject(
            `exceeds the ${available} still open on tap ${tap.tap_id} ` +
              `(amount ${tap.amount}, reversed ${open.reversed}, held ${held}, written off ${open.writtenOff})`,
          );
        }
        if (adj.kind === 'UNPAID') {
          const hold = allocate(amount, splitWeightsFor(this.contracts, terms, tap.carrier, tap.platform_id));
          next = { ...open, openHold: addSplits(open.openHold, hold) };
          if (inPeriod) {
            const acc = this.#lineAdjustments(tap);
            acc.held += amount;
            acc.heldSplit = addSplits(acc.heldSplit, hold);
          }
        } else {
          next = { ...open, reversed: open.reversed + amount };
          if (inPeriod) this.#group(tap, terms).reversals += amount;
        }
        break;
      }
      case 'COLLECTED':
      case 'WRITE_OFF': {
        if (amount > held) {
          return reject(`exceeds the ${held} still held on tap ${tap.tap_id}`);
        }
        // Taken from the open hold in its own proportions: releasing all of it gives back exactly what was held.
        const part =
          amount === held ? open.openHold : allocate(amount, { weights: open.openHold, total: held });
        next = { ...open, openHold: subtractSplits(open.openHold, part) };
        if (adj.kind === 'WRITE_OFF') next.writtenOff += amount;
        if (inPeriod) {
          const acc = this.#lineAdjustments(tap);
          if (adj.kind === 'COLLECTED') {
            acc.released += amount;
            acc.releasedSplit = addSplits(acc.releasedSplit, part);
          } else {
            acc.writtenOff += amount;
          }
        }
        break;
      }
    }
    this.#openTaps.set(tap.tap_id, next);
    return { applied: true, inPeriod };
  }

  #termsOf(tap: TapFacts): ContractTerms {
    const terms = termsInForce(this.contracts, tap.occurred_at);
    if (!terms) {
      const first = this.contracts.terms[0]?.effectiveFrom ?? '(none)';
      throw new TaplineError(
        'CONTRACTS_INVALID',
        `no contract terms are in force for tap ${tap.tap_id} at ${new Date(tap.occurred_at).toISOString()}: ` +
          `the earliest terms take effect on ${first}; add terms with an earlier effective_from.`,
      );
    }
    return terms;
  }

  #group(line: LineKey, terms: ContractTerms): TermsGroup {
    const key = `${lineId(line)}#${terms.version}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { line: lineKeyOf(line), terms, gross: 0n, reversals: 0n };
      this.groups.set(key, g);
    }
    return g;
  }

  #lineAdjustments(line: LineKey): LineAdjustments {
    const key = lineId(line);
    let a = this.adjustments.get(key);
    if (!a) {
      a = {
        line: lineKeyOf(line),
        held: 0n,
        released: 0n,
        writtenOff: 0n,
        heldSplit: zeroSplit,
        releasedSplit: zeroSplit,
      };
      this.adjustments.set(key, a);
    }
    return a;
  }
}

function lineKeyOf(l: LineKey): LineKey {
  return { currency: l.currency, platform_id: l.platform_id, creator_id: l.creator_id, carrier: l.carrier };
}

/**
 * Event-time order, ties by adjustment_id in code-unit order: the order adjustments are applied in.
 * Not input order, which a file and ClickHouse cannot share; not locale order, which differs by machine.
 */
export function compareAdjustmentOrder(
  a: { occurred_at: number; adjustment_id: string },
  b: { occurred_at: number; adjustment_id: string },
): number {
  if (a.occurred_at !== b.occurred_at) return a.occurred_at - b.occurred_at;
  return a.adjustment_id < b.adjustment_id ? -1 : a.adjustment_id > b.adjustment_id ? 1 : 0;
}
