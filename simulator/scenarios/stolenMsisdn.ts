/**
 * A stolen phone number spread over several accounts: each account (with its own device) bills the
 * same number, within hours, to stay under per-account limits.
 * Shape: 3 or more distinct accounts bill one msisdn within 24 h.
 */
import { coinShops } from './shared.ts';
import { formatMsisdn } from '../population.ts';
import { koreanAddress } from '../network.ts';
import { fraudTap, HOUR, type Scenario } from './scenario.ts';

export const stolenMsisdn: Scenario = {
  name: 'stolen_msisdn',
  weight: 15,
  minTaps: 3,
  sampleTaps: (rng) => rng.int(3, 12),
  build(ctx, taps) {
    const rng = ctx.rng;
    const victim = ctx.identity();
    const accounts = Array.from({ length: Math.min(taps, rng.int(3, 5)) }, () => ctx.identity());
    const span = rng.between(2 * HOUR, 20 * HOUR);
    const times = Array.from({ length: taps }, (_, i) => (i === 0 ? 0 : rng.between(0, span))).sort(
      (a, b) => a - b,
    );
    return times.map((offset, i) => {
      const who = i < accounts.length ? accounts[i]! : rng.pick(accounts);
      const amount = rng.pick([3300, 5000]);
      return fraudTap(ctx, {
        occurred_at: ctx.start + offset,
        account_id: who.account_id,
        msisdn: formatMsisdn(victim.digits, rng.chance(0.5)),
        carrier: victim.carrier,
        device_id: who.device_id,
        ip: koreanAddress(who.carrier, rng),
        platform_id: rng.pick(coinShops),
        item_id: `coins-${amount}`,
        amount,
        status: 'APPROVED',
      });
    });
  },
};
