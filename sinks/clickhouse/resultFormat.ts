/** How `tapline query` prints results: an aligned table for people, JSON Lines or CSV for tools. */

export type OutputFormat = 'table' | 'json' | 'csv';

/** The ClickHouse output format fetched for each CLI format. */
export const clickhouseFormat: Record<OutputFormat, string> = {
  table: 'JSONCompact',
  json: 'JSONEachRow',
  csv: 'CSVWithNames',
};

interface JsonCompact {
  meta: Array<{ name: string; type: string }>;
  data: unknown[][];
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

const numericType = /^(Nullable\()?(U?Int|Float|Decimal)/;

/** Renders ClickHouse JSONCompact text as an aligned table with a row count; numbers align right. */
export function renderTable(jsonCompact: string): string {
  const parsed = JSON.parse(jsonCompact) as JsonCompact;
  const headers = parsed.meta.map((m) => m.name);
  const right = parsed.meta.map((m) => numericType.test(m.type));
  const rows = parsed.data.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`);
  return `${out.join('\n')}\n`;
}

/** Turns the fetched text into what the CLI prints. */
export function renderResult(format: OutputFormat, text: string): string {
  if (format === 'table') return renderTable(text);
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}
