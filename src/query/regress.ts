/**
 * REGRESS inside MPC: ordinary least squares coefficients computed from the shared sufficient
 * statistics without opening them. Only the coefficients (fixed point) and a status per
 * coefficient are opened — not the count, the sums or the cross-products.
 *
 * Variables u = 0 (the constant 1, for the intercept), 1..k (the regressors x_j) and k + 1 (the
 * response y), all on shifted stored values x' = x − lo ≥ 0. Their Gram matrix G_uv = Σ u'·v'
 * (G_00 = n, G_0j = Σx'_j, G_jk = Σx'_j·x'_k) is what the plan's dot products already compute.
 *
 * 1. Scaling (`regressScaling`): M_uv = floor(f·G_uv·2^(e_u + e_v)) with a secret power of two
 *    f ≈ rows / n (common to all entries, so β does not change; computed inside MPC) and public
 *    exponents e_u = floor((44 − bits(2^B·range_u²)) / 2), so every diagonal bound is at most 2^44
 *    and, by Cauchy–Schwarz, every entry is (G ≥ 0 on shifted values). Solving M β̃ = m gives
 *    β_u = β̃_u·2^(e_u − e_y): a public conversion, so nothing about the data follows from it.
 * 2. Coefficient j by Frisch–Waugh–Lovell: eliminate every other coefficient variable (Gaussian
 *    elimination of the symmetric matrix, in a fixed order), then β̃_j = S_jy / S_jj on the 2×2
 *    Schur complement that is left. The k + 1 eliminations share their common prefixes (entries
 *    are memoised by the ordered list of eliminated variables; the orders eliminate one half of
 *    the coefficients for all of the other half, recursively), all cells of one elimination level
 *    are batched, and the levels are the only sequential part: k levels and one final division,
 *    whatever the number of rows or groups.
 * 3. One elimination step on entries x (base), u, v (pivot row) and pivot d:
 *    S = x − sign(u·v)·floor(|u|·|v| / d), exact integer arithmetic: |u|, |v| < 2^45 in two 23-bit
 *    digits, the 90-bit product in columns, its top bits (≥ 2^45) as the starting remainder and
 *    the low 45 bits in 2-bit chunks of one restoring long division (src/query/fixdiv.ts) by
 *    d < 2^45, whose comparisons of 47 bits take the engine's bounded path. The result is an
 *    integer Schur complement rounded toward zero at every step: the entries keep their magnitude
 *    (about 44 bits), so the rounding error is about 2^−44 of the diagonal scale per step,
 *    degraded only by the problem's own conditioning.
 * 4. The final quotient q_j = floor(|S_jy|·2^30 / S_jj) (β̃_j to 30 fractional bits) and the sign.
 *
 * Checks, all inside MPC, multiplied into one status bit (so they reveal nothing else):
 * - every pivot satisfies d > floor(M_pp / 2^30) (its Schur complement kept more than 2^−30 of
 *   its diagonal; otherwise the regressors are collinear to 30 bits and every coefficient is null);
 * - every computed entry is below 2^45 in magnitude and every quotient below 2^45 (the bounds the
 *   digit arithmetic needs; they hold for any positive semi-definite input, so a failure means the
 *   data are degenerate and the answer is null, never a wrong number);
 * - per coefficient: |β̃_j| < 2^15 (else that coefficient alone is null).
 * The group's cohort bit (`passed`) is part of the status. A failed check makes later values
 * meaningless but the product of check bits is 0 from the first failure on (that check's inputs
 * were still in range, so its bit is a true 0/1).
 *
 * `regressPlain` is the definition, in BigInt: the plaintext reference evaluator uses it, and the
 * MPC result must equal it bit for bit.
 */
import { P, sklansky, type Session, type Shared } from '../mpc/index';
import {
  bitLength,
  compose,
  divideChunks,
  divisionRadixBits,
  invPow2,
  splitLow,
  type Chunk,
} from './fixdiv';

/** Bits of the largest diagonal bound after the public scaling. */
export const REGRESS_SCALE_BITS = 44;
/** Fractional bits of the opened β̃ (β̃ = q / 2^f, in the scaled units). */
export const REGRESS_FRAC_BITS = 30;
/** A pivot must keep more than 2^−this of its diagonal (collinearity threshold). */
export const REGRESS_COLLINEAR_BITS = 30;

const ENTRY_BITS = 45; // |entry| < 2^45 and quotients < 2^45 (checked)
const DEN_BITS = 45; // pivots ≤ 2^44 < 2^45
const DIGIT = 23; // two digits of an entry (the high one below 2^22)
/**
 * Bits per long-division step (radix 2^CHUNK, 2^CHUNK − 1 comparisons per cell): comparisons of
 * DEN_BITS + CHUNK ≤ 47 bits take the engine's bounded path. Measured for 3 regressors (5
 * parties, one process): 1 bit per step 3.1 s, 2 bits 2.5 s (a comparison call costs about 9 ms
 * whatever its size, an element about 0.3 ms).
 */
const CHUNK = 2;
const W = 47; // comparison width of the checks (|x| < 2^46 before its range check)
const OFF = 1n << 46n; // offset for signed comparisons
const LIM = 1n << BigInt(ENTRY_BITS);

/** Positions splitting `bits` low bits into CHUNK-bit chunks: [C, 2C, …, bits]. */
function chunkEnds(bits: number): number[] {
  const out: number[] = [];
  for (let e = CHUNK; e < bits; e += CHUNK) out.push(e);
  out.push(bits);
  return out;
}

/**
 * The public scaling of the variables [1, x_1..x_k, y] with ranges [1, R_1..R_k, R_y]: the Gram
 * matrix is first multiplied by f = 2^(B − bits(n)) with B = bits(rows) (a secret power of two
 * that brings the group's count n up to about 2^B, so filtered and grouped regressions keep the
 * precision of the whole table; a common factor does not change β), then entry (u, v) by
 * 2^(e_u + e_v) with e_u = floor((44 − bits(2^B·R_u²)) / 2).
 */
export interface RegressScaling {
  exps: number[];
  countBits: number;
}
export function regressScaling(rows: number, ranges: readonly bigint[]): RegressScaling {
  const countBits = bitLength(BigInt(Math.max(1, rows)));
  const top = 1n << BigInt(countBits);
  return {
    exps: ranges.map((R) => Math.floor((REGRESS_SCALE_BITS - bitLength(top * R * R)) / 2)),
    countBits,
  };
}

/** f = 2^(B − bits(n)) (2^B for n = 0; n < 2^B = 2^bits(rows) by the plan's bounds). */
const countFactor = (n: bigint, B: number): bigint =>
  1n << BigInt(B - bitLength(n & ((1n << BigInt(B)) - 1n)));

type Key = string;
interface Cell {
  key: Key;
  base: Key;
  u: Key;
  v: Key;
  d: Key;
  pivot: number;
}
interface Schedule {
  /** levels[L]: entries after eliminating L + 1 variables. */
  levels: Cell[][];
  /** Per coefficient j: the keys of S_jj and S_jy after eliminating every other coefficient. */
  finals: { jj: Key; jy: Key }[];
  /** Keys of the initial (scaled) entries that are read. */
  initial: [number, number][];
}

const keyOf = (prefix: readonly number[], a: number, b: number): Key =>
  `${prefix.join(',')}|${Math.min(a, b)},${Math.max(a, b)}`;

/** The elimination schedule for k regressors (public, depends on k only). */
export function regressSchedule(k: number): Schedule {
  const Y = k + 1;
  const levels: Map<Key, Cell>[] = Array.from({ length: k }, () => new Map());
  const initial = new Map<Key, [number, number]>();
  const need = (prefix: number[], a: number, b: number): Key => {
    const key = keyOf(prefix, a, b);
    if (prefix.length === 0) {
      initial.set(key, [Math.min(a, b), Math.max(a, b)]);
      return key;
    }
    const level = levels[prefix.length - 1]!;
    if (!level.has(key)) {
      const pre = prefix.slice(0, -1);
      const p = prefix[prefix.length - 1]!;
      level.set(key, {
        key,
        base: need(pre, a, b),
        u: need(pre, a, p),
        v: need(pre, p, b),
        d: need(pre, p, p),
        pivot: p,
      });
    }
    return key;
  };
  // Leave-one-out by halves: eliminating one half serves every coefficient of the other half
  // (k = 3: 36 cells instead of 41 for one ordering per coefficient; k = 8: 373 instead of 606).
  const finals: { jj: Key; jy: Key }[] = [];
  const split = (prefix: number[], rest: number[]): void => {
    if (rest.length === 1) {
      const j = rest[0]!;
      finals[j] = { jj: need(prefix, j, j), jy: need(prefix, j, Y) };
      return;
    }
    const h = Math.floor(rest.length / 2);
    split([...prefix, ...rest.slice(0, h)], rest.slice(h));
    split([...prefix, ...rest.slice(h)], rest.slice(0, h));
  };
  split(
    [],
    Array.from({ length: k + 1 }, (_, i) => i),
  );
  return { levels: levels.map((m) => [...m.values()]), finals, initial: [...initial.values()] };
}

/** floor(x·2^s) for x ≥ 0 and any integer s. */
const shiftFloor = (x: bigint, s: number): bigint => (s >= 0 ? x << BigInt(s) : x >> BigInt(-s));
const abs = (x: bigint): bigint => (x < 0n ? -x : x);

export interface RegressCoef {
  /** floor(|β̃|·2^REGRESS_FRAC_BITS) where ok, else 0. */
  q: bigint;
  ok: boolean;
  negative: boolean;
}

/**
 * The definition: coefficients [intercept, β_1..β_k] in scaled units from the Gram matrix G
 * ((k + 2)², shifted stored values) and the exponents, for a group whose cohort bit is `passed`.
 */
export function regressPlain(
  G: readonly (readonly bigint[])[],
  { exps, countBits }: RegressScaling,
  passed: boolean,
): RegressCoef[] {
  const k = exps.length - 2;
  const sch = regressSchedule(k);
  const f = countFactor(G[0]![0]!, countBits);
  const val = new Map<Key, bigint>();
  for (const [a, b] of sch.initial)
    val.set(keyOf([], a, b), shiftFloor(G[a]![b]! * f, exps[a]! + exps[b]!));
  const T = exps.map((e, u) => shiftFloor(G[u]![u]! * f, 2 * e - REGRESS_COLLINEAR_BITS));
  let good = passed;
  for (const cells of sch.levels) {
    for (const c of cells) {
      if (!good) break;
      const u = val.get(c.u)!;
      const v = val.get(c.v)!;
      const d = val.get(c.d)!;
      if (!(T[c.pivot]! < d)) good = false;
      const N = abs(u) * abs(v);
      if (!(N >> BigInt(ENTRY_BITS) < d)) good = false;
      if (!good) break;
      const q = N / d;
      const S = val.get(c.base)! - (u < 0n !== v < 0n ? -q : q);
      if (!(S > -LIM && S < LIM)) good = false;
      val.set(c.key, S);
    }
  }
  const F = REGRESS_FRAC_BITS;
  return sch.finals.map(({ jj, jy }, j) => {
    const d = good ? val.get(jj)! : 0n;
    const w = good ? val.get(jy)! : 0n;
    const ok = good && T[j]! < d && abs(w) >> BigInt(ENTRY_BITS - F) < d;
    return ok
      ? { q: (abs(w) << BigInt(F)) / d, ok, negative: w < 0n }
      : { q: 0n, ok: false, negative: false };
  });
}

/**
 * The same computation on shares, vectorised over L groups: `gram(a, b)` (a ≤ b) is the shared
 * G_ab of every group (length L), `passed` the groups' cohort bits. Returns per coefficient the
 * shared [q·ok, ok, negative·ok] (each of length L).
 */
export async function regressShared(
  s: Session,
  gram: (a: number, b: number) => Shared,
  { exps, countBits }: RegressScaling,
  passed: Shared,
): Promise<{ q: Shared; ok: Shared; negative: Shared }[]> {
  const L = passed.v.length;
  const k = exps.length - 2;
  const sch = regressSchedule(k);
  const pow2 = (b: number) => (1n << BigInt(b)) % P;
  const constVec = (c: bigint, n: number) => s.constant(new BigUint64Array(n).fill(c));
  const cat = (xs: readonly Shared[]) => s.concat(xs);
  const part = (x: Shared, i: number) => s.slice(x, i * L, (i + 1) * L);

  // 1. Scaled entries M and collinearity thresholds T_u = floor(M_uu / 2^30), with every floor by
  // a power of two (wide columns only) done in one split.
  const floors: { x: Shared; by: number }[] = [];
  const scaled = (x: Shared, e: number): Shared | number =>
    e >= 0 ? s.mulConst(x, pow2(e)) : floors.push({ x, by: -e }) - 1;
  // f = 2^(B − bits(n)) = Σ_L [bits(n) = L]·2^(B − L), with [bits(n) = L] = g_(L−1) − g_L and
  // g_i = [n ≥ 2^i] = 1 − Π_(j ≥ i) (1 − bit_j): the bits in one split, the suffix products in
  // log2(B) rounds.
  const B = countBits;
  const n = gram(0, 0);
  const res = await s.modPow2Multi(
    n,
    Array.from({ length: B }, (_, i) => i + 1),
  );
  const notBit = res.map((m, i) =>
    s.affine(s.mulConst(i > 0 ? s.sub(m, res[i - 1]!) : m, invPow2(i)), P - 1n, 1n),
  );
  // suffix[i] = Π_(j ≥ i) (1 − bit_j): the engine's parallel prefix over the reversed list
  const suffix = (await sklansky(notBit.slice().reverse(), (pairs) => s.mulMany(pairs))).reverse();
  const g = (i: number): Shared =>
    i < 0 ? constVec(1n, L) : i >= B ? constVec(0n, L) : s.affine(suffix[i]!, P - 1n, 1n);
  const f = s.linComb(
    Array.from({ length: B + 1 }, (_, len) => s.sub(g(len - 1), g(len))),
    Array.from({ length: B + 1 }, (_, len) => pow2(B - len)),
  );
  const diag = exps.map((_, u) => gram(u, u));
  const initial = sch.initial.map(([a, b]) => gram(a, b));
  const scaledG = await s.mulMany([...initial, ...diag].map((x) => [x, f] as [Shared, Shared]));
  const pendingM = sch.initial.map(([a, b], i) => scaled(scaledG[i]!, exps[a]! + exps[b]!));
  const pendingT = exps.map((e, u) =>
    scaled(scaledG[initial.length + u]!, 2 * e - REGRESS_COLLINEAR_BITS),
  );
  const byList = [...new Set(floors.map((f) => f.by))];
  let floored: Shared[] = [];
  if (floors.length) {
    const X = cat(floors.map((f) => f.x));
    const lows = await s.modPow2Multi(X, byList);
    floored = floors.map((f, i) => {
      const low = s.slice(lows[byList.indexOf(f.by)]!, i * L, (i + 1) * L);
      return s.mulConst(s.sub(f.x, low), invPow2(f.by));
    });
  }
  const resolve = (p: Shared | number) => (typeof p === 'number' ? floored[p]! : p);
  const val = new Map<Key, Shared>();
  sch.initial.forEach(([a, b], i) => val.set(keyOf([], a, b), resolve(pendingM[i]!)));
  const T = pendingT.map(resolve);

  // Check bits, multiplied together at the end; comparisons wait for the next batched `lt`.
  const goods: Shared[] = [];
  let pending: { a: Shared; b: Shared }[] = [];
  const rangeChecks = (x: Shared) => {
    const xo = s.addConst(x, OFF);
    const n = x.v.length;
    pending.push(
      { a: xo, b: constVec(OFF + LIM, n) }, // x < 2^45
      { a: constVec(OFF - LIM, n), b: xo }, // x > −2^45
    );
  };
  /** Runs the pending checks and `extra` comparisons in one batch; returns the extra bits. */
  const compare = async (extra: { a: Shared; b: Shared }[]): Promise<Shared[]> => {
    const all = [...pending, ...extra];
    pending = [];
    const bits = await s.lt(cat(all.map((c) => c.a)), cat(all.map((c) => c.b)), W);
    const out: Shared[] = [];
    let off = 0;
    all.forEach((c, i) => {
      const n = c.a.v.length;
      (i < all.length - extra.length ? goods : out).push(s.slice(bits, off, off + n));
      off += n;
    });
    return out;
  };
  /** Signs and absolute values of distinct signed values (|x| < 2^45 once checked). */
  const signDigits = async (xs: Shared[], extra: { a: Shared; b: Shared }[]) => {
    const X = cat(xs);
    const res = await compare([...extra, { a: s.addConst(X, OFF), b: constVec(OFF, X.v.length) }]);
    const neg = res[res.length - 1]!;
    const [nx] = await s.mulMany([[neg, X]]);
    const absX = s.sub(X, s.mulConst(nx!, 2n));
    return { neg, abs: absX, extraBits: res.slice(0, -1) };
  };
  /** Quotient of a numerator top·2^45 + Σ chunks (most significant first) by D (top < D checked). */
  const divide = async (top: Shared, chunks: Chunk[], D: Shared, check = true): Promise<Shared> => {
    if (check) pending.push({ a: top, b: D });
    const q = await divideChunks(
      s,
      [{ x: top, pos: ENTRY_BITS, bits: 0 }, ...chunks],
      D,
      DEN_BITS,
      divisionRadixBits(D.v.length, RADIX_BUDGET),
    );
    return compose(s, q);
  };
  /**
   * Chunks (most significant first) of the low `ends[last]` bits of a value, shifted left by
   * `shift`, given its residues ms[i] = x mod 2^ends[i].
   */
  const chunksOf = (ms: Shared[], ends: number[], shift: number): Chunk[] => {
    const out: Chunk[] = [];
    for (let i = ms.length - 1; i >= 0; i--) {
      const start = i > 0 ? ends[i - 1]! : 0;
      const piece = i > 0 ? s.sub(ms[i]!, ms[i - 1]!) : ms[0]!;
      out.push({
        x: s.mulConst(piece, invPow2(start)),
        pos: shift + start,
        bits: ends[i]! - start,
      });
    }
    return out;
  };

  // 2. Elimination levels.
  let prevOutputs: Key[] = [];
  for (const cells of sch.levels) {
    for (const key of prevOutputs) rangeChecks(val.get(key)!);
    const pivots = [...new Map(cells.map((c) => [c.d, c.pivot])).entries()];
    const wKeys = [...new Set(cells.flatMap((c) => [c.u, c.v]))];
    const sd = await signDigits(
      wKeys.map((w) => val.get(w)!),
      pivots.map(([d, p]) => ({ a: T[p]!, b: val.get(d)! })),
    );
    goods.push(...sd.extraBits);
    const [lo, hi] = await splitLow(s, sd.abs, DIGIT);
    const idx = new Map(wKeys.map((w, i) => [w, i]));
    const gather = (x: Shared, which: 'u' | 'v') =>
      cat(cells.map((c) => part(x, idx.get(c[which])!)));
    const [uLo, uHi, vLo, vHi, uNeg, vNeg] = [
      gather(lo, 'u'),
      gather(hi, 'u'),
      gather(lo, 'v'),
      gather(hi, 'v'),
      gather(sd.neg, 'u'),
      gather(sd.neg, 'v'),
    ];
    const [c0, c1a, c1b, c2, nn] = await s.mulMany([
      [uLo, vLo],
      [uLo, vHi],
      [uHi, vLo],
      [uHi, vHi],
      [uNeg, vNeg],
    ]);
    const sgn = s.sub(s.add(uNeg, vNeg), s.mulConst(nn!, 2n)); // [u·v < 0]
    // |u|·|v| = c0 + c1·2^23 + c2·2^46 (c0, c1 < 2^46, c2 < 2^44): split c1 at 22, so that
    // N = low + (c1h + 2·c2)·2^45 with low = c0 + c1l·2^23 < 2^47; then the low 45 bits in chunks.
    const c1 = s.add(c1a!, c1b!);
    const [c1l, c1h] = await splitLow(s, c1, DIGIT - 1);
    const low = s.add(c0!, s.mulConst(c1l, pow2(DIGIT)));
    const ends = chunkEnds(ENTRY_BITS);
    const ms = await s.modPow2Multi(low, ends);
    const carry = s.mulConst(s.sub(low, ms[ms.length - 1]!), invPow2(ENTRY_BITS));
    const top = s.add(s.add(c1h, s.mulConst(c2!, 2n)), carry);
    const D = cat(cells.map((c) => val.get(c.d)!));
    const q = await divide(top, chunksOf(ms, ends, 0), D);
    const [sq] = await s.mulMany([[sgn, q]]);
    const X = cat(cells.map((c) => val.get(c.base)!));
    const S = s.add(s.sub(X, q), s.mulConst(sq!, 2n)); // x − q·(1 − 2·sgn)
    cells.forEach((c, i) => val.set(c.key, part(S, i)));
    prevOutputs = cells.map((c) => c.key);
  }

  // 3. Final division per coefficient: q = floor(|S_jy|·2^f / S_jj).
  const F = REGRESS_FRAC_BITS;
  const J = sch.finals.length;
  for (const key of prevOutputs) rangeChecks(val.get(key)!);
  const D = cat(sch.finals.map((f) => val.get(f.jj)!));
  const sd = await signDigits(
    sch.finals.map((f) => val.get(f.jy)!),
    sch.finals.map((_, j) => ({ a: T[j]!, b: part(D, j) })),
  );
  goods.push(...sd.extraBits);
  // |w|·2^f = top·2^45 + (|w| mod 2^(45 − f))·2^f: top = |w| >> (45 − f).
  const lowBits = ENTRY_BITS - F;
  const ends = chunkEnds(lowBits);
  const ms = await s.modPow2Multi(sd.abs, ends);
  const top = s.mulConst(s.sub(sd.abs, ms[ms.length - 1]!), invPow2(lowBits));
  const zeroEnds = chunkEnds(F);
  const zeros: Chunk[] = zeroEnds
    .map((e, i) => {
      const start = i > 0 ? zeroEnds[i - 1]! : 0;
      return { x: constVec(0n, J * L), pos: start, bits: e - start };
    })
    .reverse();
  const q = await divide(top, [...chunksOf(ms, ends, F), ...zeros], D, false);
  // The overflow bit |β̃| < 2^24 is per coefficient; every other check is shared.
  const [inRange] = await compare([{ a: top, b: D }]);
  let all = [...goods.map((g) => (g.v.length === L ? g : foldGroups(s, g, L))), passed].flat();
  while (all.length > 1) {
    const pairs: [Shared, Shared][] = [];
    for (let i = 0; i + 1 < all.length; i += 2) pairs.push([all[i]!, all[i + 1]!]);
    const prods = await s.mulMany(pairs);
    all = all.length % 2 ? [...prods, all[all.length - 1]!] : prods;
  }
  const global = all[0]!;
  const okAll = cat(Array.from({ length: J }, () => global));
  const [ok] = await s.mulMany([[okAll, inRange!]]);
  const [qOk, negOk] = await s.mulMany([
    [q, ok!],
    [sd.neg, ok!],
  ]);
  return sch.finals.map((_, j) => ({
    q: part(qOk!, j),
    ok: part(ok!, j),
    negative: part(negOk!, j),
  }));
}

/** Comparison elements per long-division step before the radix is lowered. */
const RADIX_BUDGET = 256;

/** Splits a vector of m·L check bits into m vectors of length L (one per cell). */
function foldGroups(s: Session, g: Shared, L: number): Shared[] {
  return Array.from({ length: g.v.length / L }, (_, i) => s.slice(g, i * L, (i + 1) * L));
}
