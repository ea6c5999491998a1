import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Field, P } from './field';
import { addRef, mulRef } from './field-ref';
import { seededRng } from './rng';
import {
  berlekampWelch,
  findInconsistent,
  reconstruct,
  robustReconstruct,
  share,
  shareDeg,
} from './shamir';

const F = new Field();
const elem = fc.bigInt({ min: 0n, max: P - 1n });
const nt = fc.constantFrom<[number, number]>([3, 1], [5, 2], [7, 3], [4, 1], [9, 4]);

/** All k-subsets of 0..n-1 (small n). */
function subsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const rec = (start: number, acc: number[]) => {
    if (acc.length === k) return void out.push(acc.slice());
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  return out;
}

describe('Shamir laws', () => {
  it('reconstruct(share(s)) from every subset of t+1 parties', () => {
    fc.assert(
      fc.property(
        nt,
        fc.array(elem, { minLength: 1, maxLength: 8 }),
        fc.integer(),
        ([n, t], secrets, seed) => {
          const s = BigUint64Array.from(secrets);
          const sh = share(F, s, n, t, seededRng(seed));
          for (const sub of subsets(n, t + 1)) {
            const r = reconstruct(
              F,
              sub.map((i) => sh[i]!),
              sub,
            );
            if (Array.from(r).some((v, i) => v !== s[i])) return false;
          }
          return (
            findInconsistent(
              F,
              sh,
              sh.map((_, i) => i),
              t,
            ).length === 0
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is linear: shares of a + k·b reconstruct to a + k·b', () => {
    fc.assert(
      fc.property(nt, elem, elem, elem, fc.integer(), ([n, t], a, b, k, seed) => {
        const rng = seededRng(seed);
        const sa = share(F, BigUint64Array.of(a), n, t, rng);
        const sb = share(F, BigUint64Array.of(b), n, t, rng);
        const sc = sa.map((v, i) => F.axpy(sb[i]!, k, v));
        const parties = Array.from({ length: t + 1 }, (_, i) => n - 1 - i);
        return (
          reconstruct(
            F,
            parties.map((i) => sc[i]!),
            parties,
          )[0] === addRef(a, mulRef(k, b))
        );
      }),
      { numRuns: 100 },
    );
  });

  it('products of shares are a degree-2t sharing of the product', () => {
    const [n, t] = [5, 2];
    const a = BigUint64Array.of(123456789n, P - 1n);
    const b = BigUint64Array.of(987654321n, 2n);
    const sa = share(F, a, n, t);
    const sb = share(F, b, n, t);
    const prod = sa.map((v, i) => F.mul(v, sb[i]!));
    const all = [0, 1, 2, 3, 4];
    expect(Array.from(reconstruct(F, prod, all))).toEqual([
      mulRef(a[0]!, b[0]!),
      mulRef(a[1]!, b[1]!),
    ]);
  });

  it('t shares reveal nothing: a share column is uniform whatever the secret', () => {
    // chi-square on the top 4 bits of party 0's share of 20000 copies of secret 0 and of secret p-1
    for (const secret of [0n, P - 1n]) {
      const shares = share(F, new BigUint64Array(20_000).fill(secret), 5, 2, seededRng(5))[0]!;
      const counts = new Array<number>(16).fill(0);
      for (const v of shares) counts[Number(v >> 57n)]!++;
      const exp = 20_000 / 16;
      const chi = counts.reduce((s, c) => s + (c - exp) ** 2 / exp, 0);
      expect(chi).toBeLessThan(37.7); // 15 degrees of freedom, p = 0.001
    }
  });

  it('rejects t >= n/2 and bad degrees with a message naming the parameters', () => {
    expect(() => share(F, BigUint64Array.of(1n), 4, 2)).toThrow(/0 <= t < n\/2.*t=2 n=4/);
    expect(() => shareDeg(F, BigUint64Array.of(1n), 3, 3)).toThrow(/degree 3 must be in 0..2/);
  });
});

describe('robust reconstruction', () => {
  it('detects any single wrong share when more than t+1 shares are present', () => {
    fc.assert(
      fc.property(
        nt,
        elem,
        fc.integer({ min: 0, max: 8 }),
        fc.bigInt({ min: 1n, max: P - 1n }),
        (nt_, secret, who, delta) => {
          const [n, t] = nt_;
          const bad = who % n;
          const sh = share(F, BigUint64Array.of(secret, secret), n, t);
          sh[bad]![1] = addRef(sh[bad]![1]!, delta);
          return (
            findInconsistent(
              F,
              sh,
              sh.map((_, i) => i),
              t,
            ).join() === '1'
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('corrects up to floor((n-t-1)/2) wrong shares and names their senders', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<[number, number]>([5, 2], [7, 3], [7, 2], [9, 4], [10, 3]),
        elem,
        fc.integer(),
        ([n, t], secret, seed) => {
          const e = Math.floor((n - t - 1) / 2);
          const rng = seededRng(seed);
          const sh = share(F, BigUint64Array.of(secret, 7n), n, t, rng);
          const liars = Array.from({ length: n }, (_, i) => i)
            .sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13))
            .slice(0, e)
            .sort((a, b) => a - b);
          for (const l of liars) sh[l]![0] = addRef(sh[l]![0]!, 1n + BigInt(l));
          const r = robustReconstruct(
            F,
            sh,
            sh.map((_, i) => i),
            t,
          );
          return r.values[0] === secret && r.values[1] === 7n && r.faulty.join() === liars.join();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to guess when errors exceed what it can correct', () => {
    const [n, t] = [5, 2];
    const sh = share(F, BigUint64Array.of(42n), n, t);
    sh[0]![0] = addRef(sh[0]![0]!, 1n);
    sh[3]![0] = addRef(sh[3]![0]!, 9n);
    expect(() => robustReconstruct(F, sh, [0, 1, 2, 3, 4], t)).toThrow(
      /ERR_INCONSISTENT.*element 0/,
    );
  });

  it('Berlekamp–Welch recovers a known polynomial (test vector)', () => {
    // f(x) = 5 + 3x + 2x^2 at x = 1..7 with errors at x = 2 and x = 6
    const f = (x: bigint) => (5n + 3n * x + 2n * x * x) % P;
    const pts = [1n, 2n, 3n, 4n, 5n, 6n, 7n].map((x) => ({ x, y: f(x) }));
    pts[1]!.y += 1000n;
    pts[5]!.y = 0n;
    const r = berlekampWelch(pts, 2);
    expect(r?.coeffs).toEqual([5n, 3n, 2n]);
    expect(r?.errorXs).toEqual([2n, 6n]);
  });
});
