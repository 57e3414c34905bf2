/** The demo report as the text block printed at the end of `tapline demo`. */
import type { DemoReport } from './reportData.ts';

/** Digits grouped by thousands from a decimal string or an integer, without going through a float. */
export function grouped(v: string | number): string {
  const text = String(v);
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  return (negative ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .map((line) => `  ${line.trimEnd()}`)
    .join('\n');
}

export function formatTerminalReport(r: DemoReport): string {
  const out: string[] = [];
  out.push(`\n${r.title}`);
  out.push(
    `  ${Object.entries(r.run)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ')}`,
  );
  out.push('\nThroughput and latency (produce → decision visible to a read-committed consumer)');
  out.push(
    `  ${grouped(r.throughput.records)} taps decided in ${r.throughput.seconds.toFixed(1)} s: ` +
      `${grouped(Math.round(r.throughput.recordsPerSecond))} taps/s`,
  );
  if (r.latencyMs)
    out.push(`  latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`);

  const d = r.decisions;
  const total = d.ALLOW + d.REVIEW + d.BLOCK;
  out.push('\nDecisions');
  out.push(
    table([
      ['outcome', 'taps', 'share'],
      ...(['ALLOW', 'REVIEW', 'BLOCK'] as const).map((k) => [
        k,
        grouped(d[k]),
        total ? percent(d[k] / total) : '-',
      ]),
      ['duplicates', grouped(d.duplicates), ''],
      ['to the DLQ', grouped(d.rejected), ''],
    ]),
  );
  const rules = Object.entries(r.ruleHits);
  if (rules.length > 0) {
    out.push('\nRule hits (a tap can hit several)');
    out.push(table([['rule', 'taps'], ...rules.map(([k, v]) => [k, grouped(v)])]));
  }

  if (r.quality) {
    const q = r.quality;
    out.push('\nDetection quality against the simulator labels');
    out.push(
      table([
        ['scenario', 'instances', 'detected', 'taps to 1st alert', 's to 1st alert', 'alerted taps'],
        ...q.scenarios.map((s) => [
          s.scenario,
          grouped(s.instances),
          `${s.detected} (${percent(s.detectionRate, 0)})`,
          s.medianTapsToFirstAlert === null ? '-' : String(s.medianTapsToFirstAlert),
          s.medianSecondsToFirstAlert === null ? '-' : s.medianSecondsToFirstAlert.toFixed(0),
          `${s.alertedTaps}/${s.taps}`,
        ]),
      ]),
    );
    out.push(
      `  tap-level precision ${percent(q.precision)}; honest users alerted ` +
        `${q.honestUsersAlerted}/${q.honestUsers} (${percent(q.honestUserAlertRate, 2)})`,
    );
  }

  if (r.settlement) {
    const s = r.settlement;
    out.push(`\nSettlement ${s.period} (${s.currency}, minor units, stored in ClickHouse)`);
    const lines = [['gross', grouped(s.gross)]];
    if (s.reversals !== undefined) lines.push(['reversals', grouped(s.reversals)]);
    lines.push(['net', grouped(s.net)]);
    if (s.shares)
      lines.push(
        ['carrier fees', grouped(s.shares.carrier_fee)],
        ['PG fees', grouped(s.shares.pg_fee)],
        ['platform share', grouped(s.shares.platform_share)],
        ['creator share', grouped(s.shares.creator_share)],
      );
    out.push(table([['total', 'amount'], ...lines]));
    out.push(
      table([
        ['party', 'earned', 'payable', 'paid', 'carried forward'],
        ...s.parties.map((p) => [
          p.party_type,
          grouped(p.earned),
          grouped(p.payable),
          grouped(p.paid),
          grouped(p.carried_forward ?? '0'),
        ]),
      ]),
    );
  }
  return `${out.join('\n')}\n`;
}
