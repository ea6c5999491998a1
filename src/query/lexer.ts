/**
 * Lexer for the query language. Linear time, no regular expressions over untrusted text, and
 * limits checked as it goes (length first, then tokens, identifier, string and number sizes).
 *
 * Outside string literals only printable ASCII and ASCII whitespace are allowed: that rules out
 * look-alike letters, bidirectional overrides and invisible characters in identifiers. String
 * literals may hold any Unicode except controls, bidi overrides, unpaired surrogates and
 * noncharacters; they are normalised to NFC.
 */
import { QueryError, quoteForMessage, type Pos } from './errors';
import {
  MAX_IDENTIFIER_LENGTH,
  MAX_NUMBER_DIGITS,
  MAX_QUERY_LENGTH,
  MAX_STRING_LENGTH,
  MAX_TOKENS,
} from './limits';

export type TokenKind = 'keyword' | 'ident' | 'number' | 'string' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Keywords upper-cased; identifiers as written (without quotes); numbers as written; strings unescaped (NFC). */
  value: string;
  /** True for a double-quoted identifier (never a keyword). */
  quoted?: boolean;
  pos: Pos;
  end: number;
}

export const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'BY',
  'AND',
  'OR',
  'NOT',
  'BETWEEN',
  'IN',
  'AS',
  'DATE',
]);

const OPERATORS = ['<>', '!=', '<=', '>=', '=', '<', '>', '(', ')', ',', '*', '+', '-', '/', ';'];

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** Characters never allowed, even inside strings. */
function forbiddenInString(cp: number): string | undefined {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 'a control character';
  if (
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x061c
  )
    return 'a bidirectional text control';
  if (cp >= 0xd800 && cp <= 0xdfff) return 'an unpaired surrogate';
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return 'a Unicode noncharacter';
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || cp === 0x2060 || cp === 0xfeff)
    return 'an invisible character';
  return undefined;
}

function describeChar(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp >= 0x21 && cp <= 0x7e) return `"${String.fromCodePoint(cp)}" (${hex})`;
  return hex;
}

export function lex(text: string): Token[] {
  if (typeof text !== 'string')
    throw new QueryError('BAD_INPUT', `query must be a string, got ${typeof text}`);
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QueryError(
      'QUERY_TOO_LONG',
      `query is ${text.length} characters long; the limit is ${MAX_QUERY_LENGTH}`,
      { offset: 0, line: 1, column: 1 },
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let column = 1;
  const here = (): Pos => ({ offset: i, line, column });
  /** Advances over one code point (the caller knows it is not a newline unless it says so). */
  const advance = (): number => {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (cp === 10) {
      line++;
      column = 1;
    } else {
      column++;
    }
    return cp;
  };
  const push = (t: Token) => {
    if (tokens.length >= MAX_TOKENS) {
      throw new QueryError('TOO_MANY_TOKENS', `query has more than ${MAX_TOKENS} tokens`, t.pos);
    }
    tokens.push(t);
  };

  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      advance();
      continue;
    }
    // -- comment to end of line
    if (c === 45 && text.charCodeAt(i + 1) === 45) {
      while (i < text.length && text.charCodeAt(i) !== 10) {
        const pos = here();
        const cp = advance();
        const bad = forbiddenInString(cp);
        if (bad && cp !== 9 && cp !== 13)
          throw new QueryError(
            'BAD_CHARACTER',
            `comment contains ${bad} (${describeChar(cp)})`,
            pos,
          );
      }
      continue;
    }
    const pos = here();
    if (isIdentStart(c)) {
      const start = i;
      while (i < text.length && isIdentPart(text.charCodeAt(i))) advance();
      const word = text.slice(start, i);
      if (word.length > MAX_IDENTIFIER_LENGTH) {
        throw new QueryError(
          'BAD_IDENTIFIER',
          `identifier is ${word.length} characters long; the limit is ${MAX_IDENTIFIER_LENGTH}`,
          pos,
        );
      }
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) push({ kind: 'keyword', value: upper, pos, end: i });
      else push({ kind: 'ident', value: word, pos, end: i });
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      const start = i;
      // Hexadecimal dataset ids such as 0x1f2e... are identifiers.
      if (c === 48 && (text.charCodeAt(i + 1) === 120 || text.charCodeAt(i + 1) === 88)) {
        advance();
        advance();
        while (i < text.length && isIdentPart(text.charCodeAt(i))) advance();
        const word = text.slice(start, i);
        if (!/^0[xX][0-9a-fA-F]+$/.test(word) || word.length > MAX_IDENTIFIER_LENGTH) {
          throw new QueryError(
            'BAD_IDENTIFIER',
            `malformed hexadecimal id ${quoteForMessage(word)}`,
            pos,
          );
        }
        push({ kind: 'ident', value: word, pos, end: i });
        continue;
      }
      let digits = 0;
      let dots = 0;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (isDigit(d)) digits++;
        else if (d === 46) dots++;
        else break;
        advance();
      }
      const word = text.slice(start, i);
      if (i < text.length && isIdentPart(text.charCodeAt(i))) {
        throw new QueryError(
          'BAD_NUMBER',
          `malformed number: ${quoteForMessage(word + text.slice(i, i + 8))} (exponents and suffixes are not supported)`,
          pos,
        );
      }
      if (dots > 1 || word.endsWith('.'))
        throw new QueryError('BAD_NUMBER', `malformed number ${quoteForMessage(word)}`, pos);
      if (digits > MAX_NUMBER_DIGITS) {
        throw new QueryError(
          'BAD_NUMBER',
          `number has ${digits} digits; the limit is ${MAX_NUMBER_DIGITS}`,
          pos,
        );
      }
      push({ kind: 'number', value: word, pos, end: i });
      continue;
    }
    if (c === 39 || c === 34) {
      // 'string literal' or "quoted identifier"; the quote is doubled to escape it.
      const quote = c;
      advance();
      let out = '';
      let count = 0;
      for (;;) {
        if (i >= text.length) {
          throw new QueryError(
            'UNTERMINATED_STRING',
            quote === 39
              ? "string literal is not closed (missing ')"
              : 'quoted identifier is not closed (missing ")',
            pos,
          );
        }
        const cpos = here();
        if (text.charCodeAt(i) === quote) {
          advance();
          if (text.charCodeAt(i) === quote) {
            advance();
            out += String.fromCharCode(quote);
            count++;
            continue;
          }
          break;
        }
        const cu = text.charCodeAt(i);
        if (cu >= 0xd800 && cu <= 0xdbff) {
          const next = text.charCodeAt(i + 1);
          if (!(next >= 0xdc00 && next <= 0xdfff)) {
            throw new QueryError('BAD_STRING', 'string contains an unpaired surrogate', cpos);
          }
        }
        const cp = advance();
        const bad = forbiddenInString(cp);
        if (bad)
          throw new QueryError('BAD_STRING', `string contains ${bad} (${describeChar(cp)})`, cpos);
        out += String.fromCodePoint(cp);
        count++;
        const limit = quote === 39 ? MAX_STRING_LENGTH : MAX_IDENTIFIER_LENGTH;
        if (count > limit) {
          throw new QueryError(
            quote === 39 ? 'BAD_STRING' : 'BAD_IDENTIFIER',
            `${quote === 39 ? 'string literal' : 'quoted identifier'} is longer than ${limit} characters`,
            pos,
          );
        }
      }
      const value = out.normalize('NFC');
      if (quote === 34) {
        if (value.length === 0)
          throw new QueryError('BAD_IDENTIFIER', 'empty quoted identifier', pos);
        push({ kind: 'ident', value, quoted: true, pos, end: i });
      } else {
        push({ kind: 'string', value, pos, end: i });
      }
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      for (let k = 0; k < op.length; k++) advance();
      push({ kind: 'op', value: op === '!=' ? '<>' : op, pos, end: i });
      continue;
    }
    const cp = text.codePointAt(i)!;
    let hint = '';
    if (cp > 0x7e) hint = ': only ASCII is allowed outside quotes';
    else if (cp === 96) hint = ': use "double quotes" for identifiers';
    throw new QueryError('BAD_CHARACTER', `unexpected character ${describeChar(cp)}${hint}`, pos);
  }
  tokens.push({ kind: 'eof', value: '', pos: here(), end: i });
  return tokens;
}
