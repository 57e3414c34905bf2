/**
 * Card testing, carrier-billing style: a fraudster holding a list of stolen phone numbers tries them
 * one after another from one account and one device, seconds apart; the carrier declines the numbers
 * whose owners blocked micropayments or whose limit is used, until one goes through.
 * Shape: 3+ DECLINED taps of one account within a few minutes, then an APPROVED one.
 */
import { coinShops } from './shared.ts';
import { formatMsisdn } from '../population.ts';
import { koreanAddress } from '../network.ts';
import { fraudTap, SECOND, type Scenario } from './scenario.ts';

export const cardTesting: Scenario = {
  name: 'card_testing',
  weight: 25,
  minTaps: 4,
  sampleTaps: (rng) => rng.int(4, 10),
  build(ctx, taps) {
    const rng = ctx.rng;
    const actor = ctx.identity();
    const ip = koreanAddress(actor.carrier, rng);
    const platform = rng.pick(coinShops);
    const amount = rng.pick([3300, 5000]);
    let t = ctx.start;
    return Array.from({ length: taps }, (_, i) => {
      const victim = ctx.identity();
      if (i > 0) t += rng.int(3 * SECOND, 15 * SECOND);
      return fraudTap(ctx, {
        occurred_at: t,
        account_id: actor.account_id,
        msisdn: formatMsisdn(victim.digits, rng.chance(0.5)),
        carrier: victim.carrier,
        device_id: actor.device_id,
        ip,
        platform_id: platform,
        item_id: `coins-${amount}`,
        amount,
        status: i === taps - 1 ? 'APPROVED' : 'DECLINED',
      });
    });
  },
};
