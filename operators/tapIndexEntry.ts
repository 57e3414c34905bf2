/**
 * A tap index entry kept as the JSON array of its values in a fixed field order, without its 130
 * characters of key names (a third of it): the index keeps every tap for 400 days. Both stores use this
 * packing; the Redis scripts read `v` and `adj` by position (1 and 16), so the order is part of the
 * stored format.
 */
import type { TapIndexEntry } from './entityState.ts';

const ENTRY_FIELDS = [
  'v',
  'h',
  'src',
  'account_id',
  'msisdn_hash',
  'platform_id',
  'creator_id',
  'carrier',
  'currency',
  'occurred_at',
  'month',
  'amount',
  'status',
  'reversed',
  'held',
  'adj',
] as const satisfies ReadonlyArray<keyof TapIndexEntry>;
// A field added to TapIndexEntry must be added above, or it would not be stored: this fails the build.
const everyField: Exclude<keyof TapIndexEntry, (typeof ENTRY_FIELDS)[number]> extends never ? true : never =
  true;
void everyField;

export function packEntry(entry: TapIndexEntry): string {
  return JSON.stringify(ENTRY_FIELDS.map((k) => entry[k]));
}

export function unpackEntry(json: string): TapIndexEntry {
  const values = JSON.parse(json) as unknown[];
  const entry: Record<string, unknown> = {};
  ENTRY_FIELDS.forEach((k, i) => (entry[k] = values[i]));
  return entry as unknown as TapIndexEntry;
}
