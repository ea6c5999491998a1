/**
 * Type checker: resolves names against the dataset schema, checks types, and lowers WHERE to
 * integer comparisons on stored values (`x < c`, `x = c`, `x < y`, `x = y`) — exactly the
 * predicates the MPC program evaluates.
 */
import type {
  Aggregate,
  BoolExpr,
  CmpOp,
  ColumnRef,
  Literal,
  Operand,
  Query,
  ValueExpr,
} from './ast';
import { canonicalValue, canonicalize, hashCanonical } from './canonical';
import { QueryError, quoteForMessage, type Pos } from './errors';
import { MAX_BINS, MAX_GROUP_COLUMNS, MAX_GROUPS, MAX_REGRESSORS } from './limits';
import { parse } from './parser';
import {
  dateToDays,
  decimalToRational,
  resolveSchema,
  type DatasetSchema,
  type ResolvedColumn,
  type ResolvedSchema,
} from './schema';

/** A lowered predicate over stored integers. Constants are folded using the declared bounds. */
export type Pred =
  | { kind: 'const'; value: boolean }
  | { kind: 'lt'; col: ResolvedColumn; c: bigint } // x < c, lo < c <= hi
  | { kind: 'eq'; col: ResolvedColumn; c: bigint } // x = c, lo <= c <= hi
  | { kind: 'ltcol'; a: ResolvedColumn; b: ResolvedColumn } // a < b (same type)
  | { kind: 'eqcol'; a: ResolvedColumn; b: ResolvedColumn }
  | { kind: 'not'; arg: Pred }
  | { kind: 'and'; args: Pred[] }
  | { kind: 'or'; args: Pred[] };

export type AggSpec =
  | { fn: 'COUNT' }
  | { fn: 'SUM' | 'AVG' | 'VAR' | 'STDDEV' | 'MIN' | 'MAX'; col: ResolvedColumn }
  | { fn: 'HISTOGRAM'; col: ResolvedColumn; lo: bigint; hi: bigint; bins: number; edges: bigint[] }
  | { fn: 'CORR'; a: ResolvedColumn; b: ResolvedColumn }
  | { fn: 'REGRESS'; y: ResolvedColumn; xs: ResolvedColumn[] };

export type CExpr =
  | { kind: 'agg'; agg: AggSpec; pos: Pos }
  | { kind: 'const'; value: number }
  | { kind: 'neg'; arg: CExpr }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: CExpr; right: CExpr }
  | { kind: 'groupKey'; col: ResolvedColumn };

export interface CheckedItem {
  label: string;
  /** scalar: a number (or null); histogram: one count per bin; regress: [intercept, b1, …]; key: the group value. */
  shape: 'scalar' | 'histogram' | 'regress' | 'key';
  expr: CExpr;
}

export interface CheckedQuery {
  canonical: string;
  hash: string;
  schema: ResolvedSchema;
  where: Pred;
  groupBy: ResolvedColumn[];
  items: CheckedItem[];
  /** Query kinds used, for the owner's policy: 'count', 'sum', 'avg', …, 'group_by'. */
  kinds: string[];
}

/** Field capacity we allow sums to use: p = 2^61 − 1, keep a margin for signs and noise. */
const SUM_CAPACITY = 1n << 59n;

export function levenshtein(a: string, b: string): number {
  if (a.length > 200 || b.length > 200) return Math.abs(a.length - b.length) + 200;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate (case-insensitive edit distance), if close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  // b > 0
  const q = a / b;
  return q * b < a ? q + 1n : q;
}
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

const TYPE_NAME = {
  integer: 'integer',
  decimal: 'decimal',
  category: 'category',
  date: 'date',
} as const;

class Checker {
  readonly kinds = new Set<string>();
  constructor(readonly schema: ResolvedSchema) {}

  column(ref: ColumnRef): ResolvedColumn {
    const exact = this.schema.byName.get(ref.name);
    if (exact) return exact;
    const ci = this.schema.columns.filter((c) => c.name.toLowerCase() === ref.name.toLowerCase());
    if (ci.length === 1) return ci[0]!;
    if (ci.length > 1) {
      throw new QueryError(
        'AMBIGUOUS_COLUMN',
        `column ${quoteForMessage(ref.name)} matches ${ci.map((c) => `"${c.name}"`).join(' and ')}: write it exactly`,
        ref.pos,
      );
    }
    const names = this.schema.columns.map((c) => c.name);
    const hint = closest(ref.name, names);
    throw new QueryError(
      'UNKNOWN_COLUMN',
      `unknown column ${quoteForMessage(ref.name)} in dataset "${this.schema.name}"` +
        (hint
          ? ` (did you mean "${hint}"?)`
          : ` (columns: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''})`),
      ref.pos,
    );
  }

  /** A literal as a rational in stored units of `col`: value = num / den. */
  literalFor(col: ResolvedColumn, lit: Literal): { num: bigint; den: bigint } {
    const t = col.type;
    const mismatch = (what: string): never => {
      throw new QueryError(
        'TYPE_MISMATCH',
        `column "${col.name}" is ${TYPE_NAME[t.kind]} but is compared with ${what}`,
        lit.pos,
      );
    };
    if (t.kind === 'category') {
      if (lit.kind !== 'string')
        mismatch(lit.kind === 'number' ? `the number ${lit.text}` : 'a date');
      const v = (lit as { value: string }).value;
      const i = t.domain.indexOf(v);
      if (i < 0) {
        const hint = closest(v, t.domain);
        throw new QueryError(
          'BAD_LITERAL',
          `${quoteForMessage(v)} is not a value of category column "${col.name}"` +
            (hint
              ? ` (did you mean '${hint}'?)`
              : ` (values: ${t.domain.slice(0, 10).join(', ')}${t.domain.length > 10 ? ', …' : ''})`),
          lit.pos,
        );
      }
      return { num: BigInt(i), den: 1n };
    }
    if (t.kind === 'date') {
      if (lit.kind === 'number') mismatch(`the number ${lit.text} (write DATE 'yyyy-mm-dd')`);
      const v = (lit as { value: string }).value;
      const d = dateToDays(v);
      if (d === undefined)
        throw new QueryError(
          'BAD_LITERAL',
          `${quoteForMessage(v)} is not a valid date (expected yyyy-mm-dd)`,
          lit.pos,
        );
      return { num: BigInt(d), den: 1n };
    }
    if (lit.kind !== 'number')
      mismatch(lit.kind === 'string' ? `the string ${quoteForMessage(lit.value)}` : 'a date');
    const r = decimalToRational((lit as { text: string }).text);
    // stored = value × 10^scale = num × 10^scale / 10^exp
    let num = r.num * 10n ** BigInt(col.scale);
    let den = 10n ** BigInt(r.exp);
    const g = gcd(num < 0n ? -num : num, den);
    if (g > 1n) {
      num /= g;
      den /= g;
    }
    return { num, den };
  }

  /** x op (num/den) over integers x in [lo, hi], lowered to lt/eq with folded constants. */
  compareConst(col: ResolvedColumn, op: CmpOp, num: bigint, den: bigint): Pred {
    const lt = (c: bigint): Pred => {
      // x < c for integer x in [lo, hi]
      if (c <= col.lo) return { kind: 'const', value: false };
      if (c > col.hi) return { kind: 'const', value: true };
      return { kind: 'lt', col, c };
    };
    const not = (p: Pred): Pred =>
      p.kind === 'const' ? { kind: 'const', value: !p.value } : { kind: 'not', arg: p };
    const eq = (): Pred => {
      if (num % den !== 0n) return { kind: 'const', value: false };
      const c = num / den;
      if (c < col.lo || c > col.hi) return { kind: 'const', value: false };
      return { kind: 'eq', col, c };
    };
    switch (op) {
      case '<':
        return lt(ceilDiv(num, den));
      case '<=':
        return lt(floorDiv(num, den) + 1n);
      case '>':
        return not(lt(floorDiv(num, den) + 1n));
      case '>=':
        return not(lt(ceilDiv(num, den)));
      case '=':
        return eq();
      case '<>':
        return not(eq());
    }
  }

  compare(op: CmpOp, left: Operand, right: Operand, pos: Pos): Pred {
    if (left.kind !== 'column' && right.kind !== 'column') {
      throw new QueryError('UNSUPPORTED', 'a comparison needs a column on at least one side', pos);
    }
    if (left.kind === 'column' && right.kind === 'column') {
      const a = this.column(left);
      const b = this.column(right);
      const sameType =
        a.type.kind === b.type.kind &&
        a.scale === b.scale &&
        (a.type.kind !== 'category' ||
          (b.type.kind === 'category' &&
            a.type.domain.join('\u0000') === b.type.domain.join('\u0000')));
      if (!sameType) {
        throw new QueryError(
          'TYPE_MISMATCH',
          `cannot compare column "${a.name}" (${describeType(a)}) with column "${b.name}" (${describeType(b)})`,
          right.pos,
        );
      }
      if (a.type.kind === 'category' && op !== '=' && op !== '<>') {
        throw new QueryError(
          'TYPE_MISMATCH',
          `category columns can only be compared with = or <> (not ${op})`,
          pos,
        );
      }
      this.kinds.add('compare_columns');
      switch (op) {
        case '=':
          return { kind: 'eqcol', a, b };
        case '<>':
          return { kind: 'not', arg: { kind: 'eqcol', a, b } };
        case '<':
          return { kind: 'ltcol', a, b };
        case '>':
          return { kind: 'ltcol', a: b, b: a };
        case '<=':
          return { kind: 'not', arg: { kind: 'ltcol', a: b, b: a } };
        case '>=':
          return { kind: 'not', arg: { kind: 'ltcol', a, b } };
      }
    }
    let colRef: ColumnRef;
    let lit: Literal;
    let o = op;
    if (left.kind === 'column') {
      colRef = left;
      lit = right as Literal;
    } else {
      colRef = right as ColumnRef;
      lit = left;
      o = ({ '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const)[op];
    }
    const col = this.column(colRef);
    const v = this.literalFor(col, lit);
    if (col.type.kind === 'category' && o !== '=' && o !== '<>') {
      throw new QueryError(
        'TYPE_MISMATCH',
        `category column "${col.name}" can only be compared with =, <> or IN (not ${op})`,
        pos,
      );
    }
    return this.compareConst(col, o, v.num, v.den);
  }

  pred(e: BoolExpr): Pred {
    switch (e.kind) {
      case 'and':
        return { kind: 'and', args: e.args.map((a) => this.pred(a)) };
      case 'or':
        return { kind: 'or', args: e.args.map((a) => this.pred(a)) };
      case 'not':
        return { kind: 'not', arg: this.pred(e.arg) };
      case 'cmp':
        return this.compare(e.op, e.left, e.right, e.pos);
      case 'between': {
        const p: Pred = {
          kind: 'and',
          args: [this.compare('>=', e.arg, e.lo, e.pos), this.compare('<=', e.arg, e.hi, e.pos)],
        };
        return e.negated ? { kind: 'not', arg: p } : p;
      }
      case 'in': {
        const p: Pred = { kind: 'or', args: e.list.map((v) => this.compare('=', e.arg, v, v.pos)) };
        return e.negated ? { kind: 'not', arg: p } : p;
      }
    }
  }

  numericColumn(ref: ColumnRef | Literal, fn: string, allowDate = false): ResolvedColumn {
    if (ref.kind !== 'column')
      throw new QueryError(
        'TYPE_MISMATCH',
        `${fn} expects a column name here, not a literal`,
        ref.pos,
      );
    const col = this.column(ref);
    if (col.type.kind === 'category') {
      throw new QueryError(
        'AGGREGATE_OF_CATEGORY',
        `${fn}(${col.name}): "${col.name}" is a category column; use COUNT(*) with GROUP BY ${col.name} instead`,
        ref.pos,
      );
    }
    if (col.type.kind === 'date' && !allowDate) {
      throw new QueryError(
        'TYPE_MISMATCH',
        `${fn}(${col.name}): "${col.name}" is a date column; only MIN, MAX and HISTOGRAM apply to dates`,
        ref.pos,
      );
    }
    return col;
  }

  checkCapacity(what: string, factor: bigint, pos: Pos): void {
    if (BigInt(this.schema.rows) * factor >= SUM_CAPACITY) {
      throw new QueryError(
        'OVERFLOW_RISK',
        `${what} over ${this.schema.rows} rows could exceed the secure field's capacity (2^59); narrow the column bounds in the schema`,
        pos,
      );
    }
  }

  aggregate(a: Aggregate): { spec: AggSpec; shape: CheckedItem['shape'] } {
    const arity = (n: number | [number, number], usage: string) => {
      const [lo, hi] = typeof n === 'number' ? [n, n] : n;
      if (a.args.length < lo || a.args.length > hi) {
        throw new QueryError(
          'WRONG_ARITY',
          `${a.fn} takes ${usage}, got ${a.args.length} argument${a.args.length === 1 ? '' : 's'}`,
          a.pos,
        );
      }
    };
    const range = (c: ResolvedColumn) => c.hi - c.lo;
    this.kinds.add(a.fn.toLowerCase());
    switch (a.fn) {
      case 'COUNT':
        if (!a.star) {
          if (a.args.length === 1 && a.args[0]!.kind === 'column') {
            this.column(a.args[0] as ColumnRef); // names must still exist
            // Datasets have no missing values: COUNT(col) = COUNT(*).
            return { spec: { fn: 'COUNT' }, shape: 'scalar' };
          }
          throw new QueryError('WRONG_ARITY', 'COUNT takes * or one column, e.g. COUNT(*)', a.pos);
        }
        return { spec: { fn: 'COUNT' }, shape: 'scalar' };
      case 'SUM':
      case 'AVG':
      case 'VAR':
      case 'STDDEV':
      case 'MIN':
      case 'MAX': {
        arity(1, `one column, e.g. ${a.fn}(col)`);
        const col = this.numericColumn(a.args[0]!, a.fn, a.fn === 'MIN' || a.fn === 'MAX');
        if (a.fn === 'VAR' || a.fn === 'STDDEV')
          this.checkCapacity(`the sum of squares of "${col.name}"`, range(col) * range(col), a.pos);
        else this.checkCapacity(`the sum of "${col.name}"`, range(col), a.pos);
        return { spec: { fn: a.fn, col }, shape: 'scalar' };
      }
      case 'HISTOGRAM': {
        arity(
          4,
          'a column, a low bound, a high bound and a bin count, e.g. HISTOGRAM(age, 0, 100, 10)',
        );
        const col = this.numericColumn(a.args[0]!, a.fn, true);
        const [loA, hiA, binsA] = [a.args[1]!, a.args[2]!, a.args[3]!];
        if (
          binsA.kind !== 'number' ||
          !/^\d+$/.test(binsA.text) ||
          Number(binsA.text) < 1 ||
          Number(binsA.text) > MAX_BINS
        ) {
          throw new QueryError(
            'BAD_LITERAL',
            `HISTOGRAM bin count must be an integer from 1 to ${MAX_BINS}`,
            binsA.pos,
          );
        }
        const bins = Number((binsA as { text: string }).text);
        if (loA.kind === 'column' || hiA.kind === 'column') {
          throw new QueryError(
            'TYPE_MISMATCH',
            'HISTOGRAM bounds must be literals',
            (loA.kind === 'column' ? loA : hiA).pos,
          );
        }
        const l = this.literalFor(col, loA);
        const h = this.literalFor(col, hiA);
        if (l.den !== 1n || h.den !== 1n) {
          throw new QueryError(
            'BAD_LITERAL',
            `HISTOGRAM bounds must have at most ${col.scale} decimals for column "${col.name}"`,
            loA.pos,
          );
        }
        if (l.num >= h.num)
          throw new QueryError(
            'BAD_LITERAL',
            'HISTOGRAM low bound must be below the high bound',
            loA.pos,
          );
        // Bin k is [edge_k, edge_{k+1}) with edge_k = lo + k (hi − lo) / bins, rounded up to the stored grid.
        const edges: bigint[] = [];
        for (let k = 0; k <= bins; k++)
          edges.push(l.num + ceilDiv(BigInt(k) * (h.num - l.num), BigInt(bins)));
        return {
          spec: { fn: 'HISTOGRAM', col, lo: l.num, hi: h.num, bins, edges },
          shape: 'histogram',
        };
      }
      case 'CORR': {
        arity(2, 'two columns, e.g. CORR(a, b)');
        const x = this.numericColumn(a.args[0]!, a.fn);
        const y = this.numericColumn(a.args[1]!, a.fn);
        for (const [u, v] of [
          [x, x],
          [y, y],
          [x, y],
        ] as const) {
          this.checkCapacity(`the sum of "${u.name}"·"${v.name}"`, range(u) * range(v), a.pos);
        }
        return { spec: { fn: 'CORR', a: x, b: y }, shape: 'scalar' };
      }
      case 'REGRESS': {
        if (a.args.length < 2 || a.args.length > MAX_REGRESSORS + 1) {
          throw new QueryError(
            'WRONG_ARITY',
            `REGRESS takes a response and 1 to ${MAX_REGRESSORS} regressors, e.g. REGRESS(y, x1, x2), got ${a.args.length} arguments`,
            a.pos,
          );
        }
        const cols = a.args.map((r) => this.numericColumn(r, a.fn));
        for (const u of cols)
          for (const v of cols)
            this.checkCapacity(`the sum of "${u.name}"·"${v.name}"`, range(u) * range(v), a.pos);
        return { spec: { fn: 'REGRESS', y: cols[0]!, xs: cols.slice(1) }, shape: 'regress' };
      }
    }
  }

  value(e: ValueExpr, top: boolean): { expr: CExpr; shape: CheckedItem['shape'] } {
    switch (e.kind) {
      case 'aggregate': {
        const { spec, shape } = this.aggregate(e);
        if (!top && shape !== 'scalar') {
          throw new QueryError(
            'TYPE_MISMATCH',
            `${e.fn} returns a list and cannot be used in arithmetic`,
            e.pos,
          );
        }
        return { expr: { kind: 'agg', agg: spec, pos: e.pos }, shape };
      }
      case 'column': {
        const col = this.column(e);
        if (!top)
          throw new QueryError(
            'NOT_GROUPED',
            `column "${col.name}" cannot be used in arithmetic: wrap it in an aggregate`,
            e.pos,
          );
        return { expr: { kind: 'groupKey', col }, shape: 'key' };
      }
      case 'number': {
        if (top)
          throw new QueryError('UNSUPPORTED', 'a SELECT item must contain an aggregate', e.pos);
        return { expr: { kind: 'const', value: Number(e.text) }, shape: 'scalar' };
      }
      case 'neg':
        return { expr: { kind: 'neg', arg: this.value(e.arg, false).expr }, shape: 'scalar' };
      case 'arith': {
        const left = this.value(e.left, false).expr;
        const right = this.value(e.right, false).expr;
        if (!hasAggregate(left) && !hasAggregate(right)) {
          throw new QueryError('UNSUPPORTED', 'a SELECT item must contain an aggregate', e.pos);
        }
        return { expr: { kind: 'arith', op: e.op, left, right }, shape: 'scalar' };
      }
    }
  }
}

function hasAggregate(e: CExpr): boolean {
  switch (e.kind) {
    case 'agg':
      return true;
    case 'neg':
      return hasAggregate(e.arg);
    case 'arith':
      return hasAggregate(e.left) || hasAggregate(e.right);
    default:
      return false;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function describeType(c: ResolvedColumn): string {
  return c.type.kind === 'decimal' ? `decimal(${c.scale})` : c.type.kind;
}

/** Type-checks a parsed query against a schema. */
export function checkQuery(q: Query, schemaIn: DatasetSchema | ResolvedSchema): CheckedQuery {
  const schema = 'byName' in schemaIn ? schemaIn : resolveSchema(schemaIn);
  const from = q.from.name;
  if (
    from !== schema.name &&
    (schema.id === undefined || from.toLowerCase() !== schema.id.toLowerCase())
  ) {
    throw new QueryError(
      'UNKNOWN_DATASET',
      `unknown dataset ${quoteForMessage(from)}; this query runs on "${schema.name}"`,
      q.from.pos,
    );
  }
  const ck = new Checker(schema);
  const groupBy = q.groupBy.map((g) => {
    const col = ck.column(g);
    if (col.type.kind !== 'category') {
      throw new QueryError(
        'NOT_GROUPABLE',
        `GROUP BY needs a category column; "${col.name}" is ${describeType(col)} (use HISTOGRAM(${col.name}, lo, hi, bins) for numeric columns)`,
        g.pos,
      );
    }
    return col;
  });
  if (groupBy.length > MAX_GROUP_COLUMNS) {
    throw new QueryError(
      'TOO_MANY_GROUPS',
      `GROUP BY has more than ${MAX_GROUP_COLUMNS} columns`,
      q.groupBy[MAX_GROUP_COLUMNS]!.pos,
    );
  }
  if (new Set(groupBy.map((c) => c.name)).size !== groupBy.length) {
    throw new QueryError('UNSUPPORTED', 'GROUP BY names a column twice', q.groupBy[0]!.pos);
  }
  const groups = groupBy.reduce(
    (n, c) => n * (c.type.kind === 'category' ? c.type.domain.length : 1),
    1,
  );
  if (groups > MAX_GROUPS) {
    throw new QueryError(
      'TOO_MANY_GROUPS',
      `GROUP BY makes ${groups} groups; the limit is ${MAX_GROUPS}`,
      q.groupBy[0]!.pos,
    );
  }
  if (groupBy.length) ck.kinds.add('group_by');
  const items: CheckedItem[] = q.select.map((it) => {
    const { expr, shape } = ck.value(it.expr, true);
    if (expr.kind === 'groupKey' && !groupBy.includes(expr.col)) {
      throw new QueryError(
        'NOT_GROUPED',
        `column "${expr.col.name}" must appear in GROUP BY or inside an aggregate`,
        it.expr.pos,
      );
    }
    return {
      label: it.alias ?? canonicalValue(it.expr),
      shape,
      expr,
    };
  });
  const where: Pred = q.where ? ck.pred(q.where) : { kind: 'const', value: true };
  if (q.where) ck.kinds.add('filter');
  const canonical = canonicalize(q);
  return {
    canonical,
    hash: hashCanonical(canonical),
    schema,
    where,
    groupBy,
    items,
    kinds: [...ck.kinds].sort(),
  };
}

/** Parses and type-checks query text against a dataset schema. */
export function compileQueryText(
  text: string,
  schema: DatasetSchema | ResolvedSchema,
): CheckedQuery {
  return checkQuery(parse(text), schema);
}
