/**
 * Account takeover: the owner taps from home in Korea; minutes later someone logs in from abroad with
 * another device and spends as fast as possible. The owner disputes most of it weeks later.
 * Shape: the account's taps come from two countries (by the GeoIP database) within 6 h.
 */
import { coinShops } from './shared.ts';
import { formatMsisdn } from '../population.ts';
import { foreignAddress } from '../network.ts';
import { purchaseAt, platforms } from '../catalog.ts';
import { fraudAdjustment, fraudTap, DAY, MINUTE, SECOND, type Scenario } from './scenario.ts';
import type { InputRecord } from '../../schemas/types.ts';

export const accountTakeover: Scenario = {
  name: 'account_takeover',
  weight: 20,
  minTaps: 2,
  sampleTaps: (rng) => rng.int(3, 8),
  build(ctx, taps) {
    const rng = ctx.rng;
    const owner = ctx.identity();
    const attackerDevice = ctx.identity().device_id;
    const msisdn = formatMsisdn(owner.digits, false);
    const ownerPurchase = purchaseAt(rng.pick(platforms), rng);
    const records: InputRecord[] = [
      fraudTap(ctx, {
        occurred_at: ctx.start,
        account_id: owner.account_id,
        msisdn,
        carrier: owner.carrier,
        device_id: owner.device_id,
        ip: ctx.nat.address(owner.carrier, rng),
        ...ownerPurchase,
        status: 'APPROVED',
      }),
    ];
    const attackerIp = foreignAddress(rng);
    let t = ctx.start + rng.int(2 * MINUTE, 10 * MINUTE);
    const later: InputRecord[] = [];
    for (let i = 1; i < taps; i++) {
      const amount = rng.pick([3300, 5000]);
      const tap = fraudTap(ctx, {
        occurred_at: t,
        account_id: owner.account_id,
        msisdn,
        carrier: owner.carrier,
        device_id: attackerDevice,
        ip: attackerIp,
        platform_id: rng.pick(coinShops),
        item_id: `coins-${amount}`,
        channel: 'WEB',
        amount,
        status: 'APPROVED',
      });
      records.push(tap);
      if (tap.type === 'tap' && rng.chance(0.7)) {
        later.push(
          fraudAdjustment(ctx, tap, t + rng.int(10, 40) * DAY, 'CHARGEBACK', 'account takeover dispute'),
        );
      }
      t += rng.int(20 * SECOND, 90 * SECOND);
    }
    return [...records, ...later];
  },
};
