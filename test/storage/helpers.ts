/** Test helpers: a seeded generator of field elements (tests only; product randomness is crypto). */
export const P = (1n << 61n) - 1n;

/** xorshift64* — deterministic, printed seeds make failures reproducible. */
export function seededShares(n: number, seed: number): BigUint64Array {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const M = (1n << 64n) - 1n;
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s >> 12n;
    s ^= (s << 25n) & M;
    s ^= s >> 27n;
    out[i] = (((s * 0x2545f4914f6cdd1dn) & M) >> 3n) % P;
  }
  return out;
}

export const DS1 = 'a1'.repeat(32);
export const DS2 = 'b2'.repeat(32);
