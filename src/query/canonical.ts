/**
 * Canonical text of a query and its hash. Two texts that parse to the same AST have the same
 * canonical form: keywords and function names upper-case, single spaces, no comments, minimal
 * parentheses, `!=` written `<>`, numbers without redundant zeros, identifiers quoted only when
 * needed. The chain records `queryHash` (sha256 of the UTF-8 canonical text, hex).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { BoolExpr, Literal, Operand, Query, ValueExpr } from './ast';
import { KEYWORDS } from './lexer';
import { parse } from './parser';

/** `007.50` → `7.5`, `-0` → `0`, `.5` → `0.5`. Input is a lexed number, optionally with a leading '-'. */
export function canonicalNumber(text: string): string {
  let neg = text.startsWith('-');
  let t = neg ? text.slice(1) : text;
  let [int = '', frac = ''] = t.split('.');
  int = int.replace(/^0+/, '') || '0';
  frac = frac.replace(/0+$/, '');
  t = frac ? `${int}.${frac}` : int;
  if (t === '0') neg = false;
  return neg ? `-${t}` : t;
}

function ident(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name.toUpperCase())) return name;
  if (/^0[xX][0-9a-fA-F]+$/.test(name)) return name.toLowerCase();
  return `"${name.replace(/"/g, '""')}"`;
}

function str(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function literal(l: Literal): string {
  switch (l.kind) {
    case 'number':
      return canonicalNumber(l.text);
    case 'string':
      return str(l.value);
    case 'date':
      return `DATE ${str(l.value)}`;
  }
}

function operand(o: Operand): string {
  return o.kind === 'column' ? ident(o.name) : literal(o);
}

const PREC = { '+': 1, '-': 1, '*': 2, '/': 2 } as const;

function value(e: ValueExpr, parentPrec = 0, rightSide = false): string {
  switch (e.kind) {
    case 'aggregate':
      return `${e.fn}(${e.star ? '*' : e.args.map((a) => (a.kind === 'column' ? ident(a.name) : literal(a))).join(', ')})`;
    case 'column':
      return ident(e.name);
    case 'number':
      return canonicalNumber(e.text);
    case 'neg': {
      const inner = value(e.arg, 3);
      // `--` would start a comment: parenthesise a negative operand.
      return inner.startsWith('-') ? `-(${inner})` : `-${inner}`;
    }
    case 'arith': {
      const p = PREC[e.op];
      const s = `${value(e.left, p)} ${e.op} ${value(e.right, p, true)}`;
      // Left-associative: a right operand of equal precedence needs parentheses.
      return p < parentPrec || (rightSide && p === parentPrec) ? `(${s})` : s;
    }
  }
}

/** Precedence: OR 1, AND 2, NOT 3, predicates 4. */
function bool(e: BoolExpr, parentPrec = 0): string {
  switch (e.kind) {
    case 'or': {
      const s = e.args.map((a) => bool(a, 1)).join(' OR ');
      return parentPrec > 1 ? `(${s})` : s;
    }
    case 'and': {
      const s = e.args.map((a) => bool(a, 2)).join(' AND ');
      return parentPrec > 2 ? `(${s})` : s;
    }
    case 'not':
      return `NOT ${bool(e.arg, 3)}`;
    case 'cmp':
      return `${operand(e.left)} ${e.op} ${operand(e.right)}`;
    case 'between':
      return `${operand(e.arg)}${e.negated ? ' NOT' : ''} BETWEEN ${operand(e.lo)} AND ${operand(e.hi)}`;
    case 'in':
      return `${operand(e.arg)}${e.negated ? ' NOT' : ''} IN (${e.list.map(operand).join(', ')})`;
  }
}

/** Flattens nested AND/OR of the same kind (`(a AND b) AND c` → `a AND b AND c`). */
function flatten(e: BoolExpr): BoolExpr {
  if (e.kind === 'and' || e.kind === 'or') {
    const args: BoolExpr[] = [];
    for (const a of e.args.map(flatten)) {
      if (a.kind === e.kind) args.push(...a.args);
      else args.push(a);
    }
    return { ...e, args };
  }
  if (e.kind === 'not') return { ...e, arg: flatten(e.arg) };
  return e;
}

/** Canonical text of one SELECT expression (used as the default column label). */
export function canonicalValue(e: ValueExpr): string {
  return value(e);
}

export function canonicalize(q: Query): string {
  const items = q.select.map(
    (it) => value(it.expr) + (it.alias !== undefined ? ` AS ${ident(it.alias)}` : ''),
  );
  let s = `SELECT ${items.join(', ')} FROM ${ident(q.from.name)}`;
  if (q.where) s += ` WHERE ${bool(flatten(q.where))}`;
  if (q.groupBy.length) s += ` GROUP BY ${q.groupBy.map((c) => ident(c.name)).join(', ')}`;
  return s;
}

export function hashCanonical(canonical: string): string {
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

/** Parses, canonicalises and hashes query text. */
export function queryHash(text: string): { canonical: string; hash: string } {
  const canonical = canonicalize(parse(text));
  return { canonical, hash: hashCanonical(canonical) };
}
