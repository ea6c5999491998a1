/**
 * The local algebra of the compressed product check (`Session.verify` for products made without
 * MACs: `mulBare`, `dotBare`). A claim is an inner product ⟨a, b⟩ = c over shared vectors; a batch
 * of products z_i = x_i·y_i becomes one claim with public random ρ: a = ρ∘x, b = y, c = Σ ρ_i z_i
 * (a wrong product survives with probability 1/p).
 *
 * One fold (Boneh–Boyle–Corrigan-Gibbs–Gilboa–Ishai 2019; Goyal–Song–Zhu 2020) shortens a claim
 * of length L to one of length ⌈L / K⌉: split a and b into K parts a_1..a_K (zero-padded), let f
 * and g be the degree-(K − 1) vector polynomials through them at X = 1..K, and h(X) = ⟨f(X), g(X)⟩
 * (degree 2K − 2), so Σ_{j ≤ K} h(j) = c for a true claim. The parties compute h(1..K − 1) and
 * h(K + 1..2K − 1) as 2K − 2 inner products (one degree reduction: `foldProducts`), set
 * h(K) = c − Σ_{j<K} h(j), draw a public random r, and continue with f(r), g(r), h(r) (`foldAt`).
 * If the claim was false, the h′ interpolated through those values has Σ_{j ≤ K} h′(j) = c, while
 * Σ_{j ≤ K} ⟨f(j), g(j)⟩ ≠ c: the two polynomials of degree 2K − 2 differ, so they agree at r with
 * probability at most (2K − 2)/p — an additive error injected into the fold's own reductions only
 * changes h′, which does not help.
 *
 * All functions here are local and pure: they work on this party's shares (or, in tests, on
 * plaintext), never on the network.
 */
import { MpcError } from './errors';
import type { Field, Vec } from './field';
import { addRef, mod, mulRef } from './field-ref';
import { lagrangeWeights } from './shamir';

/**
 * Folds per check, whatever the length: the number of rounds must not depend on the number of
 * rows, so the parts per fold grow with the claim instead (`foldSchedule`). A fold of K parts over
 * a claim of length L costs 2K − 2 reduced elements and about 3K·L local additions.
 */
export const FOLDS = 4;
/** Length of the claim after the folds at most: checked in the open behind masks. */
export const FOLD_FINAL_LEN = 8;
/** Most parts per fold (the field kernels combine at most 127 vectors at once). */
const MAX_PARTS = 127;
/**
 * Preferred parts of the first folds: a fold's local work is about 3K additions per element of
 * what is left, so the long first claims get few parts and the short last ones many (10^6
 * products: 4, 8, 63, 63 parts, about 24 additions per product, against 60 with 19 parts in every
 * fold).
 */
const EARLY_PARTS = [4, 8];

/** Least K ≥ 2 with K^folds · FOLD_FINAL_LEN ≥ len. */
function uniformParts(len: number, folds: number): number {
  let k = Math.max(2, Math.floor((len / FOLD_FINAL_LEN) ** (1 / folds)));
  while (k ** folds * FOLD_FINAL_LEN < len) k++;
  return k;
}

/**
 * Parts of each of the FOLDS folds for a claim of length `len`, so that they bring it down to at
 * most FOLD_FINAL_LEN elements (after a fold of K parts the length is ⌈L / K⌉, and nested
 * ceilings compose, so the product of the parts is what counts). Every fold has K ≥ 2, so the
 * steps are the same for every length.
 */
export function foldSchedule(len: number): number[] {
  const ks: number[] = [];
  let rest = len;
  for (let i = 0; i < FOLDS; i++) {
    const left = FOLDS - i;
    let k = uniformParts(rest, left);
    const early = EARLY_PARTS[i];
    if (
      early !== undefined &&
      early < k &&
      uniformParts(Math.ceil(rest / early), left - 1) <= MAX_PARTS
    )
      k = early;
    if (k > MAX_PARTS)
      throw new MpcError(
        'ERR_PARAM',
        `product check: ${len} products in one check exceed ${MAX_PARTS ** FOLDS * FOLD_FINAL_LEN}`,
      );
    ks.push(k);
    rest = Math.ceil(rest / k);
  }
  return ks;
}

export interface FoldState {
  /** a and b split into K zero-padded parts of length m. */
  aParts: Vec[];
  bParts: Vec[];
  /** This party's degree-2t shares of h(1..K − 1) and h(K + 1..2K − 1), to be reduced. */
  local: Vec;
}

const nodes = (k: number, from = 1): bigint[] =>
  Array.from({ length: k }, (_, i) => BigInt(i + from));

/** Zero-padded split of v into k parts of length m = ⌈len / k⌉. */
function split(v: Vec, k: number): Vec[] {
  const m = Math.max(1, Math.ceil(v.length / k));
  const buf = new BigUint64Array(k * m);
  buf.set(v);
  return Array.from({ length: k }, (_, i) => buf.subarray(i * m, (i + 1) * m));
}

/** First half of a fold: the 2K − 2 local inner products. */
export function foldProducts(F: Field, a: Vec, b: Vec, k: number): FoldState {
  if (a.length !== b.length)
    throw new MpcError('ERR_PARAM', `foldProducts: lengths ${a.length} vs ${b.length}`);
  const aParts = split(a, k);
  const bParts = split(b, k);
  const local = new BigUint64Array(2 * k - 2);
  for (let j = 0; j < k - 1; j++) local[j] = F.dot(aParts[j]!, bParts[j]!);
  // f(j), g(j) at j = K + 1..2K − 1 from the parts at 1..K, by finite differences (additions
  // only: Lagrange weights took 62 ms per party for 500,000 products at K = 16)
  const fa = F.extrapolate(aParts, k - 1);
  const gb = F.extrapolate(bParts, k - 1);
  for (let j = 0; j < k - 1; j++) local[k - 1 + j] = F.dot(fa[j]!, gb[j]!);
  return { aParts, bParts, local };
}

/**
 * Second half: with `reduced` = degree-t shares of h(1..K − 1), h(K + 1..2K − 1) (in the order of
 * `local`) and the claim's c, the shorter claim at the public point r.
 */
export function foldAt(
  F: Field,
  st: FoldState,
  reduced: Vec,
  c: bigint,
  r: bigint,
): { a: Vec; b: Vec; c: bigint } {
  const k = st.aParts.length;
  if (reduced.length !== 2 * k - 2)
    throw new MpcError(
      'ERR_PARAM',
      `foldAt: ${reduced.length} reduced values, expected ${2 * k - 2}`,
    );
  const h: bigint[] = [];
  let sum = 0n;
  for (let j = 0; j < k - 1; j++) {
    h.push(reduced[j]!);
    sum = addRef(sum, reduced[j]!);
  }
  h.push(mod(c - sum));
  for (let j = 0; j < k - 1; j++) h.push(reduced[k - 1 + j]!);
  const lam = lagrangeWeights(nodes(k), r);
  const mu = lagrangeWeights(nodes(2 * k - 1), r);
  let cr = 0n;
  for (let j = 0; j < h.length; j++) cr = addRef(cr, mulRef(mu[j]!, h[j]!));
  return { a: F.linComb(st.aParts, lam), b: F.linComb(st.bParts, lam), c: cr };
}
