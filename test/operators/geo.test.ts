import { describe, expect, it } from 'vitest';
import { distanceKm, openGeo, toLocation } from '../../operators/geo.ts';

describe('geo', () => {
  it('bundled GeoLite2 City: Korean carriers’ resolvers are in KR, 8.8.8.8 in the US, private ranges unknown', async () => {
    const geo = await openGeo();
    expect(geo.lookup('168.126.63.1')?.country).toBe('KR');
    expect(geo.lookup('164.124.101.2')?.country).toBe('KR');
    expect(geo.lookup('8.8.8.8')?.country).toBe('US');
    expect(geo.lookup('10.0.0.1')).toBeNull();
    expect(geo.lookup('not an ip')).toBeNull();
    expect(geo.build).toMatch(/^geolite2-city@\d{4}-\d{2}-\d{2}$/);
  });

  it('a country-level record gives no coordinates', () => {
    expect(
      toLocation({ country_code: 'US', city: '', state1: '', latitude: 37.75, longitude: -97.82 }),
    ).toEqual({ country: 'US' });
    expect(toLocation({ country_code: 'KR', city: 'Suwon', latitude: 37.27, longitude: 127.02 })).toEqual({
      country: 'KR',
      lat: 37.27,
      lon: 127.02,
    });
    expect(
      toLocation({
        country: { iso_code: 'JP' },
        city: { names: { en: 'Tokyo' } },
        location: { latitude: 35.68, longitude: 139.65 },
      }),
    ).toEqual({ country: 'JP', lat: 35.68, lon: 139.65 });
  });

  it('great-circle distance: Seoul–Busan about 325 km, New York–Los Angeles about 3,940 km', () => {
    expect(distanceKm({ lat: 37.5665, lon: 126.978 }, { lat: 35.1796, lon: 129.0756 })).toBeCloseTo(325, -1);
    expect(distanceKm({ lat: 40.7128, lon: -74.006 }, { lat: 34.0522, lon: -118.2437 })).toBeCloseTo(
      3936,
      -1,
    );
    expect(distanceKm({ lat: 1, lon: 1 }, { lat: 1, lon: 1 })).toBe(0);
  });
});
