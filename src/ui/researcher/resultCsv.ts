/**
 * Export of a query result as CSV: one line per group, the group columns first, then one column
 * per statistic (arrays such as histogram bins or regression coefficients get one column per
 * element), then whether the group was suppressed. Text cells that a spreadsheet would run as a
 * formula are prefixed with a quote.
 */
import type { QueryResult, ResultValue } from '../../query/finalize';
import { FORMULA_PREFIX } from '../../storage/csv';

function cell(v: string): string {
  const safe = FORMULA_PREFIX.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function num(v: number | null): string {
  return v === null ? '' : String(v);
}

/** Width (number of CSV columns) of each result column: arrays expand to their longest length. */
function widths(r: QueryResult): number[] {
  return r.labels.map((_, j) =>
    r.rows.reduce((w, row) => {
      const v = row.values[j];
      return Math.max(w, Array.isArray(v) ? v.length : 1);
    }, 1),
  );
}

export function resultToCsv(r: QueryResult): string {
  const w = widths(r);
  const header = [
    ...r.groupBy,
    ...r.labels.flatMap((l, j) =>
      w[j]! === 1 && !r.rows.some((row) => Array.isArray(row.values[j]))
        ? [l]
        : Array.from({ length: w[j]! }, (_, i) => `${l} [${i}]`),
    ),
    'suppressed',
  ];
  const lines = [header.map(cell).join(',')];
  for (const row of r.rows) {
    const values = r.labels.flatMap((_, j) => {
      const v: ResultValue | undefined = row.values[j];
      if (Array.isArray(v)) return Array.from({ length: w[j]! }, (_, i) => num(v[i] ?? null));
      if (v === null || v === undefined) return w[j]! === 1 ? [''] : Array<string>(w[j]!).fill('');
      const one = typeof v === 'number' ? String(v) : cell(v);
      return w[j]! === 1 ? [one] : [one, ...Array<string>(w[j]! - 1).fill('')];
    });
    lines.push([...row.key.map(cell), ...values, row.suppressed ? 'true' : 'false'].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Offers `text` as a file download (browser only). */
export function downloadText(fileName: string, text: string, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
