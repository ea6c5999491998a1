/**
 * Shamir secret sharing over p = 2^61 - 1, vectorised: one call shares or reconstructs a whole
 * column. Party i (0-based) holds the evaluation at x = i + 1.
 *
 * - `share` / `shareDeg`: random polynomial of degree t (or any degree) per secret, Horner in WASM.
 * - `reconstruct`: Lagrange interpolation at 0 from any t+1 parties (coefficients cached).
 * - `findInconsistent`: with more than t+1 shares, checks that every element's shares lie on one
 *   polynomial of degree <= t (extrapolates from t+1 of them and compares).
 * - `robustReconstruct`: reconstructs, detecting inconsistency and correcting up to
 *   floor((m - t - 1) / 2) wrong shares among m with Berlekamp–Welch, naming the parties whose
 *   shares were wrong.
 */
import { MpcError } from './errors';
import { Field, type Vec } from './field';
import { P, invRef, mod, mulRef } from './field-ref';
import { cryptoRng, type Rng } from './rng';

/** The evaluation point of party i. */
export const xOf = (party: number): bigint => BigInt(party + 1);

export function checkParams(n: number, t: number, where: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new MpcError('ERR_PARAM', `${where}: n must be an integer in 1..64, got ${n}`);
  if (!Number.isInteger(t) || t < 0 || 2 * t >= n) {
    throw new MpcError(
      'ERR_PARAM',
      `${where}: threshold must satisfy 0 <= t < n/2 (honest majority), got t=${t} n=${n}`,
    );
  }
}

/** Shares each secret with a random polynomial of degree `deg`; returns one share column per party. */
export function shareDeg(
  F: Field,
  secrets: Vec,
  n: number,
  deg: number,
  rng: Rng = cryptoRng,
): Vec[] {
  if (deg < 0 || deg >= n)
    throw new MpcError('ERR_PARAM', `shareDeg: degree ${deg} must be in 0..${n - 1}`);
  const coefs: Vec[] = [secrets];
  for (let j = 0; j < deg; j++) coefs.push(F.random(secrets.length, rng));
  const xs = Array.from({ length: n }, (_, i) => xOf(i));
  const out = F.polyEvalMany(coefs, xs);
  for (let j = 1; j < coefs.length; j++) coefs[j]!.fill(0n); // wipe the random coefficients
  return out;
}

/** Degree-t Shamir sharing for n parties, t < n/2. */
export function share(F: Field, secrets: Vec, n: number, t: number, rng: Rng = cryptoRng): Vec[] {
  checkParams(n, t, 'share');
  return shareDeg(F, secrets, n, t, rng);
}

const lagrangeCache = new Map<string, bigint[]>();

/**
 * Lagrange coefficients that evaluate, at `at`, the polynomial through the points of `parties`
 * (x = party + 1). Cached: the same sets recur in every round.
 */
export function lagrangeCoefficients(parties: readonly number[], at = 0n): bigint[] {
  return lagrangeAt(parties.map(xOf), at);
}

/** Lagrange coefficients for arbitrary distinct points `xs`, evaluated at `at` (cached). */
export function lagrangeAt(xs: readonly bigint[], at: bigint): bigint[] {
  const key = `${xs.join(',')}@${at}`;
  const hit = lagrangeCache.get(key);
  if (hit) return hit;
  const lams = lagrangeWeights(xs, at);
  if (lagrangeCache.size > 4096) lagrangeCache.clear();
  lagrangeCache.set(key, lams);
  return lams;
}

/**
 * Lagrange coefficients for distinct points `xs` at `at`, uncached (for random points, such as the
 * product check's folds): numerators Π_(j≠i) (at − x_j) from prefix and suffix products,
 * denominators Π_(j≠i) (x_i − x_j) inverted together (one inversion for all points).
 */
export function lagrangeWeights(xs: readonly bigint[], at: bigint): bigint[] {
  if (new Set(xs).size !== xs.length) {
    throw new MpcError('ERR_PARAM', `lagrangeAt: duplicate points ${xs.join(',')}`);
  }
  const m = xs.length;
  const d = xs.map((x) => mod(at - x));
  const pre = new Array<bigint>(m + 1);
  const suf = new Array<bigint>(m + 1);
  pre[0] = 1n;
  suf[m] = 1n;
  for (let i = 0; i < m; i++) pre[i + 1] = mulRef(pre[i]!, d[i]!);
  for (let i = m - 1; i >= 0; i--) suf[i] = mulRef(suf[i + 1]!, d[i]!);
  const den = xs.map((xi, i) => {
    let v = 1n;
    for (let j = 0; j < m; j++) if (j !== i) v = mulRef(v, mod(xi - xs[j]!));
    return v;
  });
  const inv = batchInvRef(den);
  return xs.map((_, i) => mulRef(mulRef(pre[i]!, suf[i + 1]!), inv[i]!));
}

/** Inverses of non-zero scalars with one inversion (Montgomery's trick). */
function batchInvRef(a: readonly bigint[]): bigint[] {
  const acc = new Array<bigint>(a.length + 1);
  acc[0] = 1n;
  for (let i = 0; i < a.length; i++) acc[i + 1] = mulRef(acc[i]!, a[i]!);
  let inv = invRef(acc[a.length]!);
  const out = new Array<bigint>(a.length);
  for (let i = a.length - 1; i >= 0; i--) {
    out[i] = mulRef(inv, acc[i]!);
    inv = mulRef(inv, a[i]!);
  }
  return out;
}

/** Reconstructs the secrets from the shares of `parties` (at least deg+1 of them; all are used). */
export function reconstruct(F: Field, shares: readonly Vec[], parties: readonly number[]): Vec {
  if (shares.length !== parties.length || shares.length === 0) {
    throw new MpcError(
      'ERR_PARAM',
      `reconstruct: ${shares.length} share columns for ${parties.length} parties`,
    );
  }
  return F.linComb(shares, lagrangeCoefficients(parties));
}

/**
 * Element indices (at most `limit`) whose shares from `parties` do not lie on one polynomial of
 * degree <= deg. Needs more than deg+1 parties to detect anything.
 */
export function findInconsistent(
  F: Field,
  shares: readonly Vec[],
  parties: readonly number[],
  deg: number,
  limit = 64,
): number[] {
  const k = deg + 1;
  if (parties.length <= k) return [];
  const base = parties.slice(0, k);
  const baseShares = shares.slice(0, k);
  const bad = new Set<number>();
  for (let q = k; q < parties.length; q++) {
    const lams = lagrangeCoefficients(base, xOf(parties[q]!));
    const predicted = F.linComb(baseShares, lams);
    const got = shares[q]!;
    for (let i = 0; i < got.length; i++) {
      if (predicted[i] !== got[i]) {
        bad.add(i);
        if (bad.size >= limit) return [...bad].sort((a, b) => a - b);
      }
    }
  }
  return [...bad].sort((a, b) => a - b);
}

export interface RobustResult {
  values: Vec;
  /** Parties whose shares were found wrong (and corrected around). */
  faulty: number[];
}

/**
 * Reconstruction that never returns a value silently inconsistent with the shares: if every
 * element's shares lie on one degree-t polynomial the values are returned; otherwise each bad
 * element is decoded with Berlekamp–Welch (up to floor((m - t - 1) / 2) errors among m shares), the
 * faulty parties are named and the values are recomputed without them. Throws ERR_INCONSISTENT when
 * there are too many errors to correct.
 */
export function robustReconstruct(
  F: Field,
  shares: readonly Vec[],
  parties: readonly number[],
  t: number,
): RobustResult {
  if (parties.length < t + 1) {
    throw new MpcError(
      'ERR_PARAM',
      `robustReconstruct: ${parties.length} shares, need at least t+1 = ${t + 1}`,
    );
  }
  const bad = findInconsistent(F, shares, parties, t);
  if (bad.length === 0)
    return { values: reconstruct(F, shares.slice(0, t + 1), parties.slice(0, t + 1)), faulty: [] };
  const faulty = new Set<number>();
  for (const i of bad) {
    const pts = parties.map((p, q) => ({ x: xOf(p), y: shares[q]![i]! }));
    const dec = berlekampWelch(pts, t);
    if (!dec) {
      throw new MpcError(
        'ERR_INCONSISTENT',
        `shares of element ${i} do not lie on a degree-${t} polynomial and cannot be corrected (${parties.length} shares)`,
        {
          details: { element: i, shares: parties.length, t },
        },
      );
    }
    for (const x of dec.errorXs) faulty.add(Number(x) - 1);
  }
  const good = parties.map((p, q) => ({ p, q })).filter(({ p }) => !faulty.has(p));
  const values = reconstruct(
    F,
    good.slice(0, t + 1).map(({ q }) => shares[q]!),
    good.slice(0, t + 1).map(({ p }) => p),
  );
  // the remaining honest shares must agree with the corrected polynomial everywhere
  if (
    findInconsistent(
      F,
      good.map(({ q }) => shares[q]!),
      good.map(({ p }) => p),
      t,
      1,
    ).length
  ) {
    throw new MpcError(
      'ERR_INCONSISTENT',
      `shares remain inconsistent after excluding parties ${[...faulty].join(',')}`,
    );
  }
  return { values, faulty: [...faulty].sort((a, b) => a - b) };
}

/**
 * Berlekamp–Welch decoding of one Reed–Solomon codeword: finds the polynomial f of degree <= t that
 * agrees with all but at most e = floor((m - t - 1) / 2) of the m points. Returns its coefficients
 * and the x of every disagreeing point, or null if no such f exists. Scalar BigInt code: it only
 * runs on elements already found inconsistent.
 */
export function berlekampWelch(
  points: readonly { x: bigint; y: bigint }[],
  t: number,
): { coeffs: bigint[]; errorXs: bigint[] } | null {
  const m = points.length;
  for (let e = Math.floor((m - t - 1) / 2); e >= 0; e--) {
    // unknowns: Q (degree e + t: e+t+1 coefficients), E (monic degree e: e coefficients)
    // equations: Q(x_i) = y_i E(x_i)  =>  sum_j q_j x^j - y_i sum_{j<e} E_j x^j = y_i x^e
    const nq = e + t + 1;
    const cols = nq + e;
    if (m < cols) continue;
    const rows: bigint[][] = points.map(({ x, y }) => {
      const row: bigint[] = [];
      let xp = 1n;
      for (let j = 0; j < nq; j++) {
        row.push(xp);
        xp = mulRef(xp, x);
      }
      xp = 1n;
      for (let j = 0; j < e; j++) {
        row.push(mod(-mulRef(y, xp)));
        xp = mulRef(xp, x);
      }
      let xe = 1n;
      for (let j = 0; j < e; j++) xe = mulRef(xe, x);
      row.push(mulRef(y, xe));
      return row;
    });
    const sol = solveMod(rows, cols);
    if (!sol) continue;
    const Q = sol.slice(0, nq);
    const E = [...sol.slice(nq), 1n];
    const f = polyDiv(Q, E);
    if (!f) continue;
    const errorXs: bigint[] = [];
    for (const { x, y } of points) if (evalPoly(f, x) !== y) errorXs.push(x);
    if (errorXs.length <= e && f.length - 1 <= t) return { coeffs: f, errorXs };
  }
  return null;
}

function evalPoly(c: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let j = c.length - 1; j >= 0; j--) acc = mod(acc * x + c[j]!);
  return acc;
}

/** Gaussian elimination mod p on an augmented matrix; returns one solution or null. */
function solveMod(rows: bigint[][], cols: number): bigint[] | null {
  const a = rows.map((r) => r.slice());
  const where: number[] = new Array<number>(cols).fill(-1);
  let r = 0;
  for (let c = 0; c < cols && r < a.length; c++) {
    let piv = -1;
    for (let i = r; i < a.length; i++) {
      if (a[i]![c] !== 0n) {
        piv = i;
        break;
      }
    }
    if (piv < 0) continue;
    [a[r], a[piv]] = [a[piv]!, a[r]!];
    const inv = invRef(a[r]![c]!);
    for (let j = c; j <= cols; j++) a[r]![j] = mulRef(a[r]![j]!, inv);
    for (let i = 0; i < a.length; i++) {
      if (i === r || a[i]![c] === 0n) continue;
      const f = a[i]![c]!;
      for (let j = c; j <= cols; j++) a[i]![j] = mod(a[i]![j]! - f * a[r]![j]!);
    }
    where[c] = r++;
  }
  for (let i = r; i < a.length; i++) if (a[i]![cols] !== 0n) return null; // inconsistent system
  return where.map((w) => (w < 0 ? 0n : a[w]![cols]!));
}

/** Exact polynomial division Q / E; null if there is a remainder. */
function polyDiv(Q: readonly bigint[], E: readonly bigint[]): bigint[] | null {
  const rem = Q.slice();
  const dq = rem.length - 1;
  const de = E.length - 1;
  if (dq < de) return rem.every((c) => c === 0n) ? [0n] : null;
  const out: bigint[] = new Array<bigint>(dq - de + 1).fill(0n);
  const lead = invRef(E[de]!);
  for (let i = dq - de; i >= 0; i--) {
    const c = mulRef(rem[i + de]!, lead);
    out[i] = c;
    for (let j = 0; j <= de; j++) rem[i + j] = mod(rem[i + j]! - c * E[j]!);
  }
  for (let j = 0; j < de; j++) if (rem[j] !== 0n) return null;
  while (out.length > 1 && out[out.length - 1] === 0n) out.pop();
  return out;
}

export { P };
