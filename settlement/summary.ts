/** The run summary a person reads at the end of `tapline settle` (stderr), one block per currency. */
import type { SettlementRun } from './offline.ts';

export function formatSummary(run: SettlementRun): string {
  const { statement: s, counts } = run;
  const rows: Array<[string, string]> = [
    ['period', `${s.period} (Asia/Seoul)`],
    ['records read', String(counts.records)],
    ['taps', String(counts.taps)],
    [
      'adjustments applied',
      `${counts.adjustmentsApplied} (earlier months: ${counts.adjustmentsEarlier}, later: ${counts.adjustmentsLater} left)`,
    ],
    ...(counts.adjustmentsLate > 0
      ? [
          ['late adjustments', `${counts.adjustmentsLate} dated in closed months, settled here`] as [
            string,
            string,
          ],
        ]
      : []),
    ['duplicates ignored', String(counts.duplicates)],
    ['rejects', String(counts.rejected)],
    ['lines', String(s.lines.length)],
  ];
  for (const [currency, t] of Object.entries(s.totals)) {
    const paid = s.payouts.filter((p) => p.currency === currency).reduce((a, p) => a + p.paid, 0n);
    const carried = s.payouts
      .filter((p) => p.currency === currency)
      .reduce((a, p) => a + p.carried_forward, 0n);
    rows.push(
      [`${currency} gross`, money(t.gross)],
      [`${currency} reversals`, money(t.reversals)],
      [`${currency} net`, money(t.net)],
      [`${currency} carrier fees`, money(t.carrier_fee)],
      [`${currency} PG fees`, money(t.pg_fee)],
      [`${currency} platform share`, money(t.platform_share)],
      [`${currency} creator share`, money(t.creator_share)],
      [
        `${currency} held / released / written off`,
        `${money(t.held)} / ${money(t.released)} / ${money(t.written_off)}`,
      ],
      [`${currency} paid out (all parties)`, money(paid)],
      [`${currency} carried forward`, money(carried)],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** Digits grouped by thousands, without going through a float. */
function money(v: bigint): string {
  const sign = v < 0n ? '-' : '';
  const digits = (v < 0n ? -v : v).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
