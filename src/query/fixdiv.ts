/**
 * Exact division of multi-limb shared integers by a shared divisor, for statistics whose
 * numerators do not fit the engine's 59-bit division budget (VAR, CORR): only the quotient is
 * opened, never the numerator or the divisor.
 *
 * A multi-limb value is a list of chunks {x, pos, bits}: x is a shared integer in [0, 2^bits) with
 * weight 2^pos; the value is Σ x·2^pos. Values are produced from field elements (which are exact
 * integers when the plan's bounds keep them below 2^60) by splitting with the engine's `modPow2`
 * (x mod 2^k), products of 29-bit digits (below 2^58, so column sums stay inside the field) and
 * carry normalisation.
 *
 * Division keeps the remainder below the divisor d (restoring long division, one quotient bit per
 * step): for every chunk, r ← r·2^bits + chunk (< d·2^bits), then `bits` steps of one batched
 * comparison of (dBits + bits)-bit values and one product. So the divisor may use up to 57 bits
 * and the numerator any number of bits; each numerator bit costs one comparison step, the rounds
 * depend on the bit bounds of the plan, never on the number of rows, and all cells (groups ×
 * aggregates) are batched in every step.
 *
 * Preconditions are the caller's (the planner's bounds): values outside the stated ranges give a
 * wrong result, not an error (they are secret).
 */
import { P, type Session, type Shared } from '../mpc/index';

/** Widest comparison the engine accepts (a − b + 2^bits below p). */
export const MAX_CMP_BITS = 59;
/** Digit width for products: a digit product is below 2^58, a column of two or three below 2^60. */
export const DIGIT_BITS = 29;

export interface Chunk {
  x: Shared;
  pos: number;
  bits: number;
}

/** 2^−k mod p (p = 2^61 − 1, so 2^−k = 2^(61−k)). */
export const invPow2 = (k: number): bigint => (1n << BigInt(61 - (k % 61))) % P;

function zeros(s: Session, len: number): Shared {
  return s.constant(new BigUint64Array(len));
}

/**
 * Splits a non-negative x (representative in [0, p)) into [x mod 2^k, floor(x / 2^k)]: one
 * `modPow2`, the high part by an exact division (local).
 */
export async function splitLow(s: Session, x: Shared, k: number): Promise<[Shared, Shared]> {
  const lo = await s.modPow2(x, k);
  return [lo, s.mulConst(s.sub(x, lo), invPow2(k))];
}

/**
 * Digits of width `d` (least significant first) of a non-negative x < 2^totalBits ≤ 2^61:
 * ceil(totalBits / d) − 1 sequential splits, batched over the vector.
 */
export async function toDigits(
  s: Session,
  x: Shared,
  totalBits: number,
  d = DIGIT_BITS,
): Promise<Shared[]> {
  const count = Math.max(1, Math.ceil(totalBits / d));
  const out: Shared[] = [];
  let cur = x;
  for (let i = 0; i + 1 < count; i++) {
    const [lo, hi] = await splitLow(s, cur, d);
    out.push(lo);
    cur = hi;
  }
  out.push(cur);
  return out;
}

/**
 * Carry normalisation of non-negative columns (column k has weight 2^(d·k); column + carry must
 * stay below 2^60): returns digits of width d, least significant first, the last one holding the
 * final carry (below 2^d when the caller's bound says the value is below 2^(d·cols.length)).
 */
export async function normalizeColumns(
  s: Session,
  cols: readonly Shared[],
  d = DIGIT_BITS,
): Promise<Shared[]> {
  const out: Shared[] = [];
  let carry: Shared | undefined;
  for (let k = 0; k < cols.length; k++) {
    const t: Shared = carry ? s.add(cols[k]!, carry) : cols[k]!;
    if (k + 1 === cols.length) {
      out.push(t);
      break;
    }
    const [lo, hi] = await splitLow(s, t, d);
    out.push(lo);
    carry = hi;
  }
  return out;
}

/**
 * Chunks of width at most w (most significant first) of a value given as digits of width d
 * (least significant first), shifted left by `shift` bits (the shift adds zero chunks at the
 * bottom). Chunks at or above `totalBits` (before the shift) are known to be zero and dropped.
 * Sub-splitting every digit takes ceil(d / w) − 1 sequential splits, batched over all digits.
 */
export async function toChunks(
  s: Session,
  digits: readonly Shared[],
  d: number,
  w: number,
  totalBits: number,
  shift: number,
): Promise<Chunk[]> {
  if (w < 1) throw new Error(`toChunks: chunk width must be at least 1, got ${w}`);
  const len = digits[0]!.v.length;
  const out: Chunk[] = [];
  const keep = digits.filter((_, k) => k * d < totalBits);
  if (keep.length) {
    if (w >= d) {
      keep.forEach((x, k) =>
        out.push({ x, pos: shift + k * d, bits: Math.min(d, totalBits - k * d) }),
      );
    } else {
      const m = Math.ceil(d / w);
      let cur = s.concat(keep);
      for (let j = 0; j < m; j++) {
        let piece = cur;
        if (j + 1 < m) [piece, cur] = await splitLow(s, cur, w);
        const width = j + 1 < m ? w : d - w * (m - 1);
        keep.forEach((_, k) => {
          const pos = k * d + j * w;
          // (a value below 2^totalBits has a chunk below 2^(totalBits − pos) at pos)
          const bits = Math.min(width, totalBits - pos);
          if (pos < totalBits)
            out.push({ x: s.slice(piece, k * len, (k + 1) * len), pos: shift + pos, bits });
        });
      }
    }
  }
  // the zero chunks of the shift
  for (let pos = 0; pos < shift; pos += w)
    out.push({ x: zeros(s, len), pos, bits: Math.min(w, shift - pos) });
  return out.sort((a, b) => b.pos - a.pos);
}

/**
 * Radix of the long division: 2^k − 1 comparisons per cell run side by side and settle k quotient
 * bits per step, so a wider radix cuts the rounds by k at (2^k − 1)/k times the comparison work.
 * The work is on a few scalars per group, so the radix shrinks only for many cells.
 */
export function divisionRadixBits(cells: number, budget = MAX_RADIX_ELEMENTS): number {
  let k = 4;
  while (k > 1 && cells * ((1 << k) - 1) > budget) k--;
  return k;
}
/** Most comparison elements per division step before the radix is lowered. */
const MAX_RADIX_ELEMENTS = 64;

/**
 * floor(X / den) for X given as chunks (most significant first, each chunk's bits plus dBits at
 * most 59) and den in [1, 2^dBits). Returns the quotient as chunks with the same positions and
 * widths (a quotient chunk is below 2^bits because the remainder stays below den).
 *
 * A single chunk holding the whole numerator x < 2^xBits with xBits + dBits ≤ 59 is the engine's
 * restoring division; several chunks extend it to numerators of any size.
 *
 * A chunk of 0 bits is added to the remainder without a step (a top part known to be below den).
 *
 * Per step (k quotient bits, `radixBits`, by default `divisionRadixBits`): with r < den·2^(i+k), the digit is
 * t = Σ_{m=1}^{2^k−1} [r ≥ m·den·2^i] (one batched comparison of (dBits + bits)-bit values), and
 * r ← r − t·den·2^i (one product).
 */
export async function divideChunks(
  s: Session,
  chunks: readonly Chunk[],
  den: Shared,
  dBits: number,
  radixBits = divisionRadixBits(den.v.length),
): Promise<Chunk[]> {
  const len = den.v.length;
  const k = radixBits;
  let r = zeros(s, len);
  const out: Chunk[] = [];
  for (const c of chunks) {
    const L = dBits + c.bits;
    if (L > MAX_CMP_BITS)
      throw new Error(`divideChunks: ${dBits} + ${c.bits} bits exceed ${MAX_CMP_BITS}`);
    r = s.add(s.mulConst(r, 1n << BigInt(c.bits)), c.x);
    let q = zeros(s, len);
    for (let top = c.bits; top > 0;) {
      const kk = Math.min(k, top);
      const base = top - kk;
      const M = (1 << kk) - 1;
      const unit = s.mulConst(den, 1n << BigInt(base));
      // [r < m·den·2^base] for m = 1..M, batched
      const below = await s.lt(
        s.concat(Array.from({ length: M }, () => r)),
        s.concat(Array.from({ length: M }, (_, m) => s.mulConst(unit, BigInt(m + 1)))),
        L,
      );
      // t = Σ_m [r ≥ m·unit] = M − Σ_m [r < m·unit]
      let t = s.constant(new BigUint64Array(len).fill(BigInt(M)));
      for (let m = 0; m < M; m++) t = s.sub(t, s.slice(below, m * len, (m + 1) * len));
      const [sub] = await s.mulMany([[t, unit]]);
      r = s.sub(r, sub!);
      q = s.add(q, s.mulConst(t, 1n << BigInt(base)));
      top = base;
    }
    out.push({ x: q, pos: c.pos, bits: c.bits });
  }
  return out;
}

/** Σ x·2^pos as one field element (the caller's bound keeps it below p). */
export function compose(s: Session, chunks: readonly Chunk[]): Shared {
  return s.linComb(
    chunks.map((c) => c.x),
    chunks.map((c) => (1n << BigInt(c.pos)) % P),
  );
}

/** Bit length of a non-negative bigint (0 for 0). */
export const bitLength = (v: bigint): number => (v > 0n ? v.toString(2).length : 0);
