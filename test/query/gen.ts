/**
 * Seeded generators of random schemas, datasets and queries for the query tests. Each query is
 * produced twice: in our language and as SQL for SQLite (sql.js), the independent engine.
 */
import type { ColumnSchema, DatasetSchema } from '../../src/query/index';
import { dateToDays, daysToDate } from '../../src/query/index';

export type Rng = () => number;
export function rng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
export const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export interface Dataset {
  schema: DatasetSchema;
  /** Stored integers per column (column-major), as the MPC layer holds them. */
  stored: bigint[][];
  /** Natural values per row for SQLite: numbers, category text, ISO date text. */
  natural: (number | string)[][];
}

const CATS = [['F', 'M'], ['north', 'south', 'east', 'west'], ['a', 'b', 'c'], ['yes']];

export function randomDataset(r: Rng, name = 'ds'): Dataset {
  const columns: ColumnSchema[] = [];
  const nInt = int(r, 1, 3);
  for (let i = 0; i < nInt; i++) {
    const lo = pick(r, [0, 0, -50, 1, -1000]);
    columns.push({
      name: `i${i}`,
      type: { kind: 'integer', min: lo, max: lo + pick(r, [1, 10, 100, 5000]) },
    });
  }
  const nDec = int(r, 0, 2);
  for (let i = 0; i < nDec; i++) {
    const scale = int(r, 1, 2);
    const lo = pick(r, [0, -5, 10.5]);
    columns.push({
      name: `d${i}`,
      type: { kind: 'decimal', scale, min: lo, max: lo + pick(r, [1, 20, 300]) },
    });
  }
  const nCat = int(r, 1, 3);
  for (let i = 0; i < nCat; i++)
    columns.push({ name: `c${i}`, type: { kind: 'category', domain: pick(r, CATS) } });
  if (r() < 0.7)
    columns.push({ name: 'day', type: { kind: 'date', min: '2019-12-20', max: '2020-03-10' } });
  const rows = int(r, 0, 60) + (r() < 0.3 ? 100 : 0);
  const schema: DatasetSchema = { name, rows: 1000, columns };
  const stored: bigint[][] = columns.map(() => []);
  const natural: (number | string)[][] = [];
  for (let k = 0; k < rows; k++) {
    const row: (number | string)[] = [];
    columns.forEach((c, j) => {
      const t = c.type;
      let s: number;
      let nat: number | string;
      switch (t.kind) {
        case 'integer':
          // Few distinct values make ties and equalities frequent.
          s =
            r() < 0.3
              ? pick(r, [t.min, t.max, Math.floor((t.min + t.max) / 2)])
              : int(r, t.min, t.max);
          nat = s;
          break;
        case 'decimal': {
          const u = 10 ** t.scale;
          const lo = Math.round(Number(t.min) * u);
          const hi = Math.round(Number(t.max) * u);
          s = int(r, lo, hi);
          nat = s / u;
          break;
        }
        case 'category':
          s = int(r, 0, t.domain.length - 1);
          nat = t.domain[s]!;
          break;
        case 'date':
          s = int(r, dateToDays(t.min)!, dateToDays(t.max)!);
          nat = daysToDate(s);
          break;
      }
      stored[j]!.push(BigInt(s));
      row.push(nat);
    });
    natural.push(row);
  }
  return { schema, stored, natural };
}

/** A literal for column c: [our text, SQLite text]. Sometimes outside the bounds, sometimes between grid points. */
function literal(r: Rng, c: ColumnSchema): [string, string] {
  const t = c.type;
  switch (t.kind) {
    case 'integer': {
      const v = int(r, t.min - 2, t.max + 2);
      if (r() < 0.15) return [`${v}.5`, `${v}.5`];
      return [String(v), String(v)];
    }
    case 'decimal': {
      const u = 10 ** t.scale;
      const v = int(r, Math.round(Number(t.min) * u) - 3, Math.round(Number(t.max) * u) + 3) / u;
      const digits = r() < 0.2 ? t.scale + 1 : t.scale;
      const s = (v + (digits > t.scale ? 5 / (u * 10) : 0)).toFixed(digits);
      return [s, s];
    }
    case 'category': {
      const v = pick(r, t.domain);
      return [`'${v}'`, `'${v}'`];
    }
    case 'date': {
      const d = daysToDate(int(r, dateToDays(t.min)! - 5, dateToDays(t.max)! + 5));
      return r() < 0.5 ? [`DATE '${d}'`, `'${d}'`] : [`'${d}'`, `'${d}'`];
    }
  }
}

function predicate(r: Rng, cols: readonly ColumnSchema[], depth: number): [string, string] {
  if (depth > 0 && r() < 0.45) {
    const k = int(r, 2, 3);
    const parts = Array.from({ length: k }, () => predicate(r, cols, depth - 1));
    const op = pick(r, ['AND', 'OR']);
    return [
      `(${parts.map((p) => p[0]).join(` ${op} `)})`,
      `(${parts.map((p) => p[1]).join(` ${op} `)})`,
    ];
  }
  if (depth > 0 && r() < 0.15) {
    const [a, b] = predicate(r, cols, depth - 1);
    return [`NOT ${a}`, `NOT ${b}`];
  }
  const c = pick(r, cols);
  const isCat = c.type.kind === 'category';
  const roll = r();
  if (roll < 0.15) {
    const [lo1, lo2] = literal(r, c);
    const [hi1, hi2] = literal(r, c);
    if (isCat) return [`${c.name} = ${lo1}`, `${c.name} = ${lo2}`];
    const neg = r() < 0.3 ? ' NOT' : '';
    return [
      `${c.name}${neg} BETWEEN ${lo1} AND ${hi1}`,
      `${c.name}${neg} BETWEEN ${lo2} AND ${hi2}`,
    ];
  }
  if (roll < 0.3) {
    const k = int(r, 1, 3);
    const lits = Array.from({ length: k }, () => literal(r, c));
    const neg = r() < 0.3 ? ' NOT' : '';
    return [
      `${c.name}${neg} IN (${lits.map((l) => l[0]).join(', ')})`,
      `${c.name}${neg} IN (${lits.map((l) => l[1]).join(', ')})`,
    ];
  }
  if (roll < 0.4) {
    const same = cols.filter((d) => d !== c && JSON.stringify(d.type) === JSON.stringify(c.type));
    if (same.length) {
      const d = pick(r, same);
      const op = isCat ? pick(r, ['=', '<>']) : pick(r, ['=', '<>', '<', '<=', '>', '>=']);
      return [`${c.name} ${op} ${d.name}`, `${c.name} ${op} ${d.name}`];
    }
  }
  const op = isCat ? pick(r, ['=', '<>', '!=']) : pick(r, ['=', '<>', '<', '<=', '>', '>=']);
  const [l1, l2] = literal(r, c);
  if (r() < 0.2) {
    const flip = { '=': '=', '<>': '<>', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' }[
      op
    ]!;
    return [`${l1} ${flip} ${c.name}`, `${l2} ${flip} ${c.name}`];
  }
  return [`${c.name} ${op} ${l1}`, `${c.name} ${op === '!=' ? '<>' : op} ${l2}`];
}

export type Item =
  | {
      kind: 'simple';
      ours: string;
      sql: string;
      exact: boolean;
      /** AVG(col) times `factor`: with division inside MPC, within factor·2^−f / 10^scale. */
      avg?: { col: string; factor: number };
    }
  | { kind: 'var' | 'stddev'; col: string }
  | { kind: 'corr'; a: string; b: string }
  | { kind: 'regress'; y: string; xs: string[] }
  | { kind: 'histogram'; col: string; scale: number; lo: number; hi: number; bins: number }
  | { kind: 'key'; col: string };

export interface GenQuery {
  text: string;
  where: string | undefined;
  groupBy: string[];
  items: Item[];
}

export function randomQuery(r: Rng, ds: Dataset): GenQuery {
  const cols = ds.schema.columns;
  const nums = cols.filter((c) => c.type.kind === 'integer' || c.type.kind === 'decimal');
  const cats = cols.filter((c) => c.type.kind === 'category');
  const dates = cols.filter((c) => c.type.kind === 'date');
  const isInt = (name: string) => cols.find((c) => c.name === name)!.type.kind === 'integer';
  const groupBy: string[] = [];
  if (r() < 0.5) {
    groupBy.push(pick(r, cats).name);
    if (r() < 0.3) {
      const other = cats.filter((c) => !groupBy.includes(c.name));
      if (other.length) groupBy.push(pick(r, other).name);
    }
  }
  const items: Item[] = [];
  const k = int(r, 1, 4);
  for (let i = 0; i < k; i++) {
    const x = pick(r, nums).name;
    const roll = r();
    if (roll < 0.12) items.push({ kind: 'simple', ours: 'COUNT(*)', sql: 'COUNT(*)', exact: true });
    else if (roll < 0.24)
      items.push({ kind: 'simple', ours: `SUM(${x})`, sql: `SUM(${x})`, exact: isInt(x) });
    else if (roll < 0.34)
      items.push({
        kind: 'simple',
        ours: `AVG(${x})`,
        sql: `AVG(${x})`,
        exact: false,
        avg: { col: x, factor: 1 },
      });
    else if (roll < 0.42) {
      const fn = pick(r, ['MIN', 'MAX']);
      if (dates.length && r() < 0.3)
        items.push({ kind: 'simple', ours: `${fn}(day)`, sql: `${fn}(day)`, exact: true });
      else items.push({ kind: 'simple', ours: `${fn}(${x})`, sql: `${fn}(${x})`, exact: isInt(x) });
    } else if (roll < 0.5) items.push({ kind: pick(r, ['var', 'stddev'] as const), col: x });
    else if (roll < 0.57) items.push({ kind: 'corr', a: x, b: pick(r, nums).name });
    else if (roll < 0.63) {
      const xs = Array.from(
        { length: int(r, 1, Math.min(3, nums.length)) },
        () => pick(r, nums).name,
      );
      items.push({ kind: 'regress', y: pick(r, nums).name, xs: [...new Set(xs)] });
    } else if (roll < 0.73) {
      const c = cols.find((cc) => cc.name === x)!;
      const t = c.type as { min: number | string; max: number | string; scale?: number };
      const scale = t.scale ?? 0;
      const lo = Math.floor(Number(t.min)) - int(r, 0, 2);
      const hi = Math.ceil(Number(t.max)) + int(r, 0, 2);
      items.push({
        kind: 'histogram',
        col: x,
        scale,
        lo,
        hi: hi > lo ? hi : lo + 1,
        bins: int(r, 1, 7),
      });
    } else if (roll < 0.85) {
      const y = pick(r, nums).name;
      const op = pick(r, ['+', '-', '*', '/']);
      items.push({
        kind: 'simple',
        ours: `SUM(${x}) ${op} COUNT(*)`,
        sql: `SUM(${x}) ${op === '/' ? '* 1.0 /' : op} COUNT(*)`,
        exact: false,
      });
      if (r() < 0.5)
        items.push({
          kind: 'simple',
          ours: `(AVG(${y}) - 2.5) * -2`,
          sql: `(AVG(${y}) - 2.5) * -2`,
          exact: false,
          avg: { col: y, factor: 2 },
        });
    } else if (groupBy.length) items.push({ kind: 'key', col: pick(r, groupBy) });
    else items.push({ kind: 'simple', ours: 'count(*) + 1', sql: 'COUNT(*) + 1', exact: true });
  }
  const where = r() < 0.8 ? predicate(r, cols, 2) : undefined;
  const render = (it: Item): string => {
    switch (it.kind) {
      case 'simple':
        return it.ours;
      case 'var':
        return `VAR(${it.col})`;
      case 'stddev':
        return `STDDEV(${it.col})`;
      case 'corr':
        return `CORR(${it.a}, ${it.b})`;
      case 'regress':
        return `REGRESS(${it.y}, ${it.xs.join(', ')})`;
      case 'histogram':
        return `HISTOGRAM(${it.col}, ${it.lo}, ${it.hi}, ${it.bins})`;
      case 'key':
        return it.col;
    }
  };
  let text = `SELECT ${items.map(render).join(', ')} FROM ${ds.schema.name}`;
  if (where) text += ` WHERE ${where[0]}`;
  if (groupBy.length) text += ` GROUP BY ${groupBy.join(', ')}`;
  return { text, where: where?.[1], groupBy, items };
}

/**
 * A random AVG-only query (AVGs, arithmetic on them and group keys): its counts and sums stay
 * hidden, and each AVG is computed by division inside MPC.
 */
export function randomAvgQuery(r: Rng, ds: Dataset): GenQuery {
  const cols = ds.schema.columns;
  const nums = cols.filter((c) => c.type.kind === 'integer' || c.type.kind === 'decimal');
  const cats = cols.filter((c) => c.type.kind === 'category');
  const groupBy: string[] = [];
  if (r() < 0.6) {
    groupBy.push(pick(r, cats).name);
    const other = cats.filter((c) => !groupBy.includes(c.name));
    if (r() < 0.3 && other.length) groupBy.push(pick(r, other).name);
  }
  const items: Item[] = [];
  const k = int(r, 1, 3);
  for (let i = 0; i < k; i++) {
    const x = pick(r, nums).name;
    const roll = r();
    if (roll < 0.6)
      items.push({
        kind: 'simple',
        ours: `AVG(${x})`,
        sql: `AVG(${x})`,
        exact: false,
        avg: { col: x, factor: 1 },
      });
    else if (roll < 0.85 || !groupBy.length)
      items.push({
        kind: 'simple',
        ours: `(AVG(${x}) - 2.5) * -2`,
        sql: `(AVG(${x}) - 2.5) * -2`,
        exact: false,
        avg: { col: x, factor: 2 },
      });
    else items.push({ kind: 'key', col: pick(r, groupBy) });
  }
  if (!items.some((it) => it.kind === 'simple')) {
    const x = pick(r, nums).name;
    items.push({
      kind: 'simple',
      ours: `AVG(${x})`,
      sql: `AVG(${x})`,
      exact: false,
      avg: { col: x, factor: 1 },
    });
  }
  const where = r() < 0.8 ? predicate(r, cols, 2) : undefined;
  const render = (it: Item) => (it.kind === 'simple' ? it.ours : it.kind === 'key' ? it.col : '');
  let text = `SELECT ${items.map(render).join(', ')} FROM ${ds.schema.name}`;
  if (where) text += ` WHERE ${where[0]}`;
  if (groupBy.length) text += ` GROUP BY ${groupBy.join(', ')}`;
  return { text, where: where?.[1], groupBy, items };
}
