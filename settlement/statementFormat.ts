/**
 * The statement on disk: JSON for the next run's --opening and for reconciliation, CSV per party type for
 * finance. Amounts are integers, or decimal strings once past 2^53 so no reader rounds them.
 */
import { z } from 'zod';
import { TaplineError } from '../pipeline/errors.ts';
import { partyTypes, type PartyType } from './contracts.ts';
import type { SettlementPeriod } from './period.ts';
import { previousPeriod } from './period.ts';
import { lineColumns, payoutColumns, type OpeningBalance, type Statement } from './statement.ts';

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** An amount as JSON: a number while exact in every JSON reader, else a decimal string. */
export function jsonAmount(v: bigint): number | string {
  return v <= maxSafe && v >= -maxSafe ? Number(v) : v.toString();
}

/** The statement as JSON text (two-space indent, trailing newline): the same statement, the same bytes. */
export function statementToJson(s: Statement): string {
  const doc = {
    period: s.period,
    timezone: s.timezone,
    generated_from: s.generated_from,
    lines: s.lines.map((l) => ({
      currency: l.currency,
      platform_id: l.platform_id,
      creator_id: l.creator_id,
      carrier: l.carrier,
      ...Object.fromEntries(lineColumns.map((c) => [c, jsonAmount(l[c])])),
    })),
    payouts: s.payouts.map((p) => ({
      party_type: p.party_type,
      party_id: p.party_id,
      currency: p.currency,
      ...Object.fromEntries(payoutColumns.map((c) => [c, jsonAmount(p[c])])),
    })),
    totals: Object.fromEntries(
      Object.entries(s.totals).map(([cur, t]) => [
        cur,
        Object.fromEntries(lineColumns.map((c) => [c, jsonAmount(t[c])])),
      ]),
    ),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const amount = z.union([
  z.number().int().refine(Number.isSafeInteger, 'integer past 2^53 must be written as a string'),
  z.string().regex(/^-?\d+$/, 'must be an integer'),
]);

const openingSchema = z.object({
  period: z.string(),
  payouts: z.array(
    z.object({
      party_type: z.enum(partyTypes),
      party_id: z.string().min(1),
      currency: z.string().min(1),
      carried_forward: amount,
    }),
  ),
});

/**
 * Reads the previous statement's carried-forward balances. The opening must be the statement of the
 * month just before, or balances would skip or repeat a month.
 */
export function parseOpening(text: string, period: SettlementPeriod, source: string): OpeningBalance[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new TaplineError('USAGE', `--opening ${source} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = openingSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TaplineError(
      'USAGE',
      `--opening ${source} is not a settlement statement: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  const expected = previousPeriod(period).id;
  if (parsed.data.period !== expected) {
    throw new TaplineError(
      'USAGE',
      `--opening ${source} is the statement of ${parsed.data.period}; settling ${period.id} needs the one of ${expected}.`,
    );
  }
  return parsed.data.payouts
    .map((p) => ({
      party_type: p.party_type,
      party_id: p.party_id,
      currency: p.currency,
      carried_forward: BigInt(p.carried_forward),
    }))
    .filter((p) => p.carried_forward !== 0n);
}

/** One CSV per party type (carrier, creator, pg, platform), header included even when empty. */
export function payoutCsvFiles(s: Statement): Array<{ partyType: PartyType; name: string; text: string }> {
  return partyTypes.map((partyType) => {
    const header = ['period', 'party_type', 'party_id', 'currency', ...payoutColumns];
    const rows = s.payouts
      .filter((p) => p.party_type === partyType)
      .map((p) => [
        s.period,
        p.party_type,
        p.party_id,
        p.currency,
        ...payoutColumns.map((c) => p[c].toString()),
      ]);
    const text = [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n');
    return { partyType, name: `payouts-${s.period}-${partyType}.csv`, text: `${text}\r\n` };
  });
}

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
function csvField(value: string): string {
  const safe = /^[=+@\t\r]/.test(value) || (/^-/.test(value) && !/^-\d+$/.test(value)) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
