/**
 * Bit-decomposed storage (bitSpecs in src/app/schema.ts, bitDecompose in src/storage/bits.ts, run
 * by the upload worker): the bit columns an upload stores recompose to
 * x − lo with lo as the query layer resolves it, hold only 0/1, exist exactly for the columns of at
 * most MAX_STORED_BITS bits. (That queries over them give the plaintext answers is checked end to
 * end in e2e/app.spec.ts, through real node tabs.)
 */
import { describe, expect, it } from 'vitest';
import { fromFieldSigned } from '../../src/mpc/index';
import { MAX_STORED_BITS, bitSpecs, publishedSchema } from '../../src/app/schema';
import { bitColumnName, bitDecompose, isBitColumnName } from '../../src/storage/bits';
import { resolveSchema } from '../../src/query/schema';
import { parseCsv } from '../../src/storage/csv';
import { acceptValidation, inferSchema, validateAndEncode } from '../../src/storage/schema';

function dataset(rows: number) {
  let x = 7;
  const r = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
  const lines = ['age,temp,sex,wide'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${Math.floor(r() * 100)},${(-5 + r() * 10).toFixed(1)},${r() < 0.5 ? 'F' : 'M'},${Math.floor(r() * 1e6)}`,
    );
  const csv = parseCsv(lines.join('\n'));
  const report = validateAndEncode(csv, inferSchema(csv).schema);
  return acceptValidation(report, { dropRejectedRows: false });
}

describe('stored bit columns', () => {
  it('recompose to x − lo, are 0/1, and exist only for columns of at most MAX_STORED_BITS bits', () => {
    const data = dataset(300);
    const schema = publishedSchema(data, 'cohort');
    const resolved = resolveSchema(schema);
    const bits = bitDecompose(data.columns, bitSpecs(schema));
    const byName = new Map(bits.map((b) => [b.name, b.values]));
    for (const rc of resolved.columns) {
      const col = data.columns.find((c) => c.name === rc.name)!;
      if (rc.bits > MAX_STORED_BITS) {
        expect(rc.name).toBe('wide');
        expect([...byName.keys()].some((n) => n.startsWith('wide~'))).toBe(false);
        continue;
      }
      for (let i = 0; i < data.acceptedRows; i++) {
        let v = 0n;
        for (let j = 0; j < rc.bits; j++) {
          const b = byName.get(bitColumnName(rc.name, j))![i]!;
          expect(b === 0n || b === 1n).toBe(true);
          v += b << BigInt(j);
        }
        expect(v).toBe(fromFieldSigned(col.values[i]!) - rc.lo);
      }
    }
    // temp is a signed decimal: lo < 0, so x − lo is what the bits hold.
    expect(resolved.columns.find((c) => c.name === 'temp')!.lo).toBeLessThan(0n);
    expect(bits.every((b) => isBitColumnName(b.name))).toBe(true);
    expect(data.columns.some((c) => isBitColumnName(c.name))).toBe(false);
  });

  it('a value outside its bounds is an error naming column and row, not the value', () => {
    const values = BigUint64Array.of(3n, 17n, 5n);
    expect(() =>
      bitDecompose([{ name: 'age', values }], [{ name: 'age', lo: 0n, bits: 4 }]),
    ).toThrow(
      /^STORE_BAD_INPUT: column age: row 2 is outside the bounds of its bit decomposition$/,
    );
    // A spec whose bit names are taken by real columns is skipped, not overwritten.
    const taken = [
      { name: 'age', values },
      { name: bitColumnName('age', 0), values: BigUint64Array.of(9n, 9n, 9n) },
    ];
    expect(bitDecompose(taken, [{ name: 'age', lo: 0n, bits: 5 }])).toEqual([]);
  });
});
