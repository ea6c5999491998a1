/**
 * Reference implementation of the field p = 2^61 - 1 with one BigInt per element.
 * It is slow on purpose (obviously correct); the tests cross-check the WASM kernels against it.
 */
export const P = (1n << 61n) - 1n;

export const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};
export const addRef = (a: bigint, b: bigint): bigint => mod(a + b);
export const subRef = (a: bigint, b: bigint): bigint => mod(a - b);
export const mulRef = (a: bigint, b: bigint): bigint => mod(a * b);
export const negRef = (a: bigint): bigint => mod(-a);

export function powRef(base: bigint, exp: bigint): bigint {
  if (exp < 0n) throw new RangeError(`powRef: negative exponent ${exp}`);
  let r = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

export function invRef(a: bigint): bigint {
  const x = mod(a);
  if (x === 0n) throw new RangeError('invRef: zero has no inverse');
  return powRef(x, P - 2n);
}

/** Evaluates the polynomial with coefficients `c` (c[0] constant term) at x. */
export function polyEvalRef(c: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let j = c.length - 1; j >= 0; j--) acc = mod(acc * x + c[j]!);
  return acc;
}
