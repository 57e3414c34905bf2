/**
 * Figures the fault and fuzz suites print at the end (one JSON line each, prefixed `[figures]`), so a
 * run's counts can be copied into docs/RELIABILITY.md without re-deriving them.
 */
export function figures(suite: string) {
  const rows: { what: string; values: Record<string, unknown> }[] = [];
  return {
    add(what: string, values: Record<string, unknown>) {
      rows.push({ what, values });
    },
    print() {
      for (const r of rows) console.log(`[figures] ${suite} | ${r.what} | ${JSON.stringify(r.values)}`);
    },
  };
}

export const fuzzFigures = figures('fuzz');
