/**
 * A burst of small taps: a script buys the cheapest items as fast as the app allows, a few seconds
 * apart, hoping small amounts stay under the radar.
 * Shape: more than 5 taps of one account within 60 s, each ₩300 or ₩500.
 */
import { formatMsisdn } from '../population.ts';
import { purchaseAt, platforms } from '../catalog.ts';
import { fraudTap, SECOND, type Scenario } from './scenario.ts';

export const smallTapBurst: Scenario = {
  name: 'small_tap_burst',
  weight: 22,
  minTaps: 6,
  sampleTaps: (rng) => rng.int(7, 15),
  build(ctx, taps) {
    const rng = ctx.rng;
    const who = ctx.identity();
    const webtoon = platforms.find((p) => p.kind === 'webtoon')!;
    const ip = ctx.nat.address(who.carrier, rng);
    const msisdn = formatMsisdn(who.digits, rng.chance(0.3));
    let t = ctx.start;
    return Array.from({ length: taps }, (_, i) => {
      // At most 4 s apart and at most 15 taps: the whole burst fits in under a minute.
      if (i > 0) t += rng.int(1 * SECOND, 4 * SECOND);
      const purchase = purchaseAt(webtoon, rng);
      return fraudTap(ctx, {
        occurred_at: t,
        account_id: who.account_id,
        msisdn,
        carrier: who.carrier,
        device_id: who.device_id,
        ip,
        ...purchase,
        amount: rng.chance(0.6) ? 300 : 500,
        status: 'APPROVED',
      });
    });
  },
};
