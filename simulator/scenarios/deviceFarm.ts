/**
 * A device farm: one emulator or rooted phone (one device fingerprint) cycling through many
 * accounts, each billed to its own (bought or stolen) number, over a few hours.
 * Shape: 5 or more distinct accounts on one device_id within 24 h.
 */
import { coinShops } from './shared.ts';
import { formatMsisdn } from '../population.ts';
import { koreanAddress } from '../network.ts';
import { fraudTap, HOUR, type Scenario } from './scenario.ts';
import type { InputRecord } from '../../schemas/types.ts';

export const deviceFarm: Scenario = {
  name: 'device_farm',
  weight: 15,
  minTaps: 5,
  sampleTaps: (rng) => rng.int(6, 20),
  build(ctx, taps) {
    const rng = ctx.rng;
    const device = ctx.identity().device_id;
    const accounts = Array.from({ length: Math.min(taps, rng.int(5, 12)) }, () => ctx.identity());
    const ip = koreanAddress(accounts[0]!.carrier, rng);
    const span = rng.between(1 * HOUR, 6 * HOUR);
    const times = Array.from({ length: taps }, (_, i) => (i === 0 ? 0 : rng.between(0, span))).sort(
      (a, b) => a - b,
    );
    const records: InputRecord[] = [];
    for (let i = 0; i < taps; i++) {
      // Every account taps at least once; the rest are spread at random over the same accounts.
      const who = i < accounts.length ? accounts[i]! : rng.pick(accounts);
      const amount = rng.pick([3300, 5000]);
      records.push(
        fraudTap(ctx, {
          occurred_at: ctx.start + times[i]!,
          account_id: who.account_id,
          msisdn: formatMsisdn(who.digits, rng.chance(0.3)),
          carrier: who.carrier,
          device_id: device,
          ip,
          platform_id: rng.pick(coinShops),
          item_id: `coins-${amount}`,
          amount,
          status: rng.chance(0.9) ? 'APPROVED' : 'DECLINED',
        }),
      );
    }
    return records;
  },
};
