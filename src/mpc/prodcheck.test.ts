/**
 * The fold algebra of the compressed product check, in the clear: a true inner-product claim stays
 * true through a fold at any point, and a false one (c off by any δ ≠ 0) becomes false at a random
 * point. Cross-checked against BigInt arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { Field, P } from './field';
import { mod, mulRef } from './field-ref';
import { FOLD_FINAL_LEN, FOLDS, foldAt, foldSchedule, foldProducts } from './prodcheck';
import { seededRng } from './rng';
import { lagrangeWeights } from './shamir';

const F = new Field();
const rng = seededRng(7);
const dotRef = (a: BigUint64Array, b: BigUint64Array) =>
  a.reduce((acc, x, i) => mod(acc + mulRef(x, b[i]!)), 0n);

describe('compressed product check: one fold', () => {
  it.each([1, 2, 7, 8, 9, 63, 64, 65, 1000])('length %i: a true claim stays true', (len) => {
    const a = F.random(len, rng);
    const b = F.random(len, rng);
    const c = dotRef(a, b);
    const K = 8;
    const st = foldProducts(F, a, b, K);
    expect(st.aParts).toHaveLength(K);
    expect(st.aParts[0]!.length).toBe(Math.max(1, Math.ceil(len / K)));
    for (const r of [0n, 3n, P - 1n, F.randomScalar(rng)]) {
      const next = foldAt(F, st, st.local, c, r);
      expect(next.a.length).toBe(st.aParts[0]!.length);
      expect(dotRef(next.a, next.b)).toBe(next.c);
    }
  });

  it.each([1, 9, 1000])('length %i: a false claim becomes false at a random point', (len) => {
    const a = F.random(len, rng);
    const b = F.random(len, rng);
    for (const delta of [1n, P - 1n, F.randomScalar(rng) || 1n]) {
      const c = mod(dotRef(a, b) + delta);
      const st = foldProducts(F, a, b, 5);
      const next = foldAt(F, st, st.local, c, F.randomScalar(rng));
      expect(dotRef(next.a, next.b)).not.toBe(next.c);
    }
  });

  it.each([1, 8, 9, 1000, 100_000, 3_000_000])(
    'length %i: the FOLDS folds of foldSchedule leave at most FOLD_FINAL_LEN elements, claim intact',
    (len) => {
      let a = F.random(len, rng);
      let b = F.random(len, rng);
      let c = dotRef(a, b);
      const ks = foldSchedule(len);
      expect(ks).toHaveLength(FOLDS);
      for (const K of ks) {
        expect(K).toBeGreaterThanOrEqual(2);
        const st = foldProducts(F, a, b, K);
        ({ a, b, c } = foldAt(F, st, st.local, c, F.randomScalar(rng)));
      }
      expect(a.length).toBeLessThanOrEqual(FOLD_FINAL_LEN);
      expect(dotRef(a, b)).toBe(c);
    },
    30_000,
  );

  it('schedules: few parts first, many last; too many products is an error', () => {
    expect(foldSchedule(1)).toEqual([2, 2, 2, 2]);
    expect(foldSchedule(500_000)).toEqual([4, 8, 45, 44]);
    expect(foldSchedule(1_000_000)).toEqual([4, 8, 63, 63]);
    expect(() => foldSchedule(3e9)).toThrow(/exceed/);
  });

  it.each([
    [1, 5],
    [2, 5],
    [3, 9000],
    [8, 5],
    [19, 20_000],
  ])('Field.extrapolate by differences equals Lagrange (K = %i, length %i)', (k, len) => {
    const vals = Array.from({ length: k }, () => F.random(len, rng));
    const xs = Array.from({ length: k }, (_, i) => BigInt(i + 1));
    const got = F.extrapolate(vals, k + 2);
    got.forEach((v, j) => {
      const lam = lagrangeWeights(xs, BigInt(k + 1 + j));
      const want = F.linComb(vals, lam);
      expect(Array.from(v)).toEqual(Array.from(want));
    });
  });

  it('Lagrange coefficients through 0, 1, 2 interpolate a quadratic', () => {
    const q = (x: bigint) => mod(5n + 7n * x + 11n * x * x);
    const r = F.randomScalar(rng);
    const lam = lagrangeWeights([0n, 1n, 2n], r);
    expect(mod(mulRef(lam[0]!, q(0n)) + mulRef(lam[1]!, q(1n)) + mulRef(lam[2]!, q(2n)))).toBe(
      q(r),
    );
  });

  it('wrong lengths are parameter errors', () => {
    expect(() => foldProducts(F, F.random(3, rng), F.random(4, rng), 2)).toThrow(/lengths 3 vs 4/);
    const st = foldProducts(F, F.random(3, rng), F.random(3, rng), 2);
    expect(() => foldAt(F, st, new BigUint64Array(3), 0n, 1n)).toThrow(/3 reduced values/);
  });
});
