/**
 * Who taps: subscribers with a carrier, a Korean mobile number, an account at a platform, one or two
 * devices, the carrier NAT addresses they appear behind, favourite platforms and creators, and how
 * active they are. Memory is one small record per user, whatever the number of taps.
 *
 * Carrier shares follow the Ministry of Science and ICT wireless subscriber statistics for handset
 * lines in 2024 (SKT ≈ 40%, KT ≈ 24%, LG U+ ≈ 20%, MVNOs ≈ 16%); these are assumptions of the
 * simulator, not data of any PG.
 */
import type { Carrier } from '../schemas/types.ts';
import { Weighted, type Random } from './random.ts';
import { platformMix, favouriteCreator, type Platform } from './catalog.ts';
import type { CarrierNat } from './network.ts';

export const carrierMix = new Weighted<Carrier>([
  ['SKT', 40],
  ['KT', 24],
  ['LGU', 20],
  ['MVNO', 16],
]);

/** Share of taps whose msisdn arrives in the national form 010-xxxx-xxxx rather than E.164. */
export const nationalFormShare = 0.3;

/**
 * The 8 subscriber digits after 010 for identity number `index`: an affine bijection over the
 * 80,000,000 numbers 2000-0000…9999-9999 (Korean 010 numbers do not start with 0 or 1), so
 * distinct identities never share a number and no set of used numbers is needed.
 */
export function subscriberDigits(index: number, runKey: number): string {
  const space = 80_000_000;
  const offset = runKey % space;
  return String(20_000_000 + ((index * 48_271 + offset) % space));
}

export function formatMsisdn(digits: string, national: boolean): string {
  return national ? `010-${digits.slice(0, 4)}-${digits.slice(4)}` : `+8210${digits}`;
}

/** A platform account id for identity `index`: a bijective scramble, so ids look opaque and never collide. */
export function accountIdFor(index: number, runKey: number): string {
  const scrambled = (Math.imul(index + 1, 0x9e3779b1) ^ runKey) >>> 0;
  return `acc-${scrambled.toString(36).padStart(7, '0')}`;
}

export function deviceIdFor(rng: Random): string {
  return `dev-${rng.hex(16)}`;
}

export interface Favourite {
  platform: Platform;
  creator: string | undefined;
}

export interface HonestUser {
  index: number;
  account_id: string;
  digits: string;
  carrier: Carrier;
  /** One device for most, a second (tablet, new phone) for some; never more than two. */
  devices: string[];
  /** Carrier NAT addresses this user's taps come from. */
  ips: string[];
  favourites: Favourite[];
  /** Sessions per day at average intensity. */
  sessionsPerDay: number;
  /**
   * For the few who stop paying their phone bill: the Asia/Seoul month [start, end) whose bill goes
   * unpaid. Such users stop tapping when that month ends (the carrier suspends micropayments), so
   * they are never blocked for their own unpaid bill while honest.
   */
  defaultMonth: { start: number; end: number } | null;
  // Running state of the user's own behaviour (not of any detector).
  sessionLeft: number;
  lastTapAt: number;
  dayKey: number;
  daySpent: number;
  monthKey: number;
  monthSpent: number;
  recentFailures: number[];
}

export interface PopulationOptions {
  runKey: number;
  /** Mean sessions per user per day at average intensity. */
  meanSessionsPerDay: number;
  /** Share of users who leave one month's bill unpaid. */
  defaulterShare: number;
  /** Picks the month a defaulter stops paying, or null when it falls outside the simulated span. */
  defaultMonthFor: (rng: Random) => { start: number; end: number } | null;
}

export function createHonestUser(
  index: number,
  rng: Random,
  nat: CarrierNat,
  opts: PopulationOptions,
): HonestUser {
  const carrier = carrierMix.sample(rng);
  const devices = [deviceIdFor(rng)];
  if (rng.chance(0.18)) devices.push(deviceIdFor(rng));
  const ipCount = rng.int(1, 3);
  const ips = Array.from({ length: ipCount }, () => nat.address(carrier, rng));
  const favouriteCount = rng.int(1, 3);
  const favourites: Favourite[] = [];
  for (let i = 0; i < favouriteCount; i++) {
    const platform = platformMix.sample(rng);
    favourites.push({ platform, creator: favouriteCreator(platform, rng) });
  }
  // Log-normal activity (σ = 1, mean 1): most users tap rarely, a few are regulars; capped at 8× so
  // even the heaviest stays far from the velocity and amount rules.
  const activity = Math.min(8, Math.exp(rng.normal() - 0.5));
  return {
    index,
    account_id: accountIdFor(index, opts.runKey),
    digits: subscriberDigits(index, opts.runKey),
    carrier,
    devices,
    ips,
    favourites,
    sessionsPerDay: opts.meanSessionsPerDay * activity,
    defaultMonth: rng.chance(opts.defaulterShare) ? opts.defaultMonthFor(rng) : null,
    sessionLeft: 0,
    lastTapAt: Number.NEGATIVE_INFINITY,
    dayKey: -1,
    daySpent: 0,
    monthKey: -1,
    monthSpent: 0,
    recentFailures: [],
  };
}
