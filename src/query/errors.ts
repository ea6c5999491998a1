/**
 * Typed, coded errors of the query layer. Every error names what went wrong and where (line and
 * column of the offending token, 1-based, counted in Unicode code points), so the researcher's
 * editor can underline it.
 */

/** A position in the query text. `offset` is in UTF-16 code units (for `String.slice`). */
export interface Pos {
  offset: number;
  line: number;
  column: number;
}

export type QueryErrorCode =
  | 'QUERY_TOO_LONG'
  | 'TOO_MANY_TOKENS'
  | 'TOO_DEEP'
  | 'TOO_MANY_ITEMS'
  | 'BAD_CHARACTER'
  | 'UNTERMINATED_STRING'
  | 'BAD_STRING'
  | 'BAD_NUMBER'
  | 'BAD_IDENTIFIER'
  | 'UNEXPECTED_TOKEN'
  | 'UNEXPECTED_END'
  | 'UNSUPPORTED'
  | 'UNKNOWN_FUNCTION'
  | 'WRONG_ARITY'
  | 'UNKNOWN_DATASET'
  | 'UNKNOWN_COLUMN'
  | 'AMBIGUOUS_COLUMN'
  | 'TYPE_MISMATCH'
  | 'AGGREGATE_OF_CATEGORY'
  | 'BAD_LITERAL'
  | 'NOT_GROUPABLE'
  | 'NOT_GROUPED'
  | 'TOO_MANY_GROUPS'
  | 'OVERFLOW_RISK'
  | 'BAD_SCHEMA'
  | 'POLICY_REFUSED'
  | 'BAD_INPUT';

export class QueryError extends Error {
  override readonly name = 'QueryError';
  readonly code: QueryErrorCode;
  /** Where the problem starts; undefined for errors not tied to the text (schema, policy). */
  readonly pos: Pos | undefined;
  /** The problem without the position prefix, e.g. `unknown column "agee" (did you mean "age"?)`. */
  readonly problem: string;

  constructor(code: QueryErrorCode, problem: string, pos?: Pos, options?: { cause?: unknown }) {
    super(pos ? `line ${pos.line}, column ${pos.column}: ${problem}` : problem, options);
    this.code = code;
    this.pos = pos;
    this.problem = problem;
  }
}

/** Shows a piece of untrusted text in an error message: bounded, escaped, never raw control bytes. */
export function quoteForMessage(s: string, max = 40): string {
  const cps = Array.from(s);
  const shown = cps.slice(0, max).map((c) => {
    const cp = c.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp > 0x7e) {
      return `\\u{${cp.toString(16).toUpperCase()}}`;
    }
    return c === '"' ? '\\"' : c;
  });
  return `"${shown.join('')}${cps.length > max ? '…' : ''}"`;
}
