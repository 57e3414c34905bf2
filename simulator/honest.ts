/**
 * How honest users behave over time: sessions arrive as a Poisson process whose intensity follows
 * the Asia/Seoul day and week (thinning), a session buys a few items some tens of seconds apart,
 * payments sometimes fail (and are silently retried) or are declined, and approved taps later meet
 * their fate: mostly nothing, sometimes a refund, rarely a chargeback, and for the few who stop paying
 * their phone bill, UNPAID a month or two later, then COLLECTED or WRITE_OFF.
 *
 * Honest users stay honest under the default rules by construction: at most 3 counted taps a minute,
 * at most two failed attempts in 10 minutes, ₩140,000 a Korean day (so any 24 h stays under ₩300,000),
 * ₩900,000 a Korean month, one account per phone and device, KR addresses only.
 */
import type { Adjustment, Tap, TapStatus } from '../schemas/types.ts';
import type { Random } from './random.ts';
import { channelMix, purchaseAt } from './catalog.ts';
import { formatMsisdn, nationalFormShare, type HonestUser } from './population.ts';
import { intensityAt, maxIntensity, seoulHour } from './koreanTime.ts';
import type { IdFactory } from './records.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 86_400 * SECOND;

export const honestLimits = {
  dailySpend: 140_000,
  monthlySpend: 900_000,
  failuresPer10Min: 2,
} as const;

/** Taps per session: mostly one or two episodes, sometimes a binge. */
const sessionLengths = [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 6];
export const meanSessionLength = sessionLengths.reduce((a, b) => a + b, 0) / sessionLengths.length;

export const honestRates = {
  declined: 0.03,
  failed: 0.015,
  retryAfterFailure: 0.7,
  retryApproved: 0.85,
  refund: 0.015,
  partialRefund: 0.15,
  chargeback: 0.0008,
  collected: 0.55,
  writeOff: 0.25,
} as const;

export interface ScheduledRecord {
  at: number;
  kind: 'tap' | 'adjustment';
  tap?: Tap;
  adjustment?: Adjustment;
}

export interface HonestStep {
  /** The tap to emit now, or null if the user's own budget stopped the session. */
  tap: Tap | null;
  /** Later records caused by this tap (a silent retry, adjustments), each after the tap. */
  followUps: ScheduledRecord[];
  /** When this user taps next, or null when the user is done (churned after an unpaid bill). */
  next: number | null;
}

export class HonestBehaviour {
  private readonly rng: Random;
  private readonly ids: IdFactory;

  constructor(rng: Random, ids: IdFactory) {
    this.rng = rng;
    this.ids = ids;
  }

  /** First candidate of the non-homogeneous Poisson process of sessions after `from`. */
  nextSessionAt(user: HonestUser, from: number): number | null {
    const meanGap = DAY / (user.sessionsPerDay * maxIntensity);
    let t = from;
    for (;;) {
      t += this.rng.exponential(meanGap);
      if (user.defaultMonth && t >= user.defaultMonth.end) return null;
      if (this.rng.next() * maxIntensity < intensityAt(t)) return t;
    }
  }

  /**
   * The user taps at `at`. `allowRetry` is false once the run has all the taps it needs, so a retry
   * never pushes the count past --count.
   */
  step(user: HonestUser, at: number, allowRetry: () => boolean): HonestStep {
    const rng = this.rng;
    if (user.sessionLeft <= 0) user.sessionLeft = rng.pick(sessionLengths);
    user.sessionLeft--;
    const fav = rng.pick(user.favourites);
    const purchase = purchaseAt(fav.platform, rng, rng.chance(0.7) ? fav.creator : undefined);
    const followUps: ScheduledRecord[] = [];

    const h = seoulHour(at);
    if (h.dayKey !== user.dayKey) {
      user.dayKey = h.dayKey;
      user.daySpent = 0;
    }
    if (h.monthKey !== user.monthKey) {
      user.monthKey = h.monthKey;
      user.monthSpent = 0;
    }
    if (
      user.daySpent + purchase.amount > honestLimits.dailySpend ||
      user.monthSpent + purchase.amount > honestLimits.monthlySpend
    ) {
      // The user has spent what they meant to today; try again in a later session.
      user.sessionLeft = 0;
      return { tap: null, followUps, next: this.nextSessionAt(user, at + 30 * MINUTE) };
    }

    user.recentFailures = user.recentFailures.filter((t) => at - t < 10 * MINUTE);
    let status: TapStatus = 'APPROVED';
    if (user.recentFailures.length < honestLimits.failuresPer10Min) {
      const x = rng.next();
      if (x < honestRates.declined) status = 'DECLINED';
      else if (x < honestRates.declined + honestRates.failed) status = 'FAILED';
    }

    const device = user.devices.length > 1 && rng.chance(0.3) ? user.devices[1]! : user.devices[0]!;
    const ip = rng.pick(user.ips);
    const tap: Tap = {
      tap_id: this.ids.tapId(),
      occurred_at: Math.round(at),
      account_id: user.account_id,
      msisdn: formatMsisdn(user.digits, rng.chance(nationalFormShare)),
      carrier: user.carrier,
      device_id: device,
      ip,
      platform_id: purchase.platform_id,
      creator_id: purchase.creator_id,
      item_id: purchase.item_id,
      channel: channelMix.sample(rng),
      amount: purchase.amount,
      currency: 'KRW',
      status,
      retry_of: null,
    };
    user.lastTapAt = tap.occurred_at;

    if (status === 'APPROVED') this.approved(user, tap, followUps);
    else user.recentFailures.push(tap.occurred_at);

    if (status === 'FAILED' && allowRetry() && rng.chance(honestRates.retryAfterFailure)) {
      // The PG's client retries a network failure silently a few seconds later: same attempt, new id.
      const retryAt = tap.occurred_at + rng.int(2 * SECOND, 8 * SECOND);
      const retry: Tap = {
        ...tap,
        tap_id: this.ids.tapId(),
        occurred_at: retryAt,
        status: rng.chance(honestRates.retryApproved) ? 'APPROVED' : 'FAILED',
        retry_of: tap.tap_id,
      };
      followUps.push({ at: retryAt, kind: 'tap', tap: retry });
      if (retry.status === 'APPROVED') this.approved(user, retry, followUps);
    }

    let next: number | null;
    if (status === 'DECLINED' || user.sessionLeft <= 0) {
      user.sessionLeft = 0;
      // A minute's pause at least, so one session never runs into the next.
      next = this.nextSessionAt(user, tap.occurred_at + MINUTE);
    } else {
      next = tap.occurred_at + rng.int(20 * SECOND, 180 * SECOND);
      if (user.defaultMonth && next >= user.defaultMonth.end) next = null;
    }
    return { tap, followUps, next };
  }

  private approved(user: HonestUser, tap: Tap, followUps: ScheduledRecord[]): void {
    const rng = this.rng;
    user.daySpent += tap.amount;
    user.monthSpent += tap.amount;
    const t = tap.occurred_at;
    const adjust = (at: number, kind: Adjustment['kind'], amount: number, reason: string | null) =>
      followUps.push({
        at,
        kind: 'adjustment',
        adjustment: {
          adjustment_id: this.ids.adjustmentId(),
          occurred_at: Math.round(at),
          tap_id: tap.tap_id,
          kind,
          amount,
          reason,
        },
      });

    const unpaidMonth = user.defaultMonth;
    if (unpaidMonth && t >= unpaidMonth.start && t < unpaidMonth.end) {
      // The carrier reports the whole month's bill unpaid one to two months after the tap.
      const reportedAt = Math.max(unpaidMonth.end, t + 30 * DAY) + rng.int(0, 25) * DAY + rng.int(0, DAY);
      adjust(reportedAt, 'UNPAID', tap.amount, 'carrier bill unpaid');
      const x = rng.next();
      if (x < honestRates.collected) {
        adjust(reportedAt + rng.int(10, 60) * DAY, 'COLLECTED', tap.amount, 'collected by carrier');
      } else if (x < honestRates.collected + honestRates.writeOff) {
        adjust(reportedAt + rng.int(90, 150) * DAY, 'WRITE_OFF', tap.amount, 'uncollectable');
      }
      return;
    }
    const x = rng.next();
    if (x < honestRates.refund) {
      // Most refunds come within hours or days (wrong episode, double purchase); a few weeks later.
      const delay = rng.chance(0.8) ? rng.exponential(DAY) : rng.between(3 * DAY, 25 * DAY);
      const partial = rng.chance(honestRates.partialRefund) && tap.amount >= 1000;
      adjust(
        t + Math.max(MINUTE, delay),
        'REFUND',
        partial ? Math.floor(tap.amount / 2) : tap.amount,
        partial ? 'partial cancel' : 'user cancel',
      );
    } else if (x < honestRates.refund + honestRates.chargeback) {
      adjust(t + rng.int(15, 75) * DAY, 'CHARGEBACK', tap.amount, 'dispute lost');
    }
  }
}
