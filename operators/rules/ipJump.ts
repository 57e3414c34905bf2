/**
 * ip_jump: the account's previous tap (latest occurred_at before this one) within W came from another
 * country, or from more than D km away at an implied speed above S km/h (a zero gap is infinite
 * speed). An unknown location never fires; a country-only location gives no distance.
 */
import { distanceKm } from '../geo.ts';
import type { RuleConfig } from '../rulesFile.ts';
import { formatWindow, type EntityViews, type RuleHit, type TapContext } from '../ruleTypes.ts';
import { previousTap } from '../windows.ts';

function gapText(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function ipJump(ctx: TapContext, views: EntityViews, cfg: RuleConfig<'ip_jump'>): RuleHit | null {
  const here = ctx.geo;
  if (here === null) return null;
  const t = ctx.tap.occurred_at;
  const prev = previousTap(views.account.e, ctx.tap.tap_id, t);
  if (prev === null || prev[1] <= t - cfg.window_ms) return null;
  const [, prevT, , , country, lat, lon] = prev;
  if (country === null) return null;
  const gap = t - prevT;
  if (country !== here.country)
    return {
      rule: 'ip_jump',
      action: cfg.action,
      reason: `tap from ${here.country} ${gapText(gap)} after a tap of this account from ${country} (another country within ${formatWindow(cfg.window_ms)})`,
    };
  if (lat === null || lon === null || here.lat === undefined || here.lon === undefined) return null;
  const km = distanceKm({ lat, lon }, { lat: here.lat, lon: here.lon });
  if (km <= cfg.min_distance_km) return null;
  const speed = gap === 0 ? Infinity : km / (gap / 3_600_000);
  if (speed <= cfg.min_speed_kmh) return null;
  const speedText = speed === Infinity ? 'no time apart' : `${Math.round(speed)} km/h`;
  return {
    rule: 'ip_jump',
    action: cfg.action,
    reason: `tap ${Math.round(km)} km from the account's previous tap ${gapText(gap)} earlier (${speedText}; more than ${cfg.min_distance_km} km at more than ${cfg.min_speed_kmh} km/h)`,
  };
}
