/**
 * Recursive-descent parser. Recursion depth is bounded by MAX_DEPTH (checked on every nested
 * parenthesis, NOT and unary minus), so hostile nesting gets an error, never a stack overflow.
 */
import {
  AGGREGATES,
  type Aggregate,
  type AggregateName,
  type BoolExpr,
  type CmpOp,
  type ColumnRef,
  type Literal,
  type Operand,
  type Query,
  type SelectItem,
  type ValueExpr,
} from './ast';
import { QueryError, quoteForMessage } from './errors';
import { lex, type Token } from './lexer';
import { MAX_DEPTH, MAX_IN_LIST, MAX_PREDICATES, MAX_SELECT_ITEMS } from './limits';

/** SQL words we recognise only to say they are not supported. */
const UNSUPPORTED_WORDS: Record<string, string> = {
  JOIN: 'joins are not supported: a query reads one dataset',
  ORDER: 'ORDER BY is not supported: results come in group order',
  LIMIT: 'LIMIT is not supported',
  HAVING: "HAVING is not supported: small groups are suppressed by the owner's policy",
  UNION: 'UNION is not supported',
  DISTINCT: 'DISTINCT is not supported',
  LIKE: 'LIKE is not supported: compare category columns with = or IN',
  IS: 'IS NULL is not supported: datasets have no missing values',
  NULL: 'NULL is not supported: datasets have no missing values',
  CASE: 'CASE is not supported',
  OFFSET: 'OFFSET is not supported',
  INSERT: 'only SELECT queries are allowed',
  UPDATE: 'only SELECT queries are allowed',
  DELETE: 'only SELECT queries are allowed',
  DROP: 'only SELECT queries are allowed',
  WITH: 'WITH (common table expressions) is not supported',
};

const CMP_OPS = new Set(['=', '<>', '<', '<=', '>', '>=']);

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of query';
    case 'keyword':
      return t.value;
    case 'ident':
      return t.quoted ? `identifier ${quoteForMessage(t.value)}` : `"${t.value}"`;
    case 'number':
      return `number ${t.value}`;
    case 'string':
      return `string ${quoteForMessage(t.value)}`;
    case 'op':
      return `"${t.value}"`;
  }
}

class Parser {
  private i = 0;
  private depth = 0;
  private predicates = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isKw(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'keyword' && t.value === v;
  }
  private isOp(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'op' && t.value === v;
  }
  private fail(expected: string, t: Token = this.peek()): never {
    if (t.kind === 'ident' && !t.quoted && UNSUPPORTED_WORDS[t.value.toUpperCase()]) {
      throw new QueryError('UNSUPPORTED', UNSUPPORTED_WORDS[t.value.toUpperCase()]!, t.pos);
    }
    if (t.kind === 'eof')
      throw new QueryError('UNEXPECTED_END', `query ends early: expected ${expected}`, t.pos);
    throw new QueryError('UNEXPECTED_TOKEN', `expected ${expected}, found ${describe(t)}`, t.pos);
  }
  private expectKw(v: string): Token {
    if (!this.isKw(v)) this.fail(v);
    return this.next();
  }
  private expectOp(v: string, what = `"${v}"`): Token {
    if (!this.isOp(v)) this.fail(what);
    return this.next();
  }
  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) {
      throw new QueryError('TOO_DEEP', `nesting is deeper than ${MAX_DEPTH} levels`, t.pos);
    }
  }
  private leave(): void {
    this.depth--;
  }

  parseQuery(): Query {
    const first = this.peek();
    if (!this.isKw('SELECT')) {
      if (first.kind === 'ident' && UNSUPPORTED_WORDS[first.value.toUpperCase()])
        this.fail('SELECT');
      this.fail('SELECT');
    }
    this.next();
    if (this.isOp('*')) {
      throw new QueryError(
        'UNSUPPORTED',
        'SELECT * would reveal rows: select aggregates such as COUNT(*) or AVG(col)',
        this.peek().pos,
      );
    }
    const select: SelectItem[] = [this.parseSelectItem()];
    while (this.isOp(',')) {
      this.next();
      if (select.length >= MAX_SELECT_ITEMS) {
        throw new QueryError(
          'TOO_MANY_ITEMS',
          `SELECT list has more than ${MAX_SELECT_ITEMS} items`,
          this.peek().pos,
        );
      }
      select.push(this.parseSelectItem());
    }
    this.expectKw('FROM');
    const ft = this.peek();
    if (ft.kind !== 'ident') this.fail('a dataset name after FROM');
    this.next();
    const q: Query = { select, from: { name: ft.value, pos: ft.pos }, groupBy: [] };
    if (this.isOp(','))
      throw new QueryError(
        'UNSUPPORTED',
        'joins are not supported: a query reads one dataset',
        this.peek().pos,
      );
    if (this.isKw('WHERE')) {
      this.next();
      q.where = this.parseOr();
    }
    if (this.isKw('GROUP')) {
      this.next();
      this.expectKw('BY');
      q.groupBy.push(this.parseColumn('a column name after GROUP BY'));
      while (this.isOp(',')) {
        this.next();
        q.groupBy.push(this.parseColumn('a column name'));
      }
    }
    if (this.isOp(';')) this.next();
    const end = this.peek();
    if (end.kind !== 'eof') {
      if (end.kind === 'op' && end.value === ')') {
        throw new QueryError('UNEXPECTED_TOKEN', 'unbalanced ")": no matching "("', end.pos);
      }
      this.fail(
        q.groupBy.length
          ? 'end of query'
          : q.where
            ? 'GROUP BY or end of query'
            : 'WHERE, GROUP BY or end of query',
      );
    }
    return q;
  }

  private parseColumn(expected: string): ColumnRef {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(expected);
    this.next();
    return { kind: 'column', name: t.value, pos: t.pos };
  }

  private parseSelectItem(): SelectItem {
    const pos = this.peek().pos;
    const expr = this.parseAdditive();
    const item: SelectItem = { expr, pos };
    if (this.isKw('AS')) {
      this.next();
      const t = this.peek();
      if (t.kind !== 'ident') this.fail('a name after AS');
      this.next();
      item.alias = t.value;
    }
    return item;
  }

  private parseAdditive(): ValueExpr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      const right = this.parseMultiplicative();
      left = { kind: 'arith', op: t.value as '+' | '-', left, right, pos: t.pos };
    }
    return left;
  }

  private parseMultiplicative(): ValueExpr {
    let left = this.parseFactor();
    while (this.isOp('*') || this.isOp('/')) {
      const t = this.next();
      const right = this.parseFactor();
      left = { kind: 'arith', op: t.value as '*' | '/', left, right, pos: t.pos };
    }
    return left;
  }

  private parseFactor(): ValueExpr {
    const t = this.peek();
    if (t.kind === 'op' && t.value === '-') {
      this.enter(t);
      this.next();
      const arg = this.parseFactor();
      this.leave();
      return { kind: 'neg', arg, pos: t.pos };
    }
    if (t.kind === 'op' && t.value === '(') {
      this.enter(t);
      this.next();
      const e = this.parseAdditive();
      this.expectOp(')', '")" to close the "(" at column ' + t.pos.column);
      this.leave();
      return e;
    }
    if (t.kind === 'number') {
      this.next();
      return { kind: 'number', text: t.value, pos: t.pos };
    }
    if (t.kind === 'ident' && !t.quoted && this.isOp('(', 1)) return this.parseAggregate();
    if (t.kind === 'ident') {
      this.next();
      return { kind: 'column', name: t.value, pos: t.pos };
    }
    if (t.kind === 'op' && t.value === '*') {
      throw new QueryError(
        'UNSUPPORTED',
        'SELECT * would reveal rows: select aggregates such as COUNT(*) or AVG(col)',
        t.pos,
      );
    }
    return this.fail('an aggregate such as COUNT(*), SUM(col) or AVG(col)');
  }

  private parseAggregate(): Aggregate {
    const t = this.next();
    const upper = t.value.toUpperCase();
    if (!(AGGREGATES as readonly string[]).includes(upper)) {
      const known = AGGREGATES.join(', ');
      throw new QueryError(
        'UNKNOWN_FUNCTION',
        `unknown function ${quoteForMessage(t.value)}; known: ${known}`,
        t.pos,
      );
    }
    const fn = upper as AggregateName;
    const open = this.expectOp('(');
    this.enter(open);
    const agg: Aggregate = { kind: 'aggregate', fn, star: false, args: [], pos: t.pos };
    if (this.isOp('*')) {
      const star = this.next();
      if (fn !== 'COUNT')
        throw new QueryError('UNSUPPORTED', `${fn}(*) is not meaningful: name a column`, star.pos);
      agg.star = true;
    } else if (!this.isOp(')')) {
      if (
        this.isKw('DISTINCT') ||
        (this.peek().kind === 'ident' && this.peek().value.toUpperCase() === 'DISTINCT')
      ) {
        throw new QueryError('UNSUPPORTED', 'DISTINCT is not supported', this.peek().pos);
      }
      agg.args.push(this.parseArgument());
      while (this.isOp(',')) {
        this.next();
        if (agg.args.length >= 16)
          throw new QueryError('TOO_MANY_ITEMS', `${fn} has too many arguments`, this.peek().pos);
        agg.args.push(this.parseArgument());
      }
    }
    this.expectOp(')', `")" to close ${fn}(`);
    this.leave();
    return agg;
  }

  private parseArgument(): ColumnRef | Literal {
    const t = this.peek();
    if (t.kind === 'ident' && !t.quoted && this.isOp('(', 1)) {
      throw new QueryError(
        'UNSUPPORTED',
        `aggregates cannot be nested (${t.value.toUpperCase()} inside an aggregate)`,
        t.pos,
      );
    }
    if (t.kind === 'ident') {
      this.next();
      return { kind: 'column', name: t.value, pos: t.pos };
    }
    if (
      t.kind === 'number' ||
      (t.kind === 'op' && t.value === '-') ||
      t.kind === 'string' ||
      this.isKw('DATE')
    ) {
      return this.parseLiteral();
    }
    if (t.kind === 'op' && t.value === '(') {
      throw new QueryError(
        'UNSUPPORTED',
        'aggregate arguments must be a column name or a literal, not an expression',
        t.pos,
      );
    }
    return this.fail('a column name');
  }

  private parseLiteral(): Literal {
    const t = this.peek();
    if (t.kind === 'op' && t.value === '-') {
      this.next();
      const n = this.peek();
      if (n.kind !== 'number') this.fail('a number after "-"');
      this.next();
      return { kind: 'number', text: `-${n.value}`, pos: t.pos };
    }
    if (t.kind === 'number') {
      this.next();
      return { kind: 'number', text: t.value, pos: t.pos };
    }
    if (t.kind === 'string') {
      this.next();
      return { kind: 'string', value: t.value, pos: t.pos };
    }
    if (this.isKw('DATE')) {
      this.next();
      const s = this.peek();
      if (s.kind !== 'string') this.fail("a date string after DATE, e.g. DATE '2020-01-31'");
      this.next();
      return { kind: 'date', value: s.value, pos: t.pos };
    }
    return this.fail("a literal (number, 'string' or DATE 'yyyy-mm-dd')");
  }

  private parseOperand(): Operand {
    const t = this.peek();
    if (t.kind === 'ident') {
      if (!t.quoted && this.isOp('(', 1)) {
        throw new QueryError(
          'UNSUPPORTED',
          `aggregates are not allowed in WHERE (${t.value.toUpperCase()})`,
          t.pos,
        );
      }
      this.next();
      return { kind: 'column', name: t.value, pos: t.pos };
    }
    if (t.kind === 'op' && (t.value === '+' || t.value === '*' || t.value === '/')) {
      return this.fail('a column name or a literal');
    }
    return this.parseLiteral();
  }

  private parseOr(): BoolExpr {
    const first = this.parseAnd();
    if (!this.isKw('OR')) return first;
    const args = [first];
    while (this.isKw('OR')) {
      this.next();
      args.push(this.parseAnd());
    }
    return { kind: 'or', args, pos: first.pos };
  }

  private parseAnd(): BoolExpr {
    const first = this.parseNot();
    if (!this.isKw('AND')) return first;
    const args = [first];
    while (this.isKw('AND')) {
      this.next();
      args.push(this.parseNot());
    }
    return { kind: 'and', args, pos: first.pos };
  }

  private parseNot(): BoolExpr {
    const t = this.peek();
    if (this.isKw('NOT')) {
      this.enter(t);
      this.next();
      const arg = this.parseNot();
      this.leave();
      return { kind: 'not', arg, pos: t.pos };
    }
    return this.parsePredicate();
  }

  private parsePredicate(): BoolExpr {
    const t = this.peek();
    if (t.kind === 'op' && t.value === '(') {
      this.enter(t);
      this.next();
      const e = this.parseOr();
      this.expectOp(')', `")" to close the "(" at column ${t.pos.column}`);
      this.leave();
      return e;
    }
    if (++this.predicates > MAX_PREDICATES) {
      throw new QueryError(
        'TOO_MANY_ITEMS',
        `WHERE has more than ${MAX_PREDICATES} comparisons`,
        t.pos,
      );
    }
    const left = this.parseOperand();
    let negated = false;
    if (this.isKw('NOT') && (this.isKw('BETWEEN', 1) || this.isKw('IN', 1))) {
      this.next();
      negated = true;
    }
    if (this.isKw('BETWEEN')) {
      this.next();
      const lo = this.parseOperand();
      this.expectKw('AND');
      const hi = this.parseOperand();
      return { kind: 'between', negated, arg: left, lo, hi, pos: left.pos };
    }
    if (this.isKw('IN')) {
      this.next();
      const open = this.peek();
      if (this.isOp('(') && this.isKw('SELECT', 1)) {
        throw new QueryError('UNSUPPORTED', 'subqueries are not supported', this.peek(1).pos);
      }
      this.expectOp('(', '"(" after IN');
      const list: Operand[] = [this.parseOperand()];
      while (this.isOp(',')) {
        this.next();
        if (list.length >= MAX_IN_LIST) {
          throw new QueryError(
            'TOO_MANY_ITEMS',
            `IN list has more than ${MAX_IN_LIST} values`,
            this.peek().pos,
          );
        }
        list.push(this.parseOperand());
      }
      this.expectOp(')', `")" to close the IN list opened at column ${open.pos.column}`);
      return { kind: 'in', negated, arg: left, list, pos: left.pos };
    }
    const op = this.peek();
    if (op.kind === 'op' && CMP_OPS.has(op.value)) {
      this.next();
      const right = this.parseOperand();
      const after = this.peek();
      if (after.kind === 'op' && CMP_OPS.has(after.value)) {
        throw new QueryError(
          'UNSUPPORTED',
          'chained comparisons are not supported: use BETWEEN or AND',
          after.pos,
        );
      }
      return { kind: 'cmp', op: op.value as CmpOp, left, right, pos: left.pos };
    }
    if (
      op.kind === 'op' &&
      (op.value === '+' || op.value === '-' || op.value === '*' || op.value === '/')
    ) {
      throw new QueryError(
        'UNSUPPORTED',
        'arithmetic is not supported in WHERE: compare a column with a literal',
        op.pos,
      );
    }
    return this.fail('a comparison (=, <>, <, <=, >, >=, BETWEEN or IN)');
  }
}

/** Parses query text into an AST, or throws a QueryError naming the position and the problem. */
export function parse(text: string): Query {
  return new Parser(lex(text)).parseQuery();
}
