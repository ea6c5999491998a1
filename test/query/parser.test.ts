import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileQueryText, parse, QueryError, queryHash, limits } from '../../src/query/index';
import { PATIENTS } from './fixtures';

function errorOf(fn: () => unknown): QueryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryError) return e;
    throw e;
  }
  throw new Error('expected a QueryError, got success');
}

/** [query, code, exact message (with position), ] — parse + check against PATIENTS. */
const GARBAGE: [string, string, string][] = [
  ['', 'UNEXPECTED_END', 'line 1, column 1: query ends early: expected SELECT'],
  [
    'SELEC COUNT(*) FROM patients',
    'UNEXPECTED_TOKEN',
    'line 1, column 1: expected SELECT, found "SELEC"',
  ],
  [
    'SELECT * FROM patients',
    'UNSUPPORTED',
    'line 1, column 8: SELECT * would reveal rows: select aggregates such as COUNT(*) or AVG(col)',
  ],
  [
    'SELECT COUNT(*) FROM',
    'UNEXPECTED_END',
    'line 1, column 21: query ends early: expected a dataset name after FROM',
  ],
  ['SELECT COUNT(*)', 'UNEXPECTED_END', 'line 1, column 16: query ends early: expected FROM'],
  [
    'SELECT COUNT(* FROM patients',
    'UNEXPECTED_TOKEN',
    'line 1, column 16: expected ")" to close COUNT(, found FROM',
  ],
  [
    'SELECT SUM(*) FROM patients',
    'UNSUPPORTED',
    'line 1, column 12: SUM(*) is not meaningful: name a column',
  ],
  [
    'SELECT MEDIAN(age) FROM patients',
    'UNKNOWN_FUNCTION',
    'line 1, column 8: unknown function "MEDIAN"; known: COUNT, SUM, AVG, VAR, STDDEV, MIN, MAX, HISTOGRAM, CORR, REGRESS',
  ],
  [
    'SELECT AVG(agee) FROM patients',
    'UNKNOWN_COLUMN',
    'line 1, column 12: unknown column "agee" in dataset "patients" (did you mean "age"?)',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE regoin = 'north'",
    'UNKNOWN_COLUMN',
    'line 1, column 37: unknown column "regoin" in dataset "patients" (did you mean "region"?)',
  ],
  [
    'SELECT AVG(zzzzzz) FROM patients',
    'UNKNOWN_COLUMN',
    'line 1, column 12: unknown column "zzzzzz" in dataset "patients" (columns: age, bmi, sex, region, diabetic, admitted, income, Notes)',
  ],
  [
    'SELECT COUNT(*) FROM people',
    'UNKNOWN_DATASET',
    'line 1, column 22: unknown dataset "people"; this query runs on "patients"',
  ],
  [
    'SELECT AVG(sex) FROM patients',
    'AGGREGATE_OF_CATEGORY',
    'line 1, column 12: AVG(sex): "sex" is a category column; use COUNT(*) with GROUP BY sex instead',
  ],
  [
    'SELECT SUM(admitted) FROM patients',
    'TYPE_MISMATCH',
    'line 1, column 12: SUM(admitted): "admitted" is a date column; only MIN, MAX and HISTOGRAM apply to dates',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE age = 'old'",
    'TYPE_MISMATCH',
    'line 1, column 43: column "age" is integer but is compared with the string "old"',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE sex = 1',
    'TYPE_MISMATCH',
    'line 1, column 43: column "sex" is category but is compared with the number 1',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE sex = 'f'",
    'BAD_LITERAL',
    'line 1, column 43: "f" is not a value of category column "sex" (did you mean \'F\'?)',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE sex < 'F'",
    'TYPE_MISMATCH',
    'line 1, column 37: category column "sex" can only be compared with =, <> or IN (not <)',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE admitted > 2020',
    'TYPE_MISMATCH',
    'line 1, column 48: column "admitted" is date but is compared with the number 2020 (write DATE \'yyyy-mm-dd\')',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE admitted > DATE '2020-02-30'",
    'BAD_LITERAL',
    'line 1, column 48: "2020-02-30" is not a valid date (expected yyyy-mm-dd)',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > bmi',
    'TYPE_MISMATCH',
    'line 1, column 43: cannot compare column "age" (integer) with column "bmi" (decimal(1))',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE 1 = 1',
    'UNSUPPORTED',
    'line 1, column 37: a comparison needs a column on at least one side',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > 60 AND',
    'UNEXPECTED_END',
    "line 1, column 49: query ends early: expected a literal (number, 'string' or DATE 'yyyy-mm-dd')",
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE (age > 60',
    'UNEXPECTED_END',
    'line 1, column 46: query ends early: expected ")" to close the "(" at column 37',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > 60)',
    'UNEXPECTED_TOKEN',
    'line 1, column 45: unbalanced ")": no matching "("',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age + 1 > 60',
    'UNSUPPORTED',
    'line 1, column 41: arithmetic is not supported in WHERE: compare a column with a literal',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE 10 < age < 60',
    'UNSUPPORTED',
    'line 1, column 46: chained comparisons are not supported: use BETWEEN or AND',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE COUNT(*) > 5',
    'UNSUPPORTED',
    'line 1, column 37: aggregates are not allowed in WHERE (COUNT)',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age IN (SELECT age FROM patients)',
    'UNSUPPORTED',
    'line 1, column 45: subqueries are not supported',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age BETWEEN 1',
    'UNEXPECTED_END',
    'line 1, column 50: query ends early: expected AND',
  ],
  [
    'SELECT COUNT(*) FROM patients GROUP BY age',
    'NOT_GROUPABLE',
    'line 1, column 40: GROUP BY needs a category column; "age" is integer (use HISTOGRAM(age, lo, hi, bins) for numeric columns)',
  ],
  [
    'SELECT age, COUNT(*) FROM patients GROUP BY sex',
    'NOT_GROUPED',
    'line 1, column 8: column "age" must appear in GROUP BY or inside an aggregate',
  ],
  [
    'SELECT COUNT(*) FROM patients ORDER BY age',
    'UNSUPPORTED',
    'line 1, column 31: ORDER BY is not supported: results come in group order',
  ],
  [
    'SELECT COUNT(*) FROM patients LIMIT 5',
    'UNSUPPORTED',
    'line 1, column 31: LIMIT is not supported',
  ],
  [
    'SELECT COUNT(*) FROM patients, other',
    'UNSUPPORTED',
    'line 1, column 30: joins are not supported: a query reads one dataset',
  ],
  ['DROP TABLE patients', 'UNSUPPORTED', 'line 1, column 1: only SELECT queries are allowed'],
  [
    "SELECT COUNT(*) FROM patients WHERE name = 'bob",
    'UNTERMINATED_STRING',
    "line 1, column 44: string literal is not closed (missing ')",
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > 1e5',
    'BAD_NUMBER',
    'line 1, column 43: malformed number: "1e5" (exponents and suffixes are not supported)',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > 1.2.3',
    'BAD_NUMBER',
    'line 1, column 43: malformed number "1.2.3"',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE age > 60 # x',
    'BAD_CHARACTER',
    'line 1, column 46: unexpected character "#" (U+0023)',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE аge > 60',
    'BAD_CHARACTER',
    'line 1, column 37: unexpected character U+0430: only ASCII is allowed outside quotes',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE sex = 'F\u202E'",
    'BAD_STRING',
    'line 1, column 45: string contains a bidirectional text control (U+202E)',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE sex = 'F\u0000'",
    'BAD_STRING',
    'line 1, column 45: string contains a control character (U+0000)',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE sex = '\uD800'",
    'BAD_STRING',
    'line 1, column 44: string contains an unpaired surrogate',
  ],
  [
    'SELECT COUNT(*)\nFROM patients\nWHERE `age` > 1',
    'BAD_CHARACTER',
    'line 3, column 7: unexpected character "`" (U+0060): use "double quotes" for identifiers',
  ],
  [
    'SELECT 😀 FROM patients',
    'BAD_CHARACTER',
    'line 1, column 8: unexpected character U+1F600: only ASCII is allowed outside quotes',
  ],
  [
    "SELECT '😀', AVG(agx) FROM patients",
    'UNEXPECTED_TOKEN',
    'line 1, column 8: expected an aggregate such as COUNT(*), SUM(col) or AVG(col), found string "\\u{1F600}"',
  ],
  [
    'SELECT HISTOGRAM(age, 0, 100) FROM patients',
    'WRONG_ARITY',
    'line 1, column 8: HISTOGRAM takes a column, a low bound, a high bound and a bin count, e.g. HISTOGRAM(age, 0, 100, 10), got 3 arguments',
  ],
  [
    'SELECT HISTOGRAM(age, 100, 0, 10) FROM patients',
    'BAD_LITERAL',
    'line 1, column 23: HISTOGRAM low bound must be below the high bound',
  ],
  [
    'SELECT HISTOGRAM(age, 0, 100, 0) FROM patients',
    'BAD_LITERAL',
    'line 1, column 31: HISTOGRAM bin count must be an integer from 1 to 256',
  ],
  [
    'SELECT CORR(age) FROM patients',
    'WRONG_ARITY',
    'line 1, column 8: CORR takes two columns, e.g. CORR(a, b), got 1 argument',
  ],
  [
    'SELECT REGRESS(age) FROM patients',
    'WRONG_ARITY',
    'line 1, column 8: REGRESS takes a response and 1 to 8 regressors, e.g. REGRESS(y, x1, x2), got 1 arguments',
  ],
  [
    'SELECT HISTOGRAM(age, 0, 100, 10) + 1 FROM patients',
    'TYPE_MISMATCH',
    'line 1, column 8: HISTOGRAM returns a list and cannot be used in arithmetic',
  ],
  [
    'SELECT AVG(SUM(age)) FROM patients',
    'UNSUPPORTED',
    'line 1, column 12: aggregates cannot be nested (SUM inside an aggregate)',
  ],
  [
    'SELECT 1 + 2 FROM patients',
    'UNSUPPORTED',
    'line 1, column 10: a SELECT item must contain an aggregate',
  ],
  [
    'SELECT VAR(income) FROM patients',
    'OVERFLOW_RISK',
    'line 1, column 8: the sum of squares of "income" over 100000 rows could exceed the secure field\'s capacity (2^59); narrow the column bounds in the schema',
  ],
  [
    'SELECT COUNT(*) FROM patients GROUP BY sex, region, sex',
    'UNSUPPORTED',
    'line 1, column 40: GROUP BY names a column twice',
  ],
  [
    'SELECT COUNT(*) FROM patients WHERE "Note" = \'a\'',
    'UNKNOWN_COLUMN',
    'line 1, column 37: unknown column "Note" in dataset "patients" (did you mean "Notes"?)',
  ],
  [
    "SELECT COUNT(*) FROM patients WHERE notes = 'b'",
    'BAD_LITERAL',
    'line 1, column 45: "b" is not a value of category column "Notes" (did you mean \'a\'?)',
  ],
];

describe('parser and checker: malformed queries', () => {
  it.each(GARBAGE)('%j → %s', (text, code, message) => {
    const e = errorOf(() => compileQueryText(text, PATIENTS));
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
  });

  it('positions point at the offending token (offset, line, column)', () => {
    const text = 'SELECT COUNT(*)\n  FROM patients\n  WHERE agee > 3';
    const e = errorOf(() => compileQueryText(text, PATIENTS));
    expect(e.pos).toEqual({ offset: text.indexOf('agee'), line: 3, column: 9 });
    expect(e.problem).toBe('unknown column "agee" in dataset "patients" (did you mean "age"?)');
  });
});

describe('hostile input', () => {
  const timed = (fn: () => unknown) => {
    const t0 = performance.now();
    const e = errorOf(fn);
    return { e, ms: performance.now() - t0 };
  };
  it('very long text is refused before lexing', () => {
    const { e, ms } = timed(() =>
      parse(`SELECT COUNT(*) FROM p WHERE ${'a = 1 OR '.repeat(1_000_000)}a = 1`),
    );
    expect(e.code).toBe('QUERY_TOO_LONG');
    expect(ms).toBeLessThan(50);
  });
  it('deep nesting of parentheses gets TOO_DEEP, not a stack overflow', () => {
    const n = 500;
    const { e } = timed(() =>
      parse(`SELECT COUNT(*) FROM p WHERE ${'('.repeat(n)}a = 1${')'.repeat(n)}`),
    );
    expect(e.code).toBe('TOO_DEEP');
    expect(e.message).toBe(
      `line 1, column ${29 + limits.MAX_DEPTH + 1}: nesting is deeper than ${limits.MAX_DEPTH} levels`,
    );
  });
  it('deep NOT chains and unary minus are bounded too', () => {
    expect(
      errorOf(() => parse(`SELECT COUNT(*) FROM p WHERE ${'NOT '.repeat(500)}a = 1`)).code,
    ).toBe('TOO_DEEP');
    expect(
      errorOf(() =>
        parse(`SELECT ${'-'.repeat(1)}${'(-'.repeat(400)}COUNT(*)${')'.repeat(400)} FROM p`),
      ).code,
    ).toBe('TOO_DEEP');
  });
  it('too many tokens', () => {
    const { e, ms } = timed(() =>
      parse(`SELECT COUNT(*) FROM p WHERE a IN (${'1,'.repeat(3000)}1)`),
    );
    expect(e.code).toBe('TOO_MANY_TOKENS');
    expect(ms).toBeLessThan(100);
  });
  it('long identifiers, strings and numbers', () => {
    expect(errorOf(() => parse(`SELECT AVG(${'a'.repeat(200)}) FROM p`)).code).toBe(
      'BAD_IDENTIFIER',
    );
    expect(errorOf(() => parse(`SELECT COUNT(*) FROM p WHERE s = '${'x'.repeat(300)}'`)).code).toBe(
      'BAD_STRING',
    );
    expect(errorOf(() => parse(`SELECT COUNT(*) FROM p WHERE s = ${'9'.repeat(40)}`)).code).toBe(
      'BAD_NUMBER',
    );
  });
  it('random bytes never throw anything but QueryError, quickly', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1_000_000) / 1_000_000;
    const alphabet = [
      'SELECT ',
      'COUNT(*)',
      'FROM ',
      'p ',
      'WHERE ',
      '(',
      ')',
      "'",
      '"',
      ',',
      'AND ',
      'OR ',
      'NOT ',
      '=',
      '<',
      '1',
      '.',
      '-',
      '\u202E',
      'é',
      '\n',
      'IN ',
      'BETWEEN ',
      'GROUP BY ',
      'x',
      'AVG(',
      '*',
    ];
    const t0 = performance.now();
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rnd() * 30);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        compileQueryText(s, PATIENTS);
      } catch (e) {
        if (!(e instanceof QueryError))
          throw new Error(`non-QueryError for ${JSON.stringify(s)}: ${String(e)}`);
        expect(e.message).toMatch(/^line \d+, column \d+: /);
      }
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('canonical form and hash', () => {
  it('equivalent spellings share one canonical form and hash', () => {
    const a = queryHash(
      'select count(*),avg(bmi) from patients where age>=60 and (diabetic=1) group by sex -- comment',
    );
    const b = queryHash(
      'SELECT COUNT( * ) , AVG(bmi)\nFROM patients\nWHERE ((age >= 60.0) AND diabetic = 01)\nGROUP BY sex;',
    );
    expect(a.canonical).toBe(
      'SELECT COUNT(*), AVG(bmi) FROM patients WHERE age >= 60 AND diabetic = 1 GROUP BY sex',
    );
    expect(b).toEqual(a);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('different queries hash differently; != is <>; minimal parentheses are kept', () => {
    const x = queryHash('SELECT COUNT(*) FROM p WHERE a != 1 AND (b = 2 OR c = 3)');
    expect(x.canonical).toBe('SELECT COUNT(*) FROM p WHERE a <> 1 AND (b = 2 OR c = 3)');
    expect(queryHash('SELECT COUNT(*) FROM p WHERE a <> 1 AND b = 2 OR c = 3').hash).not.toBe(
      x.hash,
    );
    expect(queryHash('SELECT SUM(a) - (SUM(b) - SUM(c)) FROM p').canonical).toBe(
      'SELECT SUM(a) - (SUM(b) - SUM(c)) FROM p',
    );
    expect(queryHash('SELECT (SUM(a) - SUM(b)) - SUM(c) FROM p').canonical).toBe(
      'SELECT SUM(a) - SUM(b) - SUM(c) FROM p',
    );
    expect(queryHash('SELECT - -SUM(a) FROM p').canonical).toBe('SELECT -(-SUM(a)) FROM p');
    expect(queryHash('SELECT COUNT(*) FROM "my data" WHERE "select" = \'it\'\'s\'').canonical).toBe(
      'SELECT COUNT(*) FROM "my data" WHERE "select" = \'it\'\'s\'',
    );
  });
  it('known vector: sha256 of the canonical text, checked with node:crypto', () => {
    const { canonical, hash } = queryHash('select count(*) from patients where age > 60');
    expect(canonical).toBe('SELECT COUNT(*) FROM patients WHERE age > 60');
    expect(hash).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
  });
});

describe('checked queries', () => {
  it('labels are aliases or the canonical text of the item; kinds list what the policy sees', () => {
    const q = compileQueryText(
      'select count(*), avg(bmi) as m, sum(age)/count(*), sex from patients where age between 1 and 5 group by sex',
      PATIENTS,
    );
    expect(q.items.map((i) => i.label)).toEqual(['COUNT(*)', 'm', 'SUM(age) / COUNT(*)', 'sex']);
    expect(q.items.map((i) => i.shape)).toEqual(['scalar', 'scalar', 'scalar', 'key']);
    expect(q.kinds).toEqual(['avg', 'count', 'filter', 'group_by', 'sum']);
  });
  it('comparisons are lowered exactly to stored integers (decimals between grid points, bounds folded)', () => {
    const where = (w: string) =>
      compileQueryText(`SELECT COUNT(*) FROM patients WHERE ${w}`, PATIENTS).where;
    // bmi has scale 1: 30.25 lies between 302 and 303 (stored), so bmi > 30.25 ⟺ not (bmi < 303).
    expect(where('bmi > 30.25')).toMatchObject({ kind: 'not', arg: { kind: 'lt', c: 303n } });
    expect(where('bmi <= 30.25')).toMatchObject({ kind: 'lt', c: 303n });
    expect(where('bmi = 30.25')).toEqual({ kind: 'const', value: false });
    expect(where('age < 0')).toEqual({ kind: 'const', value: false });
    expect(where('age <= 500')).toEqual({ kind: 'const', value: true });
    expect(where("admitted >= DATE '2020-01-02'")).toMatchObject({
      kind: 'not',
      arg: { kind: 'lt', c: 18263n },
    });
    expect(where("region IN ('east')")).toMatchObject({
      kind: 'or',
      args: [{ kind: 'eq', c: 2n }],
    });
  });
});
