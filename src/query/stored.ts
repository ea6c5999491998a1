/**
 * A committee member's stored partition as a query's inputs: the shares the data owner dealt at
 * upload (value columns and the bit columns of x − lo), adopted into a session with one degree
 * check. This is what every node runs before `runPlan`; tests and benchmarks run the same code on
 * shares dealt the same way (`dealStored`).
 */
import {
  cryptoRng,
  Field,
  share,
  toField,
  type Operand,
  type Rng,
  type Session,
  type Vec,
} from '../mpc/index';
import type { ResolvedColumn } from './schema';

/** This member's stored shares of the columns a plan reads, by schema column index. */
export interface StoredInputs {
  columns: readonly { index: number; shares: Vec }[];
  /** Bit columns (least significant first) of the columns stored bit-decomposed. */
  bitColumns?: readonly { index: number; bits: readonly Vec[] }[];
}

/**
 * Adopts stored shares (every party calls it together, with the same columns in the same order):
 * one degree check over all of them, masked by a fresh joint random sharing nobody knows (so the
 * opened random combination reveals nothing, and openings of different queries never combine).
 * No MACs: `runPlan` authenticates the columns it reads as values, and bits enter products only
 * as right operands (see `Operand`). The input vectors are zeroed once copied.
 */
export async function adoptStored(
  s: Session,
  rows: number,
  stored: StoredInputs,
): Promise<{ columns: Map<number, Operand>; bits: Map<number, readonly Operand[]> }> {
  const bitCols = stored.bitColumns ?? [];
  const vectors = stored.columns.length + bitCols.reduce((a, c) => a + c.bits.length, 0);
  const columns = new Map<number, Operand>();
  const bits = new Map<number, readonly Operand[]>();
  if (vectors === 0) return { columns, bits };
  const mask = await s.random(1);
  const cat = new BigUint64Array(rows * vectors + 1);
  let at = 0;
  const place = (v: Vec): number => {
    cat.set(v, at * rows);
    v.fill(0n);
    return at++;
  };
  const colAt = stored.columns.map((c) => ({ index: c.index, at: place(c.shares) }));
  const bitAt = bitCols.map((c) => ({ index: c.index, ats: c.bits.map(place) }));
  cat[rows * vectors] = mask.v[0]!;
  const all = await s.adoptRaw(cat, -1);
  const vec = (j: number) => s.slice(all, j * rows, (j + 1) * rows);
  for (const c of colAt) columns.set(c.index, vec(c.at));
  for (const b of bitAt) bits.set(b.index, b.ats.map(vec));
  return { columns, bits };
}

/**
 * The owner's side, for tests and benchmarks: Shamir shares of `data` (stored integers by schema
 * index) for each of n parties, with the bit columns of x − lo of `bitCols` — as the upload deals
 * them (src/storage/bits.ts decomposes the same way).
 */
export function dealStored(
  F: Field,
  n: number,
  t: number,
  data: readonly (ArrayLike<bigint> | undefined)[],
  cols: readonly ResolvedColumn[],
  bitCols: readonly ResolvedColumn[],
  /** Seeded randomness for reproducible tests; default crypto randomness. */
  rng?: Rng,
): StoredInputs[] {
  const deal = (values: Vec): Vec[] => share(F, values, n, t, rng ?? cryptoRng);
  const perParty: {
    columns: { index: number; shares: Vec }[];
    bitColumns: { index: number; bits: Vec[] }[];
  }[] = Array.from({ length: n }, () => ({ columns: [], bitColumns: [] }));
  for (const c of cols) {
    const x = data[c.index]!;
    const values = new BigUint64Array(x.length);
    for (let i = 0; i < x.length; i++) values[i] = toField(x[i]!);
    deal(values).forEach((sh, p) => perParty[p]!.columns.push({ index: c.index, shares: sh }));
  }
  for (const c of bitCols) {
    const x = data[c.index]!;
    const dealt = Array.from({ length: c.bits }, (_, j) => {
      const b = new BigUint64Array(x.length);
      for (let i = 0; i < x.length; i++) b[i] = ((x[i]! - c.lo) >> BigInt(j)) & 1n;
      return deal(b);
    });
    perParty.forEach((pp, p) =>
      pp.bitColumns.push({ index: c.index, bits: dealt.map((d) => d[p]!) }),
    );
  }
  return perParty;
}
