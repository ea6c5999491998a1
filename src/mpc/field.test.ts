import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Field, P, vecFrom, fromFieldSigned } from './field';
import { addRef, invRef, mulRef, polyEvalRef, powRef, subRef } from './field-ref';
import { seededRng } from './rng';

const F = new Field();
const EDGE = [
  0n,
  1n,
  2n,
  P - 1n,
  P - 2n,
  (1n << 32n) - 1n,
  1n << 32n,
  (1n << 60n) + 12345n,
  P >> 1n,
];
const elem = fc.oneof(fc.bigInt({ min: 0n, max: P - 1n }), fc.constantFrom(...EDGE));
const vecArb = (n: number) => fc.array(elem, { minLength: n, maxLength: n });
const V = (xs: bigint[]) => BigUint64Array.from(xs);

describe('Field kernels agree with the BigInt reference', () => {
  it('add/sub/mul/mulAdd/mulSub on all edge pairs', () => {
    const a: bigint[] = [];
    const b: bigint[] = [];
    for (const x of EDGE) {
      for (const y of EDGE) {
        a.push(x);
        b.push(y);
      }
    }
    const va = V(a);
    const vb = V(b);
    const add = F.add(va, vb);
    const sub = F.sub(va, vb);
    const mul = F.mul(va, vb);
    const ma = F.mulAdd(va, vb, va);
    const ms = F.mulSub(va, vb, vb);
    for (let i = 0; i < a.length; i++) {
      expect(add[i]).toBe(addRef(a[i]!, b[i]!));
      expect(sub[i]).toBe(subRef(a[i]!, b[i]!));
      expect(mul[i]).toBe(mulRef(a[i]!, b[i]!));
      expect(ma[i]).toBe(addRef(mulRef(a[i]!, b[i]!), a[i]!));
      expect(ms[i]).toBe(subRef(mulRef(a[i]!, b[i]!), b[i]!));
    }
  });

  it('random vectors longer than one chunk (crosses the 8192-element scratch boundary)', () => {
    const n = 20_001;
    const rng = seededRng(7);
    const a = F.random(n, rng);
    const b = F.random(n, rng);
    const mul = F.mul(a, b);
    const ax = F.axpy(a, 123456789n, b);
    for (let i = 0; i < n; i += 97) {
      expect(mul[i]).toBe(mulRef(a[i]!, b[i]!));
      expect(ax[i]).toBe(addRef(mulRef(a[i]!, 123456789n), b[i]!));
    }
    expect(mul[n - 1]).toBe(mulRef(a[n - 1]!, b[n - 1]!));
    let dot = 0n;
    let sum = 0n;
    for (let i = 0; i < n; i++) {
      dot = addRef(dot, mulRef(a[i]!, b[i]!));
      sum = addRef(sum, a[i]!);
    }
    expect(F.dot(a, b)).toBe(dot);
    expect(F.sum(a)).toBe(sum);
  });

  it('property: mul, axpy, affine, dot, horner match the reference', () => {
    fc.assert(
      fc.property(vecArb(9), vecArb(9), elem, elem, (a, b, k, c) => {
        const va = V(a);
        const vb = V(b);
        const mul = F.mul(va, vb);
        const aff = F.affine(va, k, c);
        let dot = 0n;
        let h = 0n;
        for (let i = 0; i < a.length; i++) {
          if (mul[i] !== mulRef(a[i]!, b[i]!)) return false;
          if (aff[i] !== addRef(mulRef(a[i]!, k), c)) return false;
          dot = addRef(dot, mulRef(a[i]!, b[i]!));
          h = addRef(mulRef(h, k), a[i]!);
        }
        return F.dot(va, vb) === dot && F.horner(va, k) === h;
      }),
      { numRuns: 300 },
    );
  });

  it('property: polyEval and linComb match the reference', () => {
    fc.assert(
      fc.property(fc.array(vecArb(5), { minLength: 1, maxLength: 6 }), elem, (cols, x) => {
        const vcols = cols.map(V);
        const pe = F.polyEval(vcols, x);
        const lams = cols.map((_, j) => powRef(x, BigInt(j + 3)));
        const lc = F.linComb(vcols, lams);
        for (let i = 0; i < 5; i++) {
          const coef = cols.map((c) => c[i]!);
          if (pe[i] !== polyEvalRef(coef, x)) return false;
          let s = 0n;
          for (let j = 0; j < cols.length; j++) s = addRef(s, mulRef(lams[j]!, cols[j]![i]!));
          if (lc[i] !== s) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('vandermonde extraction equals the general linear combination', () => {
    const rng = seededRng(21);
    for (const [k, rows] of [
      [3, 2],
      [5, 3],
      [7, 4],
      [1, 1],
    ] as const) {
      const cols = Array.from({ length: k }, () => F.random(9000, rng));
      cols[0]![5] = P - 1n;
      const mat = Array.from({ length: rows }, (_, q) =>
        Array.from({ length: k }, (_, j) => powRef(BigInt(j + 1), BigInt(q))),
      );
      const want = F.linCombMany(cols, mat);
      const got = F.vandermonde(cols, rows);
      for (let q = 0; q < rows; q++) expect(Array.from(got[q]!)).toEqual(Array.from(want[q]!));
      // into one vector, rows back to back
      const out = new BigUint64Array(rows * 9000);
      F.vandermonde(cols, rows, out);
      for (let q = 0; q < rows; q++)
        expect(Array.from(out.subarray(q * 9000, (q + 1) * 9000))).toEqual(Array.from(want[q]!));
    }
    expect(() => F.vandermonde([F.random(3), F.random(3)], 2, new BigUint64Array(5))).toThrow(
      /out has 5 elements, expected 2 × 3/,
    );
    expect(() => F.vandermonde([F.random(2)], 2)).toThrow(/Field.vandermonde/);
    expect(() =>
      F.vandermonde(
        Array.from({ length: 7 }, () => F.random(2)),
        5,
      ),
    ).toThrow(/rows \(1..4\)/);
  });

  it('share generation at the points 1..q (one-pass kernel) matches the reference', () => {
    const rng = seededRng(41);
    for (const q of [1, 3, 5, 7]) {
      const coefs = [F.random(9000, rng), F.random(9000, rng), F.random(9000, rng)];
      coefs[2]![0] = P - 1n;
      const xs = Array.from({ length: q }, (_, i) => BigInt(i + 1));
      const out = F.polyEvalMany(coefs, xs);
      for (const i of [0, 1, 8191, 8192, 8999]) {
        xs.forEach((x, k) =>
          expect(out[k]![i]).toBe(polyEvalRef([coefs[0]![i]!, coefs[1]![i]!, coefs[2]![i]!], x)),
        );
      }
    }
  });

  it('horner on every length 0..13 (quads in four chains and the remainder), edge values, an incoming acc', () => {
    for (let n = 0; n <= 13; n++) {
      const a = V(Array.from({ length: n }, (_, i) => EDGE[(i * 7 + n) % EDGE.length]!));
      for (const rho of [0n, 1n, 2n, P - 1n, (1n << 60n) + 12345n]) {
        for (const acc of [0n, P - 1n]) {
          let want = acc;
          for (let i = 0; i < n; i++) want = addRef(mulRef(want, rho), a[i]!);
          expect(F.horner(a, rho, acc), `n=${n} rho=${rho} acc=${acc}`).toBe(want);
        }
      }
    }
  });

  it('horner4 equals four separate Horner folds', () => {
    const rng = seededRng(31);
    const z = F.random(20_000, rng);
    const rz = F.random(20_000, rng);
    z[0] = P - 1n;
    const [r1, r2] = [F.randomScalar(rng), F.randomScalar(rng)];
    const acc = [5n, 6n, 7n, 8n];
    expect(F.horner4(z, rz, r1, r2, acc)).toEqual([
      F.horner(z, r1, 5n),
      F.horner(rz, r1, 6n),
      F.horner(z, r2, 7n),
      F.horner(rz, r2, 8n),
    ]);
  });

  it('unrolled 3- and 5-column linear combinations on edge values (largest sums)', () => {
    for (const k of [3, 5]) {
      for (const lamEdge of [0n, 1n, P - 1n, P - 2n]) {
        const cols = Array.from({ length: k }, (_, j) =>
          V(EDGE.map((_, i) => EDGE[(i + j) % EDGE.length]!)),
        );
        cols[0]![0] = P - 1n;
        const lams = Array.from({ length: k }, (_, j) => (j === 1 ? 1n : lamEdge));
        const got = F.linComb(cols, lams);
        const allMax = F.linComb(
          Array.from({ length: k }, () => V([P - 1n, 0n, 1n])),
          Array.from({ length: k }, () => P - 1n),
        );
        expect(allMax[0]).toBe(mulRef(BigInt(k), 1n)); // k·(p−1)² = k
        expect(allMax[1]).toBe(0n);
        expect(allMax[2]).toBe(mulRef(BigInt(k), P - 1n));
        for (let i = 0; i < EDGE.length; i++) {
          let want = 0n;
          for (let j = 0; j < k; j++) want = addRef(want, mulRef(lams[j]!, cols[j]![i]!));
          expect(got[i], `k=${k} lam=${lamEdge} i=${i}`).toBe(want);
        }
      }
    }
  });

  it('pow2k on every length 0..9 (four elements per loop and the remainder) and edge values', () => {
    for (let n = 0; n <= 9; n++) {
      const a = V(Array.from({ length: n }, (_, i) => EDGE[(i * 5) % EDGE.length]!));
      for (const k of [0, 1, 2, 59]) {
        const got = F.pow2k(a, k);
        for (let i = 0; i < n; i++) expect(got[i]).toBe(powRef(a[i]!, 1n << BigInt(k)));
      }
    }
  });

  it('pow2k, batchInv, firstInvalid', () => {
    const a = V([2n, 3n, P - 1n, 12345678901234n]);
    const sq = F.pow2k(a, 59);
    for (let i = 0; i < a.length; i++) expect(sq[i]).toBe(powRef(a[i]!, 1n << 59n));
    const big = F.random(10_000, seededRng(3));
    big[0] = 1n;
    const inv = F.batchInv(big);
    for (let i = 0; i < big.length; i += 101) expect(inv[i]).toBe(invRef(big[i]!));
    expect(F.mul(big, inv).every((v) => v === 1n)).toBe(true);
    expect(() => F.batchInv(V([1n, 0n]))).toThrow(/element 1 is zero/);
    expect(F.firstInvalid(V([0n, P - 1n]))).toBe(-1);
    expect(F.firstInvalid(V([0n, P, 5n]))).toBe(1);
    expect(F.firstInvalid(V([(1n << 64n) - 1n]))).toBe(0);
  });

  it('random() gives reduced, varied elements', () => {
    const r = F.random(100_000);
    expect(F.firstInvalid(r)).toBe(-1);
    expect(new Set(r).size).toBe(r.length);
    // the top bit of the 61 should be set about half the time
    let top = 0;
    for (const v of r) if (v >> 60n) top++;
    expect(top).toBeGreaterThan(48_000);
    expect(top).toBeLessThan(52_000);
  });

  it('length and scalar checks name the function', () => {
    expect(() => F.add(V([1n]), V([1n, 2n]))).toThrow(/Field.add: length mismatch 1 vs 2/);
    expect(() => F.affine(V([1n]), P, 0n)).toThrow(/Field.affine: scalar out of range/);
  });

  it('signed encoding round-trips', () => {
    const v = vecFrom([-5, 0, 7, -(2 ** 40)]);
    expect(Array.from(v, fromFieldSigned)).toEqual([-5n, 0n, 7n, -(2n ** 40n)]);
  });
});
