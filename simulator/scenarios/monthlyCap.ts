/**
 * A phone pushed past the legal carrier-billing ceiling: a stolen or rented number spends steadily on
 * resellable coins over a few days until the month's approved total passes ₩1,000,000; the bill is
 * later reported unpaid and mostly written off.
 * Shape: APPROVED amount of one msisdn within one Asia/Seoul month exceeds ₩1,000,000.
 */
import { coinShops } from './shared.ts';
import { formatMsisdn } from '../population.ts';
import { startOfNextSeoulMonth, startOfSeoulMonth } from '../koreanTime.ts';
import { fraudAdjustment, fraudTap, DAY, HOUR, type Scenario } from './scenario.ts';
import type { InputRecord } from '../../schemas/types.ts';

export const MONTHLY_CAP = 1_000_000;

export const monthlyCap: Scenario = {
  name: 'monthly_cap',
  weight: 3,
  minTaps: 205,
  sampleTaps: (rng) => rng.int(205, 240),
  placeStart(start, earliest, rng) {
    const end = startOfNextSeoulMonth(start);
    if (end - start >= 6 * DAY) return start;
    const earlier = end - 6 * DAY - rng.int(1, 12) * HOUR;
    return earlier >= Math.max(earliest, startOfSeoulMonth(start)) ? earlier : start;
  },
  build(ctx, taps) {
    const rng = ctx.rng;
    const who = ctx.identity();
    const days = rng.int(4, 6);
    let start = ctx.start;
    // The whole run must fall inside one Korean month; too close to its end, wait for the next one.
    if (startOfNextSeoulMonth(start) - start < days * DAY)
      start = startOfNextSeoulMonth(start) + rng.int(1, 8) * HOUR;
    const times = Array.from({ length: taps }, (_, i) => (i === 0 ? 0 : rng.between(0, days * DAY))).sort(
      (a, b) => a - b,
    );
    const amounts = Array.from({ length: taps }, () => 5000);
    let total = taps * 5000;
    for (let i = 0; i < taps; i++) {
      if (total - 1700 > MONTHLY_CAP + 10_000 && rng.chance(0.3)) {
        amounts[i] = 3300;
        total -= 1700;
      }
    }
    const ip = ctx.nat.address(who.carrier, rng);
    const msisdn = formatMsisdn(who.digits, rng.chance(0.3));
    const records: InputRecord[] = [];
    const later: InputRecord[] = [];
    const unpaid = rng.chance(0.6);
    const reportedAt = startOfNextSeoulMonth(start) + rng.int(30, 55) * DAY;
    for (let i = 0; i < taps; i++) {
      const tap = fraudTap(ctx, {
        occurred_at: start + times[i]!,
        account_id: who.account_id,
        msisdn,
        carrier: who.carrier,
        device_id: who.device_id,
        ip,
        platform_id: rng.pick(coinShops),
        item_id: `coins-${amounts[i]}`,
        amount: amounts[i]!,
        status: 'APPROVED',
      });
      records.push(tap);
      if (unpaid && tap.type === 'tap') {
        later.push(fraudAdjustment(ctx, tap, reportedAt, 'UNPAID', 'carrier bill unpaid'));
        later.push(
          fraudAdjustment(ctx, tap, reportedAt + rng.int(90, 120) * DAY, 'WRITE_OFF', 'uncollectable'),
        );
      }
    }
    return [...records, ...later];
  },
};
