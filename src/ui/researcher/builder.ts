/**
 * The visual query builder's model and its two-way mapping with the query text. Pure functions,
 * no React: builder state → AST → canonical text (`toText`), and text → AST → builder state
 * (`fromText`) whenever the query fits what the builder can show (aggregates and group columns,
 * an AND of `column op literal` conditions, GROUP BY). Anything else stays text-only, with the
 * reason.
 */
import type {
  AggregateName,
  BoolExpr,
  CmpOp,
  ColumnRef,
  Literal,
  Query,
  SelectItem,
  ValueExpr,
} from '../../query/ast';
import { canonicalize } from '../../query/canonical';
import { parse } from '../../query/parser';

/** A select item: an aggregate, or `VALUE` (the value of a GROUP BY column). */
export type ItemFn = AggregateName | 'VALUE';

export interface BuilderItem {
  fn: ItemFn;
  /** Column names or number texts, by position (see ARGS). COUNT with no args is COUNT(*). */
  args: string[];
}

export interface BuilderCondition {
  column: string;
  op: CmpOp;
  /** The literal as the person typed it: a number, a category value, or a YYYY-MM-DD date. */
  value: string;
}

export interface BuilderState {
  from: string;
  items: BuilderItem[];
  where: BuilderCondition[];
  groupBy: string[];
}

/** How a column's values are written in a condition. */
export type ValueKind = 'number' | 'string' | 'date';

export type ArgKind = 'column' | 'number';

/** Arguments of each function: fixed kinds, plus a repeated kind for REGRESS's extra regressors. */
export const ARGS: Record<ItemFn, { fixed: ArgKind[]; names: string[]; more?: ArgKind }> = {
  COUNT: { fixed: [], names: [] },
  SUM: { fixed: ['column'], names: ['column'] },
  AVG: { fixed: ['column'], names: ['column'] },
  VAR: { fixed: ['column'], names: ['column'] },
  STDDEV: { fixed: ['column'], names: ['column'] },
  MIN: { fixed: ['column'], names: ['column'] },
  MAX: { fixed: ['column'], names: ['column'] },
  HISTOGRAM: {
    fixed: ['column', 'number', 'number', 'number'],
    names: ['column', 'from', 'to', 'bins'],
  },
  CORR: { fixed: ['column', 'column'], names: ['column a', 'column b'] },
  REGRESS: { fixed: ['column', 'column'], names: ['y', 'x'], more: 'column' },
  VALUE: { fixed: ['column'], names: ['group column'] },
};

export const ITEM_LABEL: Record<ItemFn, string> = {
  COUNT: 'Count rows',
  SUM: 'Sum',
  AVG: 'Average',
  VAR: 'Variance',
  STDDEV: 'Standard deviation',
  MIN: 'Minimum',
  MAX: 'Maximum',
  HISTOGRAM: 'Histogram',
  CORR: 'Correlation',
  REGRESS: 'Linear regression',
  VALUE: 'Group value',
};

export const OPS: readonly CmpOp[] = ['=', '<>', '<', '<=', '>', '>='];

export const EMPTY_STATE: BuilderState = {
  from: 'ds',
  items: [{ fn: 'COUNT', args: [] }],
  where: [],
  groupBy: [],
};

const POS = { offset: 0, line: 1, column: 1 };
const col = (name: string): ColumnRef => ({ kind: 'column', name, pos: POS });

function guessKind(v: string): ValueKind {
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v.trim())) return 'number';
  if (/^\d{4}-\d{2}-\d{2}$/.test(v.trim())) return 'date';
  return 'string';
}

function literal(value: string, kind: ValueKind): Literal {
  if (kind === 'number') return { kind: 'number', text: value.trim(), pos: POS };
  if (kind === 'date') return { kind: 'date', value: value.trim(), pos: POS };
  return { kind: 'string', value, pos: POS };
}

/** The builder's state as a query AST. `kindOf` tells how a column's values are written. */
export function toQuery(s: BuilderState, kindOf: (column: string) => ValueKind | undefined): Query {
  const select: SelectItem[] = s.items.map((it) => {
    if (it.fn === 'VALUE') return { expr: col(it.args[0] ?? ''), pos: POS };
    const spec = ARGS[it.fn];
    const args = it.args.map((a, i): ColumnRef | Literal =>
      (spec.fixed[i] ?? spec.more) === 'number' ? literal(a, 'number') : col(a),
    );
    const star = it.fn === 'COUNT' && args.length === 0;
    return { expr: { kind: 'aggregate', fn: it.fn, star, args, pos: POS }, pos: POS };
  });
  const conds: BoolExpr[] = s.where.map((c) => ({
    kind: 'cmp',
    op: c.op,
    left: col(c.column),
    right: literal(c.value, kindOf(c.column) ?? guessKind(c.value)),
    pos: POS,
  }));
  return {
    select,
    from: { name: s.from, pos: POS },
    ...(conds.length === 0
      ? {}
      : { where: conds.length === 1 ? conds[0]! : { kind: 'and', args: conds, pos: POS } }),
    groupBy: s.groupBy.map(col),
  };
}

/** Canonical query text of the builder's state. */
export function toText(s: BuilderState, kindOf: (column: string) => ValueKind | undefined): string {
  return canonicalize(toQuery(s, kindOf));
}

export type FromText =
  | { ok: true; state: BuilderState }
  /** The text parses but uses something the builder cannot show. */
  | { ok: false; reason: string };

function literalText(l: Literal): string {
  return l.kind === 'number' ? l.text : l.value;
}

function itemOf(e: ValueExpr): BuilderItem | string {
  if (e.kind === 'column') return { fn: 'VALUE', args: [e.name] };
  if (e.kind !== 'aggregate') return 'arithmetic on results';
  const spec = ARGS[e.fn];
  if (e.star) return { fn: e.fn, args: [] };
  const args: string[] = [];
  for (let i = 0; i < e.args.length; i++) {
    const a = e.args[i]!;
    const want = spec.fixed[i] ?? spec.more;
    if (want === undefined) {
      if (e.fn === 'COUNT' && a.kind === 'column' && e.args.length === 1)
        return { fn: 'COUNT', args: [] };
      return `${e.fn} with ${e.args.length} arguments`;
    }
    if (want === 'column' && a.kind !== 'column') return `a value where ${e.fn} expects a column`;
    if (want === 'number' && a.kind !== 'number') return `${e.fn} bounds that are not numbers`;
    args.push(a.kind === 'column' ? a.name : literalText(a));
  }
  return { fn: e.fn, args };
}

function conditionOf(b: BoolExpr): BuilderCondition | string {
  if (b.kind !== 'cmp') {
    const what = { and: 'nested AND', or: 'OR', not: 'NOT', between: 'BETWEEN', in: 'IN' }[b.kind];
    return `${what} in WHERE`;
  }
  if (b.left.kind !== 'column' || b.right.kind === 'column')
    return 'a condition that is not “column, comparison, value”';
  return { column: b.left.name, op: b.op, value: literalText(b.right) };
}

/** The builder state of a parsed query, or why the builder cannot show it. */
export function fromQuery(q: Query): FromText {
  const items: BuilderItem[] = [];
  for (const it of q.select) {
    if (it.alias !== undefined) return { ok: false, reason: 'names given with AS' };
    const r = itemOf(it.expr);
    if (typeof r === 'string') return { ok: false, reason: r };
    items.push(r);
  }
  const where: BuilderCondition[] = [];
  if (q.where) {
    const parts = q.where.kind === 'and' ? q.where.args : [q.where];
    for (const p of parts) {
      const c = conditionOf(p);
      if (typeof c === 'string') return { ok: false, reason: c };
      where.push(c);
    }
  }
  return {
    ok: true,
    state: { from: q.from.name, items, where, groupBy: q.groupBy.map((c) => c.name) },
  };
}

/** Parses `text` (throws QueryError with a position on a syntax error) and maps it to the builder. */
export function fromText(text: string): FromText {
  return fromQuery(parse(text));
}
