/**
 * The demo report as one self-contained HTML page (no network): the data is embedded as JSON and a
 * small script draws the charts as SVG when the page opens, so a browser test can check that they
 * rendered (each chart ends up with data-rendered="true" and its bars or points).
 */
import type { DemoReport } from './reportData.ts';
import { grouped } from './terminalReport.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const script = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function barChart(id, rows, colors) {
    var host = document.getElementById(id);
    var W = 640, barH = 22, gap = 6, left = 190;
    var H = rows.length * (barH + gap) + 10;
    var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' }, host);
    var max = Math.max.apply(null, rows.map(function (r) { return r[1]; }).concat([1]));
    rows.forEach(function (r, i) {
      var y = 5 + i * (barH + gap);
      var w = Math.max(1, (W - left - 110) * r[1] / max);
      var label = el('text', { x: left - 8, y: y + 15, 'text-anchor': 'end', 'font-size': 12 }, svg);
      label.textContent = r[0];
      el('rect', { class: 'bar', x: left, y: y, width: w, height: barH, fill: colors[i % colors.length] }, svg);
      var value = el('text', { x: left + w + 6, y: y + 15, 'font-size': 12 }, svg);
      value.textContent = r[2] || String(r[1]);
    });
    host.setAttribute('data-rendered', 'true');
  }
  function stackedTimeline(id, rows) {
    var host = document.getElementById(id);
    var W = 640, H = 220, left = 40, bottom = 30;
    var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' }, host);
    var totals = rows.map(function (r) { return r.ALLOW + r.REVIEW + r.BLOCK; });
    var max = Math.max.apply(null, totals.concat([1]));
    var bw = Math.max(1, (W - left - 10) / Math.max(rows.length, 1));
    var colors = { ALLOW: '#3b8f5a', REVIEW: '#e0a100', BLOCK: '#c0392b' };
    rows.forEach(function (r, i) {
      var y = H - bottom;
      ['ALLOW', 'REVIEW', 'BLOCK'].forEach(function (k) {
        var h = (H - bottom - 10) * r[k] / max;
        if (h <= 0) return;
        y -= h;
        el('rect', { class: 'bar', x: left + i * bw, y: y, width: Math.max(1, bw - 1), height: h, fill: colors[k] }, svg);
      });
    });
    var axis = el('text', { x: left, y: H - 8, 'font-size': 11 }, svg);
    axis.textContent = rows.length ? rows[0].bucket + ' … ' + rows[rows.length - 1].bucket : 'no data';
    host.setAttribute('data-rendered', 'true');
  }
  var d = data.decisions;
  stackedTimeline('chart-timeline', data.timeline);
  barChart('chart-outcomes', [['ALLOW', d.ALLOW], ['REVIEW', d.REVIEW], ['BLOCK', d.BLOCK]],
    ['#3b8f5a', '#e0a100', '#c0392b']);
  var rules = Object.keys(data.ruleHits).sort().map(function (k) { return [k, data.ruleHits[k]]; });
  barChart('chart-rules', rules.length ? rules : [['(no rule fired)', 0]], ['#5b6ee1']);
  if (data.settlement) {
    barChart('chart-settlement', data.settlement.parties.map(function (p) {
      return [p.party_type, Number(p.earned), '₩' + Number(p.earned).toLocaleString('en-US')];
    }), ['#8e44ad', '#2980b9', '#16a085', '#d35400']);
  }
})();
`;

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const won = (v: string) => `₩${grouped(v)}`;

/** Event-time seconds as a person reads them: 22 s, 5.5 min, 2.9 h, 3.2 d. */
export function humanSeconds(s: number | null): string {
  if (s === null) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5_400) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3_600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

export function renderHtmlReport(report: DemoReport): string {
  // </script> inside JSON would end the script element early: escape '<'.
  const json = JSON.stringify(report).replace(/</g, '\\u003c');
  const q = report.quality;
  const qualityTable = q
    ? table(
        [
          'scenario',
          'instances',
          'detected',
          'rate',
          'taps to 1st alert',
          'time to 1st alert',
          'alerted taps',
        ],
        q.scenarios.map((s) => [
          s.scenario,
          s.instances,
          s.detected,
          `${Math.round(s.detectionRate * 100)}%`,
          s.medianTapsToFirstAlert ?? '–',
          humanSeconds(s.medianSecondsToFirstAlert),
          `${s.alertedTaps} / ${s.taps}`,
        ]),
      ) +
      `<p>Honest users alerted: ${q.honestUsersAlerted} of ${q.honestUsers} (${pct(q.honestUserAlertRate)}); ` +
      `tap-level precision ${pct(q.precision)}.</p>`
    : '<p>No ground truth for this run.</p>';
  const runRows = Object.entries(report.run).map(([k, v]) => [k, v]);
  const latency = report.latencyMs
    ? `p50 ${report.latencyMs.p50} ms · p99 ${report.latencyMs.p99} ms · max ${report.latencyMs.max} ms`
    : 'not measured';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(report.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:760px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}.figures{font-size:1.05rem}
</style></head><body>
<h1>${escapeHtml(report.title)}</h1>
<p class="figures">${report.throughput.records.toLocaleString('en-US')} records in ${report.throughput.seconds.toFixed(1)} s
(${Math.round(report.throughput.recordsPerSecond).toLocaleString('en-US')} /s) · decision latency ${escapeHtml(latency)}</p>
<h2>Decisions over time</h2><div class="chart" id="chart-timeline"></div>
<h2>Decisions by outcome</h2><div class="chart" id="chart-outcomes"></div>
<h2>Rule hits</h2><div class="chart" id="chart-rules"></div>
<h2>Detection quality against ground truth</h2>${qualityTable}
<h2>Settlement ${escapeHtml(report.settlement?.period ?? '')}</h2>
${
  report.settlement
    ? '<div class="chart" id="chart-settlement"></div>' +
      `<p>Gross ${won(report.settlement.gross)}` +
      (report.settlement.reversals === undefined ? '' : ` − reversals ${won(report.settlement.reversals)}`) +
      ` = net ${won(report.settlement.net)} (${escapeHtml(report.settlement.currency)}, minor units).</p>` +
      table(
        ['party', 'earned', 'payable', 'paid', 'carried forward'],
        report.settlement.parties.map((p) => [
          p.party_type,
          grouped(p.earned),
          grouped(p.payable),
          grouped(p.paid),
          grouped(p.carried_forward ?? '0'),
        ]),
      )
    : '<p>No settlement in this run.</p>'
}
<h2>Run</h2>${table(['setting', 'value'], runRows)}
<script type="application/json" id="report-data">${json}</script>
<script>${script}</script>
</body></html>
`;
}
