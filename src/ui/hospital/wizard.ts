/**
 * Pure helpers of the upload wizard: what the schema table shows per column (inferred type, a few
 * example values, how well they fit) and how a type change is applied. No React, no I/O.
 */
import type { ParsedCsv } from '../../storage/csv';
import {
  MAX_CATEGORIES,
  MAX_SCALE,
  type ColumnType,
  type DatasetSchema,
} from '../../storage/schema';

export type KindChoice = ColumnType['kind'];

export const KIND_LABEL: Record<KindChoice, string> = {
  int: 'Integer',
  decimal: 'Decimal',
  category: 'Category',
  date: 'Date (YYYY-MM-DD)',
  skip: 'Do not upload',
};

export const KIND_CHOICES: readonly KindChoice[] = ['int', 'decimal', 'category', 'date', 'skip'];

/** Distinct non-empty values of column `index`, in first-seen order, at most `limit`. */
export function distinctValues(csv: ParsedCsv, index: number, limit: number): string[] {
  const seen = new Set<string>();
  for (const { cells } of csv.rows) {
    const c = cells[index];
    if (c === undefined || c === '' || seen.has(c)) continue;
    seen.add(c);
    if (seen.size >= limit) break;
  }
  return [...seen];
}

/** The largest number of decimals among the column's decimal-looking cells (capped at MAX_SCALE). */
export function observedScale(csv: ParsedCsv, index: number): number {
  let scale = 0;
  for (const { cells } of csv.rows) {
    const m = /^[+-]?\d*\.(\d+)$/.exec(cells[index] ?? '');
    if (m) scale = Math.max(scale, m[1]!.replace(/0+$/, '').length);
  }
  return Math.min(scale, MAX_SCALE);
}

/** The type a column gets when the owner picks `kind` in the table. */
export function typeFor(
  kind: KindChoice,
  csv: ParsedCsv,
  index: number,
  prev: ColumnType,
): ColumnType {
  switch (kind) {
    case 'int':
    case 'date':
    case 'skip':
      return { kind };
    case 'decimal':
      return {
        kind,
        scale: prev.kind === 'decimal' ? prev.scale : Math.max(1, observedScale(csv, index)),
      };
    case 'category':
      return {
        kind,
        domain:
          prev.kind === 'category'
            ? prev.domain
            : distinctValues(csv, index, MAX_CATEGORIES + 1)
                .slice(0, MAX_CATEGORIES)
                .sort(),
      };
  }
}

export function withColumnType(
  schema: DatasetSchema,
  index: number,
  type: ColumnType,
): DatasetSchema {
  return {
    version: 1,
    columns: schema.columns.map((c, i) => (i === index ? { name: c.name, type } : c)),
  };
}

/** Short description of a type for the confirmation table. */
export function describeType(t: ColumnType): string {
  switch (t.kind) {
    case 'decimal':
      return `Decimal, ${t.scale} place${t.scale === 1 ? '' : 's'}`;
    case 'category':
      return `Category (${t.domain.length} value${t.domain.length === 1 ? '' : 's'})`;
    default:
      return KIND_LABEL[t.kind];
  }
}

/** Default committee size and threshold for `online` nodes (matches the client's defaults). */
export function defaultCommittee(online: number): { size: number; threshold: number } {
  const size = Math.min(5, online);
  return { size, threshold: Math.max(1, Math.floor((size - 1) / 2)) };
}

/** Problems with a committee choice, in plain words (empty when fine). */
export function committeeProblems(size: number, threshold: number, online: number): string[] {
  const out: string[] = [];
  if (!Number.isInteger(size) || size < 3 || size > 16)
    out.push('The committee needs between 3 and 16 nodes.');
  else if (size > online)
    out.push(
      `Only ${online} node${online === 1 ? ' is' : 's are'} online; pick a committee of at most ${online}, or wait for more nodes.`,
    );
  if (!Number.isInteger(threshold) || threshold < 1 || 2 * threshold >= size)
    out.push(
      `The threshold must be at least 1 and less than half the committee (at most ${Math.max(1, Math.floor((size - 1) / 2))} for ${size} nodes).`,
    );
  return out;
}
