import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv, readCsvFile } from '../../src/storage/csv';
import { isStorageError } from '../../src/storage/errors';
import {
  P,
  acceptValidation,
  canonicalSchema,
  decodeSigned,
  describeRowError,
  encodeSigned,
  inferSchema,
  parseDateCell,
  parseDecimalCell,
  schemaHash,
  validateAndEncode,
  type DatasetSchema,
} from '../../src/storage/schema';

const enc = (s: string) => new TextEncoder().encode(s);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isStorageError(e)) return e.message; // "CODE: message"
    throw e;
  }
  return 'no error';
}

const GOOD = `id,age,bmi,sex,diabetic,admitted
p001,64,31.25,F,1,2021-03-04
p002,-3,22.5,M,0,1969-12-31
p003,70,27,F,1,2000-01-01
`;

describe('CSV + schema: known answers', () => {
  it('infers a schema and encodes cells to field elements exactly', () => {
    const csv = parseCsv(enc(`\uFEFF${GOOD}`));
    expect(csv.header).toEqual(['id', 'age', 'bmi', 'sex', 'diabetic', 'admitted']);
    const { schema, columns } = inferSchema(csv);
    expect(schema.columns.map((c) => c.type)).toEqual([
      { kind: 'category', domain: ['p001', 'p002', 'p003'] },
      { kind: 'int' },
      { kind: 'decimal', scale: 2 },
      { kind: 'category', domain: ['F', 'M'] },
      { kind: 'int' },
      { kind: 'date' },
    ]);
    expect(columns[1]!.fit).toBe(1);
    // The owner confirms, skipping the identifier column.
    const confirmed: DatasetSchema = {
      ...schema,
      columns: schema.columns.map((c) => (c.name === 'id' ? { ...c, type: { kind: 'skip' } } : c)),
    };
    const r = validateAndEncode(csv, confirmed);
    expect(r.acceptedRows).toBe(3);
    expect(r.rejected).toEqual([]);
    expect(r.columns.map((c) => c.name)).toEqual(['age', 'bmi', 'sex', 'diabetic', 'admitted']);
    expect([...r.columns[0]!.values]).toEqual([64n, P - 3n, 70n]);
    expect([...r.columns[1]!.values]).toEqual([3125n, 2250n, 2700n]);
    expect([...r.columns[2]!.values]).toEqual([0n, 1n, 0n]);
    // 2021-03-04 = 18690 days; 1969-12-31 = -1; 2000-01-01 = 10957.
    expect([...r.columns[4]!.values]).toEqual([18690n, P - 1n, 10957n]);
    expect(r.columns[0]!.min).toBe(-3);
    expect(r.columns[0]!.max).toBe(70);
    expect(r.schemaHash).toBe(schemaHash(confirmed));
    expect(canonicalSchema(confirmed)).toContain(
      '{"name":"bmi","type":{"kind":"decimal","scale":2}}',
    );
    const acc = acceptValidation(r, { dropRejectedRows: false });
    expect(acc.acceptedRows).toBe(3);
  });

  it('signed encoding round-trips (property) and decimals never round', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 53n - 1n), max: 2n ** 53n - 1n }), (v) => {
        const x = encodeSigned(v);
        expect(x >= 0n && x < P).toBe(true);
        expect(decodeSigned(x)).toBe(v);
      }),
    );
    expect(parseDecimalCell('-0.05', 2)).toEqual({ ok: true, value: -5n });
    expect(parseDecimalCell('.5', 1)).toEqual({ ok: true, value: 5n });
    expect(parseDecimalCell('1.230', 2)).toEqual({ ok: true, value: 123n });
    expect(parseDecimalCell('1.234', 2)).toMatchObject({ ok: false, code: 'TOO_MANY_DECIMALS' });
    expect(parseDateCell('2024-02-29')).toEqual({ ok: true, value: 19782n });
    expect(parseDateCell('2023-02-29')).toMatchObject({ ok: false, code: 'NOT_DATE' });
  });
});

describe('CSV + schema: malformed input gets precise errors and nothing is accepted', () => {
  it('whole-file problems', () => {
    expect(code(() => parseCsv(new Uint8Array(0)))).toMatch(/^CSV_EMPTY/);
    expect(code(() => parseCsv(enc('\n\n  \n')))).toMatch(/^CSV_EMPTY/);
    expect(code(() => parseCsv(enc('a,b\n')))).toMatch(/^CSV_NO_ROWS/);
    const big = new Uint8Array(50 * 1024 * 1024).fill(0x31);
    expect(code(() => parseCsv(big))).toBe(
      'CSV_TOO_LARGE: the file is 50.0 MiB; the limit is 32 MiB — split it into several datasets',
    );
    // Latin-1 "é" (0xE9) in line 3.
    const latin1 = Uint8Array.from([...enc('name,age\nx,1\nJos'), 0xe9, ...enc(',2\n')]);
    expect(code(() => parseCsv(latin1))).toBe(
      'CSV_ENCODING: the file is not valid UTF-8 (first bad byte 0xe9 at byte 16, line 3); save it as UTF-8 CSV',
    );
    expect(code(() => parseCsv(Uint8Array.from([0xff, 0xfe, 0x61, 0x00])))).toMatch(
      /^CSV_ENCODING: the file is UTF-16/,
    );
    expect(code(() => parseCsv(enc('a,b\n1,\u0000\n')))).toMatch(
      /^CSV_ENCODING: the file contains a NUL byte at byte 6 \(line 2\)/,
    );
    expect(code(() => parseCsv(enc('a,a\n1,2\n')))).toMatch(
      /^CSV_HEADER: header columns 1 and 2 have the same name "a"/,
    );
    expect(code(() => parseCsv(enc('a,,c\n1,2,3\n')))).toMatch(
      /^CSV_HEADER: header column 2 has no name/,
    );
    expect(code(() => parseCsv(enc('a,=cmd()\n1,2\n')))).toMatch(
      /^CSV_HEADER: header column 2 starts with a formula character/,
    );
    expect(code(() => parseCsv(enc('a\n1\n2\n3\n'), { maxRows: 2 }))).toMatch(/^CSV_TOO_MANY_ROWS/);
  });

  it('readCsvFile checks the size before reading a single byte', async () => {
    let read = false;
    const huge = {
      size: 50 * 1024 * 1024,
      arrayBuffer: () => ((read = true), Promise.resolve(new ArrayBuffer(0))),
    } as unknown as Blob;
    await expect(readCsvFile(huge)).rejects.toThrow(/^CSV_TOO_LARGE: the file is 50.0 MiB/);
    expect(read).toBe(false);
    await expect(readCsvFile(new Blob([]))).rejects.toMatchObject({ code: 'CSV_EMPTY' });
    const ok = await readCsvFile(new Blob(['a;b\n1;2\n']));
    expect(ok).toMatchObject({
      header: ['a', 'b'],
      delimiter: ';',
      rows: [{ row: 1, cells: ['1', '2'] }],
    });
  });

  it('row-level problems are listed with row, column and reason; no row is lost', () => {
    const text = [
      'age,bmi,sex,when',
      '64,31.25,F,2021-03-04', // row 1 ok
      '65,30,M', // row 2 wrong field count
      'abc,22.5,M,2020-01-01', // row 3 non-numeric in int column
      '70,27.125,F,2020-01-01', // row 4 too many decimals
      '71,27,=HYPERLINK("http://x"),2020-01-01', // row 5 formula injection
      '72,,F,2020-02-30', // row 6 missing value + impossible date
      '',
      '@SUM(A1),20,F,2020-01-01', // row 8 formula in numeric column
      '73,20,X,2020-01-01', // row 9 unknown category
      '1e3,20,F,2020-01-01', // row 10 exponent is not an integer
      '99999999999999999,20,F,2020-01-01', // row 11 out of range
      '74,20,F,2020-01-01', // row 12 ok
    ].join('\r\n');
    const csv = parseCsv(text);
    const schema: DatasetSchema = {
      version: 1,
      columns: [
        { name: 'age', type: { kind: 'int' } },
        { name: 'bmi', type: { kind: 'decimal', scale: 2 } },
        { name: 'sex', type: { kind: 'category', domain: ['F', 'M'] } },
        { name: 'when', type: { kind: 'date' } },
      ],
    };
    const r = validateAndEncode(csv, schema);
    expect(r.rejected.map(describeRowError)).toEqual([
      'row 2: has 3 fields, the header has 4',
      'row 3, column 1 (age): not an integer',
      'row 4, column 2 (bmi): has 3 decimal places, the column keeps 2',
      'row 5, column 3 (sex): starts with "=" (a spreadsheet formula prefix); refused',
      'row 6, column 2 (bmi): empty cell',
      'row 6, column 4 (when): not a real calendar date',
      'row 8, column 1 (age): starts with "@" (a spreadsheet formula prefix); refused',
      "row 9, column 3 (sex): not one of the 2 values of the column's domain",
      'row 10, column 1 (age): not an integer',
      'row 11, column 1 (age): magnitude exceeds 2^53 - 1',
    ]);
    expect(r.acceptedRows).toBe(2);
    expect(r.rejectedRows).toBe(9);
    expect(r.totalRows).toBe(r.acceptedRows + r.rejectedRows);
    expect([...r.acceptedRowNumbers]).toEqual([1, 12]);
    expect([...r.columns[0]!.values]).toEqual([64n, 74n]);
    // Nothing goes further until the owner accepts dropping those rows.
    expect(code(() => acceptValidation(r, { dropRejectedRows: false }))).toMatch(
      /^UPLOAD_NOT_ACCEPTED: 9 rows were rejected \(first: row 2: has 3 fields/,
    );
    expect(acceptValidation(r, { dropRejectedRows: true }).acceptedRows).toBe(2);
  });

  it('a schema that does not match the file, or is invalid, is refused', () => {
    const csv = parseCsv('a,b\n1,2\n');
    expect(
      code(() =>
        validateAndEncode(csv, { version: 1, columns: [{ name: 'a', type: { kind: 'int' } }] }),
      ),
    ).toMatch(/^SCHEMA_MISMATCH/);
    expect(
      code(() =>
        validateAndEncode(csv, {
          version: 1,
          columns: [
            { name: 'a', type: { kind: 'decimal', scale: 12 } },
            { name: 'b', type: { kind: 'int' } },
          ],
        }),
      ),
    ).toMatch(/^SCHEMA_INVALID: column a: scale must be 0..9/);
    expect(
      code(() =>
        validateAndEncode(csv, {
          version: 1,
          columns: [
            { name: 'a', type: { kind: 'skip' } },
            { name: 'b', type: { kind: 'skip' } },
          ],
        }),
      ),
    ).toMatch(/^SCHEMA_INVALID: every column is skipped/);
  });

  it('inference tolerates a few bad cells (they become row errors) and skips identifier-like text', () => {
    const lines = ['age,name'];
    for (let i = 0; i < 100; i++) lines.push(`${20 + (i % 50)},person${i}`);
    lines[50] = 'N/A,person49';
    const csv = parseCsv(lines.join('\n'));
    const inf = inferSchema(csv);
    expect(inf.columns[0]).toMatchObject({ type: { kind: 'int' }, fit: 0.99 });
    expect(inf.columns[1]!.type).toEqual({ kind: 'skip' });
    expect(inf.columns[1]!.note).toMatch(/identifier or free text/);
    const r = validateAndEncode(csv, inf.schema);
    expect(r.rejected).toEqual([
      { row: 50, column: 'age', columnIndex: 1, code: 'NOT_INTEGER', reason: 'not an integer' },
    ]);
  });
});
