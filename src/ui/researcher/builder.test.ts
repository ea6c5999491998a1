import { describe, expect, it } from 'vitest';
import { QueryError } from '../../query/errors';
import { EMPTY_STATE, fromText, toText, type BuilderState, type ValueKind } from './builder';
import { resultToCsv } from './resultCsv';

const kinds: Record<string, ValueKind> = {
  age: 'number',
  bmi: 'number',
  sex: 'string',
  admitted: 'date',
};
const kindOf = (c: string) => kinds[c];

describe('query builder ↔ text', () => {
  it('prints the builder state as canonical text', () => {
    const s: BuilderState = {
      from: 'ds',
      items: [
        { fn: 'VALUE', args: ['sex'] },
        { fn: 'COUNT', args: [] },
        { fn: 'AVG', args: ['bmi'] },
        { fn: 'HISTOGRAM', args: ['age', '0', '100', '10'] },
      ],
      where: [
        { column: 'age', op: '>=', value: '060' },
        { column: 'sex', op: '=', value: "O'Neil" },
        { column: 'admitted', op: '<', value: '2025-01-01' },
      ],
      groupBy: ['sex'],
    };
    expect(toText(s, kindOf)).toBe(
      "SELECT sex, COUNT(*), AVG(bmi), HISTOGRAM(age, 0, 100, 10) FROM ds WHERE age >= 60 AND sex = 'O''Neil' AND admitted < DATE '2025-01-01' GROUP BY sex",
    );
    expect(toText(EMPTY_STATE, kindOf)).toBe('SELECT COUNT(*) FROM ds');
  });

  it('reads text back into the builder, and round-trips', () => {
    const text =
      "select count(*), regress(bmi, age, systolic_bp) from patients where age > 30 and sex <> 'F' group by sex";
    const r = fromText(text);
    expect(r).toEqual({
      ok: true,
      state: {
        from: 'patients',
        items: [
          { fn: 'COUNT', args: [] },
          { fn: 'REGRESS', args: ['bmi', 'age', 'systolic_bp'] },
        ],
        where: [
          { column: 'age', op: '>', value: '30' },
          { column: 'sex', op: '<>', value: 'F' },
        ],
        groupBy: ['sex'],
      },
    });
    if (!r.ok) throw new Error('unreachable');
    expect(toText(r.state, kindOf)).toBe(
      "SELECT COUNT(*), REGRESS(bmi, age, systolic_bp) FROM patients WHERE age > 30 AND sex <> 'F' GROUP BY sex",
    );
  });

  it('says why a query stays text-only', () => {
    expect(fromText('SELECT COUNT(*) FROM ds WHERE age > 1 OR age < 0')).toEqual({
      ok: false,
      reason: 'OR in WHERE',
    });
    expect(fromText('SELECT SUM(bmi) / COUNT(*) FROM ds')).toEqual({
      ok: false,
      reason: 'arithmetic on results',
    });
    expect(fromText('SELECT COUNT(*) AS n FROM ds')).toEqual({
      ok: false,
      reason: 'names given with AS',
    });
    expect(fromText('SELECT COUNT(*) FROM ds WHERE age BETWEEN 1 AND 5')).toEqual({
      ok: false,
      reason: 'BETWEEN in WHERE',
    });
  });

  it('throws a QueryError with the position of a syntax error', () => {
    try {
      fromText('SELECT COUNT(*) FROM ds WHERE');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QueryError);
      expect((e as QueryError).pos?.column).toBe(30);
    }
  });
});

describe('result CSV export', () => {
  it('writes groups, expanded arrays, suppression and safe text cells', () => {
    const csv = resultToCsv({
      hash: 'h',
      canonical: 'c',
      labels: ['COUNT(*)', 'HISTOGRAM(age, 0, 100, 2)'],
      groupBy: ['sex'],
      rows: [
        { key: ['F'], suppressed: false, values: [12, [5, 7]] },
        { key: ['=cmd'], suppressed: true, values: [null, null] },
        { key: ['a,b'], suppressed: false, values: [3, [1, null]] },
      ],
    });
    expect(csv).toBe(
      [
        'sex,COUNT(*),"HISTOGRAM(age, 0, 100, 2) [0]","HISTOGRAM(age, 0, 100, 2) [1]",suppressed',
        'F,12,5,7,false',
        "'=cmd,,,,true",
        '"a,b",3,1,,false',
        '',
      ].join('\r\n'),
    );
  });
});
