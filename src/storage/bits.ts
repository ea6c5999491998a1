/**
 * Bit-decomposed copies of columns: for a column and public (lo, bits), the bits of x − lo, each a
 * 0/1 column of field elements stored (and secret-shared) like any column. Comparisons with
 * constants on such a column run the query layer's bit network (src/query/bitcmp.ts) instead of
 * generating random bits inside MPC. Computed where the plaintext already is: the upload worker.
 */
import { toField } from '../mpc/index';
import { FIELD_P } from './store';
import { StorageError } from './errors';

/** Which columns to decompose: lo and bits as the query layer resolves them from the schema. */
export interface BitSpec {
  name: string;
  lo: bigint;
  bits: number;
}

/** Storage name of bit `j` of a column (not a query identifier, so it never meets a real name). */
export function bitColumnName(column: string, j: number): string {
  return `${column}~bit${j}`;
}

/** Whether a stored column is one of the bit columns (not a column of the published schema). */
export function isBitColumnName(name: string): boolean {
  return /~bit\d+$/.test(name);
}

/**
 * The bit columns of `columns` per `specs`, least significant bit first. A spec whose names would
 * collide with an existing column is skipped; a value outside [lo, lo + 2^bits) is an error naming
 * the column and row (never the value).
 */
export function bitDecompose(
  columns: readonly { name: string; values: BigUint64Array }[],
  specs: readonly BitSpec[],
): { name: string; values: BigUint64Array }[] {
  const taken = new Set(columns.map((c) => c.name));
  const out: { name: string; values: BigUint64Array }[] = [];
  for (const spec of specs) {
    const col = columns.find((c) => c.name === spec.name);
    if (!col || spec.bits < 1 || spec.bits > 31) continue;
    const names = Array.from({ length: spec.bits }, (_, j) => bitColumnName(spec.name, j));
    if (names.some((n) => taken.has(n))) continue;
    const lo = toField(spec.lo);
    const width = BigInt(spec.bits);
    const shifted = new Uint32Array(col.values.length);
    for (let i = 0; i < col.values.length; i++) {
      const d = (col.values[i]! + FIELD_P - lo) % FIELD_P;
      if (d >> width !== 0n)
        throw new StorageError(
          'STORE_BAD_INPUT',
          `column ${spec.name}: row ${i + 1} is outside the bounds of its bit decomposition`,
        );
      shifted[i] = Number(d);
    }
    names.forEach((name, j) => {
      const values = new BigUint64Array(shifted.length);
      for (let i = 0; i < shifted.length; i++) values[i] = (shifted[i]! >>> j) & 1 ? 1n : 0n;
      out.push({ name, values });
    });
    shifted.fill(0);
  }
  return out;
}
