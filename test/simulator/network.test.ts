import { beforeAll, describe, expect, it } from 'vitest';
import { CarrierNat, foreignBlocks, foreignAddress, koreanAddress } from '../../simulator/network.ts';
import { Random } from '../../simulator/random.ts';
import { carriers } from '../../schemas/types.ts';
import { openGeo } from './geo.ts';
import type { Geo } from './ruleReference.ts';

let geo: (ip: string) => Geo;
beforeAll(async () => {
  geo = await openGeo();
});

describe('simulated addresses, read by the bundled GeoLite2 City database', () => {
  it('put every carrier NAT and Korean SIM address in KR, within Korea’s mainland latitudes', () => {
    const rng = new Random(3);
    const nat = new CarrierNat(rng, 2048);
    for (const carrier of carriers) {
      const ips = [...nat.pool(carrier), ...Array.from({ length: 500 }, () => koreanAddress(carrier, rng))];
      for (const ip of ips) {
        const g = geo(ip);
        expect(g.country, ip).toBe('KR');
        if (g.lat !== null) expect(g.lat, ip).toBeGreaterThan(33);
      }
    }
  });

  it('put every attacker address abroad, each block in one known country', () => {
    const rng = new Random(4);
    const countries = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const g = geo(foreignAddress(rng));
      expect(g.country).not.toBe('KR');
      expect(g.country).not.toBeNull();
      countries.add(g.country!);
    }
    expect(countries.size).toBeGreaterThanOrEqual(foreignBlocks.length - 1);
  });
});
