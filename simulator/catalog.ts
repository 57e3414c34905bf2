/**
 * What people buy with carrier billing: content platforms, their creators, and the price points the
 * platforms really charge (webtoon episodes and cookies at ₩300–₩500, coin packs at ₩1,100/₩3,300
 * with VAT, donations in round thousands). Creators follow a Zipf law: a few earn most.
 */
import type { Channel } from '../schemas/types.ts';
import { Weighted, zipfWeights, type Random } from './random.ts';

export type PlatformKind = 'webtoon' | 'coins' | 'donation';

export interface Platform {
  id: string;
  kind: PlatformKind;
  /** Share of sessions that go to this platform. */
  weight: number;
  creators: number;
}

export const platforms: readonly Platform[] = [
  { id: 'webtoonia', kind: 'webtoon', weight: 30, creators: 400 },
  { id: 'toonville', kind: 'webtoon', weight: 18, creators: 250 },
  { id: 'pixelcoin', kind: 'coins', weight: 17, creators: 0 },
  { id: 'gemshop', kind: 'coins', weight: 10, creators: 0 },
  { id: 'livecast', kind: 'donation', weight: 15, creators: 600 },
  { id: 'starstream', kind: 'donation', weight: 10, creators: 300 },
];

/** Every amount the simulator emits for honest users, in ₩ (KRW has no minor unit). */
export const pricePoints = [300, 500, 1000, 1100, 1200, 1500, 2000, 2500, 3000, 3300, 5000] as const;

export const amountsByKind: Record<PlatformKind, Weighted<number>> = {
  webtoon: new Weighted([
    [300, 35],
    [500, 30],
    [1000, 15],
    [1200, 8],
    [1500, 6],
    [2500, 4],
    [3000, 2],
  ]),
  coins: new Weighted([
    [1100, 40],
    [2000, 10],
    [3300, 30],
    [5000, 20],
  ]),
  donation: new Weighted([
    [1000, 45],
    [2000, 20],
    [3000, 12],
    [5000, 15],
    [500, 8],
  ]),
};

/** Where taps happen: mostly the platforms' apps, then mobile web; smart-TV, ARS voice, IoT are rare. */
export const channelMix = new Weighted<Channel>([
  ['APP', 68],
  ['WEB', 27],
  ['TV', 3],
  ['VOICE', 1],
  ['IOT', 1],
]);

export const platformMix = new Weighted(platforms.map((p) => [p, p.weight] as const));

const creatorMixes = new Map(
  platforms
    .filter((p) => p.creators > 0)
    .map((p) => [
      p.id,
      new Weighted(
        zipfWeights(p.creators).map((w, i) => [`${p.id}-c${String(i + 1).padStart(4, '0')}`, w] as const),
      ),
    ]),
);

export interface Purchase {
  platform_id: string;
  creator_id: string | null;
  item_id: string | null;
  amount: number;
}

/** One purchase at a platform: the creator (if the platform has creators), the item and its price. */
export function purchaseAt(platform: Platform, rng: Random, creator?: string): Purchase {
  const creators = creatorMixes.get(platform.id);
  const creator_id = creators ? (creator ?? creators.sample(rng)) : null;
  const amount = amountsByKind[platform.kind].sample(rng);
  let item_id: string | null;
  if (platform.kind === 'webtoon') item_id = `${creator_id}-ep${rng.int(1, 180)}`;
  else if (platform.kind === 'coins') item_id = `coins-${amount}`;
  else item_id = null;
  return { platform_id: platform.id, creator_id, item_id, amount };
}

/** The creator a user follows on a platform (Zipf-popular), so repeat visits stay with one series. */
export function favouriteCreator(platform: Platform, rng: Random): string | undefined {
  return creatorMixes.get(platform.id)?.sample(rng);
}
