/**
 * Abstract syntax of the query language (see docs/query.md for the grammar). Every node keeps the
 * position of its first token so later stages (type checker, policy) can point at it.
 */
import type { Pos } from './errors';

export interface ColumnRef {
  kind: 'column';
  name: string;
  pos: Pos;
}

/** A literal in WHERE or an aggregate argument. Numbers keep their exact decimal text. */
export type Literal =
  | { kind: 'number'; text: string; pos: Pos }
  | { kind: 'string'; value: string; pos: Pos }
  | { kind: 'date'; value: string; pos: Pos };

export type AggregateName =
  'COUNT' | 'SUM' | 'AVG' | 'VAR' | 'STDDEV' | 'MIN' | 'MAX' | 'HISTOGRAM' | 'CORR' | 'REGRESS';

export const AGGREGATES: readonly AggregateName[] = [
  'COUNT',
  'SUM',
  'AVG',
  'VAR',
  'STDDEV',
  'MIN',
  'MAX',
  'HISTOGRAM',
  'CORR',
  'REGRESS',
];

export interface Aggregate {
  kind: 'aggregate';
  fn: AggregateName;
  /** `COUNT(*)` has `star: true` and no args. */
  star: boolean;
  args: (ColumnRef | Literal)[];
  pos: Pos;
}

export type ValueExpr =
  | Aggregate
  | ColumnRef
  | { kind: 'number'; text: string; pos: Pos }
  | { kind: 'neg'; arg: ValueExpr; pos: Pos }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: ValueExpr; right: ValueExpr; pos: Pos };

export type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type Operand = ColumnRef | Literal;

export type BoolExpr =
  | { kind: 'and'; args: BoolExpr[]; pos: Pos }
  | { kind: 'or'; args: BoolExpr[]; pos: Pos }
  | { kind: 'not'; arg: BoolExpr; pos: Pos }
  | { kind: 'cmp'; op: CmpOp; left: Operand; right: Operand; pos: Pos }
  | { kind: 'between'; negated: boolean; arg: Operand; lo: Operand; hi: Operand; pos: Pos }
  | { kind: 'in'; negated: boolean; arg: Operand; list: Operand[]; pos: Pos };

export interface SelectItem {
  expr: ValueExpr;
  alias?: string;
  pos: Pos;
}

export interface Query {
  select: SelectItem[];
  from: { name: string; pos: Pos };
  where?: BoolExpr;
  groupBy: ColumnRef[];
}
