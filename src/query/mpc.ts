/**
 * The compiler's back end: runs a plan as one batched MPC program on the engine (src/mpc). Every
 * party of the committee calls `runPlan` with the same plan and policy and its own shares of the
 * columns; the call sequence depends only on the plan, never on data, so all parties stay in step.
 *
 * Rounds: comparisons and equalities are issued as one batched call each over all atoms and all
 * rows; boolean combination, group masks, row products, dot products, cohort comparison and
 * masking each add a constant number of rounds; MIN/MAX add `bits` rounds of comparison per
 * column. Nothing loops over rows in the protocol layer: the number of rounds does not depend on
 * the number of rows (see test/query/mpc.test.ts, which counts them).
 *
 * Output: the vector described by `layout` (plan.ts) — per group the passed bit, the masked
 * statistics, the masked histogram bin bits and the masked extrema; in AVG-only queries the
 * statistics open as zeros and each AVG as its fixed-point quotient computed inside MPC by the
 * engine's exact division (or, for columns too wide for it, a randomised ratio pair). It is opened
 * after the engine's `verify()` to the requester only (`openTo`), or its verified shares are
 * returned for encryption to an external requester's key.
 */
import { P, type Operand, type Session, type Shared } from '../mpc/index';
import { bitCost, compareBits, polyCost, polySumCost, sumCompareBits, type BitJob } from './bitcmp';
import { jointDiscreteLaplace } from './dp';
import { QueryError } from './errors';
import {
  compose,
  DIGIT_BITS,
  divideChunks,
  MAX_CMP_BITS,
  normalizeColumns,
  splitLow,
  toChunks,
  toDigits,
} from './fixdiv';
import { releasedStats, type BoolIR, type FixedAgg, type Plan } from './plan';
import { enforcePolicy, noiseScales, type Policy } from './policy';
import { regressShared } from './regress';
import type { ResolvedColumn } from './schema';

/** Columns with at most this many values are compared by polynomial evaluation (see step 2). */
const POLY_MAX_RANGE = 512;
/** Offset that keeps noisy counts non-negative for the cohort comparison (|noise| < 2^30). */
const CMP_OFFSET = 1n << 31n;

export type OutputMode =
  /** Open to every party (tests, public results). */
  | { kind: 'all' }
  /** Open to one party of the committee only (the requester's own node). */
  | { kind: 'party'; party: number }
  /** Verify, then return this party's Shamir shares of the output (to encrypt to an external requester). */
  | { kind: 'shares' };

export interface RunPlanOptions {
  policy: Policy;
  output: OutputMode;
  /**
   * Optional bit decompositions of columns (schema column index → bits of x − lo, least
   * significant first, at least the column's `bits`), as dealt by the engine's `inputBits`
   * (which checks them). Comparisons of those columns with constants then use the bits
   * (src/query/bitcmp.ts) where that is cheaper; other columns keep the generic path. Every party
   * must pass bits for the same columns (the call sequence depends on it).
   */
  bits?: ReadonlyMap<number, readonly Operand[]>;
}

export interface RunPlanResult {
  /** The opened output vector (null for parties that do not receive it, and in 'shares' mode). */
  opened: bigint[] | null;
  /** This party's verified shares of the output vector ('shares' mode only). */
  shares?: BigUint64Array;
}

const mod = (v: bigint) => ((v % P) + P) % P;

function ones(s: Session, n: number): Shared {
  return s.constant(new BigUint64Array(n).fill(1n));
}

/** A shared scalar (length 1) repeated n times: still a valid sharing, no communication. */
function broadcast(x: Shared, n: number): Shared {
  return { v: new BigUint64Array(n).fill(x.v[0]!), m: new BigUint64Array(n).fill(x.m[0]!) };
}

function inv(a: bigint): bigint {
  let r = 1n;
  let b = mod(a);
  let e = P - 2n;
  while (e) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** Number of values a column can take (stored range + 1). */
const rangeOf = (c: ResolvedColumn) => Number(c.hi - c.lo) + 1;

const basisCache = new Map<number, bigint[][]>();

/**
 * Lagrange basis over {0..D−1}: basis[v] holds the coefficients (low degree first, mod p) of the
 * polynomial that is 1 at v and 0 at the other points. O(D²) once per D, cached.
 */
export function lagrangeBasis(D: number): bigint[][] {
  const hit = basisCache.get(D);
  if (hit) return hit;
  // M(x) = Π (x − u), then basis_v = M(x) / (x − v) / M'(v).
  let M = [1n];
  for (let u = 0; u < D; u++) {
    const next = new Array<bigint>(M.length + 1).fill(0n);
    M.forEach((c, i) => {
      next[i + 1] = mod(next[i + 1]! + c);
      next[i] = mod(next[i]! - c * BigInt(u));
    });
    M = next;
  }
  const fact = [1n];
  for (let i = 1; i < D; i++) fact.push((fact[i - 1]! * BigInt(i)) % P);
  const out: bigint[][] = [];
  for (let v = 0; v < D; v++) {
    // synthetic division of M by (x − v)
    const q = new Array<bigint>(D).fill(0n);
    let carry = 0n;
    for (let i = D; i >= 1; i--) {
      carry = mod(M[i]! + carry * BigInt(v));
      q[i - 1] = carry;
    }
    // M'(v) = Π_{u≠v} (v − u) = v! · (−1)^(D−1−v) · (D−1−v)!
    let d = (fact[v]! * fact[D - 1 - v]!) % P;
    if ((D - 1 - v) % 2 === 1) d = mod(-d);
    const di = inv(d);
    out.push(q.map((c) => (c * di) % P));
  }
  basisCache.set(D, out);
  return out;
}

/** Coefficients of the polynomial that is 1 on {0..c−1} and 0 on {c..D−1}. */
export function stepPolynomial(D: number, c: number): bigint[] {
  const basis = lagrangeBasis(D);
  const out = new Array<bigint>(D).fill(0n);
  for (let v = 0; v < c; v++) basis[v]!.forEach((b, i) => (out[i] = (out[i]! + b) % P));
  return out;
}

/**
 * Evaluates public polynomials (degree < D) at shared vectors x, Paterson–Stockmeyer style and
 * batched over all jobs: powers x^1..x^k, giant steps y = x^k, y^2..y^(m−1) (log rounds each),
 * then P(x) = Σ_i y^i · Q_i(x) with Q_i linear in the baby powers (one batch of products).
 */
export async function evalPolynomials(
  s: Session,
  n: number,
  jobs: readonly { x: Operand; D: number; polys: readonly bigint[][] }[],
): Promise<Operand[][]> {
  const plans = jobs.map((j) => {
    const k = Math.min(j.D, Math.max(1, Math.ceil(Math.sqrt(j.D * (j.polys.length + 1)))));
    return { k, m: Math.ceil(j.D / k) };
  });
  // powers[j][e] = x^e for e = 0..k (x^k only when m > 1); giants[j][i] = (x^k)^i
  const [powers, giants] = await powersAndGiants(
    s,
    n,
    jobs.map((j, ji) => ({ x: j.x, ...plans[ji]! })),
    true,
  );
  const pairs: [Operand, Operand][] = [];
  const out: Operand[][] = jobs.map((j, ji) =>
    j.polys.map((coeffs) => {
      const { k, m } = plans[ji]!;
      const Q = (i: number) => {
        const cs = Array.from({ length: k }, (_, t) => coeffs[i * k + t] ?? 0n);
        return s.linComb(powers[ji]!.slice(0, k), cs);
      };
      for (let i = 1; i < m; i++) pairs.push([giants[ji]![i]!, Q(i)]);
      return Q(0);
    }),
  );
  const prods = await s.mulBare(pairs);
  let q = 0;
  jobs.forEach((j, ji) =>
    j.polys.forEach((_, pi) => {
      for (let i = 1; i < plans[ji]!.m; i++) out[ji]![pi] = s.add(out[ji]![pi]!, prods[q++]!);
    }),
  );
  return out;
}

/** Σ_i P(x_i) for one public polynomial P of degree < D (Paterson–Stockmeyer, outer step as one dot product). */
async function sumPolynomial(
  s: Session,
  n: number,
  x: Operand,
  D: number,
  coeffs: readonly bigint[],
): Promise<Shared> {
  const k = Math.max(1, Math.ceil(Math.sqrt(D)));
  const m = Math.ceil(D / k);
  const [powers, giants] = await powersAndGiants(s, n, [{ x, k, m }], true);
  const Q = (i: number) =>
    s.linComb(
      powers![0]!.slice(0, k),
      Array.from({ length: k }, (_, t) => coeffs[i * k + t] ?? 0n),
    );
  let total = s.sumAll(Q(0));
  if (m > 1) {
    const ys = giants![0]!.slice(1, m);
    const qs = Array.from({ length: m - 1 }, (_, i) => Q(i + 1));
    total = s.add(total, (await s.dotBare([[s.concat(ys), s.concat(qs)]]))[0]!);
  }
  const [authed] = await s.authenticate([total]);
  return authed!;
}

/**
 * Powers x^0..x^k (x^k only when m > 1) and giant steps y^0..y^(m−1), y = x^k, batched over jobs;
 * `bare`: the products carry no MACs (for results that only enter bare products, right operands
 * and sums).
 */
async function powersAndGiants(
  s: Session,
  n: number,
  jobs: readonly { x: Shared; k: number; m: number }[],
  bare: false,
): Promise<[Shared[][], Shared[][]]>;
async function powersAndGiants(
  s: Session,
  n: number,
  jobs: readonly { x: Operand; k: number; m: number }[],
  bare: true,
): Promise<[Operand[][], Operand[][]]>;
async function powersAndGiants(
  s: Session,
  n: number,
  jobs: readonly { x: Operand; k: number; m: number }[],
  bare: boolean,
): Promise<[Operand[][], Operand[][]]> {
  const mul = (pairs: [Operand, Operand][]): Promise<Operand[]> =>
    bare ? s.mulBare(pairs) : s.mulMany(pairs as [Shared, Operand][]);
  const raise = async (bases: Operand[][], targets: number[]) => {
    for (;;) {
      const pairs: [Operand, Operand][] = [];
      const dest: { j: number; e: number }[] = [];
      bases.forEach((pw, j) => {
        const have = pw.length - 1;
        for (let e = have + 1; e <= Math.min(targets[j]!, 2 * have); e++) {
          pairs.push([pw[have]!, pw[e - have]!]);
          dest.push({ j, e });
        }
      });
      if (!pairs.length) return;
      const prods = await mul(pairs);
      dest.forEach((d, i) => (bases[d.j]![d.e] = prods[i]!));
    }
  };
  const powers: Operand[][] = jobs.map((j) => [ones(s, n), j.x]);
  await raise(
    powers,
    jobs.map((j) => (j.m > 1 ? j.k : j.k - 1)),
  );
  const giants = jobs.map((j, ji) => (j.m > 1 ? [ones(s, n), powers[ji]![j.k]!] : [ones(s, n)]));
  await raise(
    giants,
    jobs.map((j) => j.m - 1),
  );
  return [powers, giants];
}

export async function runPlan(
  s: Session,
  plan: Plan,
  /**
   * Shares of the columns the plan reads (schema index → shares), with or without MACs: stored
   * columns adopted raw are authenticated here, in one batch, unless the program only compares
   * them through their bits.
   */
  columns: ReadonlyMap<number, Operand>,
  opts: RunPlanOptions,
): Promise<RunPlanResult> {
  // Refused before any computation.
  enforcePolicy(plan.checked, opts.policy);
  const lengths = new Set([...columns.values()].map((x) => x.v.length));
  if (lengths.size !== 1) {
    throw new QueryError(
      'BAD_INPUT',
      `runPlan: columns have different lengths (${[...lengths].join(', ')})`,
    );
  }
  if ([...lengths][0]! > plan.checked.schema.rows) {
    // The declared row count bounds every sum (field capacity, rational reconstruction).
    throw new QueryError(
      'BAD_INPUT',
      `runPlan: ${[...lengths][0]} rows exceed the ${plan.checked.schema.rows} rows declared in the schema`,
    );
  }
  // An empty dataset runs as one padding row that the filter excludes (engine vectors are never empty).
  const empty = [...lengths][0]! === 0;
  const n = empty ? 1 : [...lengths][0]!;
  for (const c of plan.columns)
    if (!empty && !columns.has(c.index))
      throw new QueryError(
        'BAD_INPUT',
        `runPlan: no shares for column "${c.name}" (index ${c.index})`,
      );
  /** Columns read as values, with their MACs (filled in before step 2's first computation). */
  const values = new Map<number, Shared>();
  const col = (c: ResolvedColumn): Shared => {
    if (empty) return s.constant(BigUint64Array.of(mod(c.lo)));
    const x = values.get(c.index);
    if (!x)
      // an invariant of this function, not bad input
      throw new Error(
        `runPlan: column "${c.name}" is read as values but was only prepared for bit comparisons`,
      );
    return x;
  };

  // 1. shift: x' = x − lo, in [0, 2^bits).
  const shifted = new Map<number, Shared>();
  const sh = (c: ResolvedColumn): Shared => {
    let x = shifted.get(c.index);
    if (!x) {
      x = s.addConst(col(c), mod(-c.lo));
      shifted.set(c.index, x);
    }
    return x;
  };

  // 2. atoms. Columns with a small range D are compared without the engine's generic comparison:
  // every atom on such a column is a public polynomial of degree < D in x' (a step function for
  // x' < c, a Lagrange basis polynomial for x' = c), evaluated with Paterson–Stockmeyer on shared
  // powers of x' — about 2·sqrt(D·(atoms + 1)) products per row, no random bits, no openings.
  // Wider columns and column-to-column comparisons use the engine's lt / eq, one batch each.
  // atoms, the filter and the group masks need no MACs: they are combined by bare products and
  // enter the statistics as right operands only
  const ltVecs: Operand[] = new Array<Operand>(plan.ltAtoms.length);
  const eqVecs: Operand[] = new Array<Operand>(plan.eqAtoms.length);
  const polyCols = new Map<
    number,
    { col: ResolvedColumn; polys: { coeffs: bigint[]; set: (x: Operand) => void }[] }
  >();
  const addPoly = (c: ResolvedColumn, coeffs: bigint[], set: (x: Operand) => void) => {
    if (!polyCols.has(c.index)) polyCols.set(c.index, { col: c, polys: [] });
    polyCols.get(c.index)!.polys.push({ coeffs, set });
  };
  // COUNT(*) with a single polynomial atom as filter and no groups: the count is
  // Σ_i P(x_i) = sumAll(Q_0(x)) + dot([y, y², …], [Q_1(x), Q_2(x), …]) — the outer products of
  // Paterson–Stockmeyer become one dot product, so the filter vector is never formed.
  // NOT atom sums 1 − P(x).
  const negated = plan.filter.kind === 'not';
  const f0 = plan.filter.kind === 'not' ? plan.filter.arg : plan.filter;
  // Bit-decomposed columns (opts.bits): comparisons with constants by suffix products of bits
  // (src/query/bitcmp.ts), used where they take fewer products than the polynomials (and always
  // instead of the engine's generic comparison on wide columns).
  const colBits = (c: ResolvedColumn): Operand[] | undefined => {
    if (empty || c.bits < 1) return undefined;
    const b = opts.bits?.get(c.index);
    return b && b.length >= c.bits ? b.slice(0, c.bits) : undefined;
  };
  const constAtoms = new Map<
    number,
    { col: ResolvedColumn; jobs: { c: bigint; kind: 'lt' | 'eq' }[] }
  >();
  const noteAtom = (col: ResolvedColumn, c: bigint, kind: 'lt' | 'eq') => {
    if (!constAtoms.has(col.index)) constAtoms.set(col.index, { col, jobs: [] });
    constAtoms.get(col.index)!.jobs.push({ c, kind });
  };
  plan.ltAtoms.forEach((a) => a.kind === 'const' && noteAtom(a.col, a.c, 'lt'));
  plan.eqAtoms.forEach((a) => noteAtom(a.col, a.c, 'eq'));
  const bitCols = new Set<number>();
  for (const { col, jobs } of constAtoms.values()) {
    if (!colBits(col)) continue;
    const viaBits = jobs.reduce((t, j) => t + bitCost(col.bits, j.c, j.kind), 0);
    if (rangeOf(col) > POLY_MAX_RANGE || viaBits <= polyCost(rangeOf(col), jobs.length))
      bitCols.add(col.index);
  }
  let fast: { col: ResolvedColumn; coeffs: bigint[] } | undefined;
  let fastBits: { col: ResolvedColumn; c: bigint; kind: 'lt' | 'eq' } | undefined;
  if (!empty && plan.rowVecs.length === 1 && !plan.extrema.length && !plan.groupAtoms.length) {
    let cand: { col: ResolvedColumn; c: bigint; kind: 'lt' | 'eq' } | undefined;
    if (f0.kind === 'lt') {
      const a = plan.ltAtoms[f0.atom]!;
      if (a.kind === 'const') cand = { col: a.col, c: a.c, kind: 'lt' };
    } else if (f0.kind === 'eq') {
      const a = plan.eqAtoms[f0.atom]!;
      cand = { col: a.col, c: a.c, kind: 'eq' };
    }
    if (cand) {
      const D = rangeOf(cand.col);
      if (
        colBits(cand.col) &&
        (D > POLY_MAX_RANGE || bitCost(cand.col.bits, cand.c, cand.kind) <= polySumCost(D))
      )
        fastBits = cand;
      else if (D <= POLY_MAX_RANGE)
        fast = {
          col: cand.col,
          coeffs:
            cand.kind === 'lt'
              ? stepPolynomial(D, Number(cand.c))
              : lagrangeBasis(D)[Number(cand.c)]!,
        };
    }
  }
  if (fast && negated) fast.coeffs = fast.coeffs.map((c, i) => mod((i === 0 ? 1n : 0n) - c));
  // Which columns the program reads as values: all but those whose every use is a comparison
  // with a constant through the bits. Those values need MACs (one product per element), in one
  // batch; bits-only columns skip it (stored columns are adopted without MACs).
  if (!empty) {
    const bitsOnly = new Set(bitCols);
    if (fastBits) bitsOnly.add(fastBits.col.index);
    if (fast) bitsOnly.delete(fast.col.index);
    for (const a of plan.ltAtoms)
      if (a.kind === 'cols') for (const c of [a.a, a.b]) bitsOnly.delete(c.index);
    for (const v of plan.rowVecs)
      if (v.kind === 'col') bitsOnly.delete(v.col.index);
      else if (v.kind === 'prod') for (const c of [v.a, v.b]) bitsOnly.delete(c.index);
    for (const e of plan.extrema) bitsOnly.delete(e.col.index);
    const read = plan.columns.filter((c) => !bitsOnly.has(c.index));
    const authed = await s.authenticate(read.map((c) => columns.get(c.index)!));
    read.forEach((c, i) => values.set(c.index, authed[i]!));
  }
  const fastAtom = fast !== undefined || fastBits !== undefined;
  const fastCount = fast
    ? await sumPolynomial(s, n, sh(fast.col), rangeOf(fast.col), fast.coeffs)
    : fastBits
      ? await sumCompareBits(
          s,
          n,
          { bits: colBits(fastBits.col)!, c: fastBits.c, kind: fastBits.kind },
          negated,
        )
      : undefined;
  const bitJobs: { job: BitJob; set: (x: Operand) => void }[] = [];
  const engineLt: number[] = [];
  plan.ltAtoms.forEach((a, i) => {
    if (fastAtom) return;
    if (a.kind === 'const' && bitCols.has(a.col.index)) {
      bitJobs.push({
        job: { bits: colBits(a.col)!, c: a.c, kind: 'lt' },
        set: (x) => (ltVecs[i] = x),
      });
    } else if (a.kind === 'const' && rangeOf(a.col) <= POLY_MAX_RANGE) {
      addPoly(a.col, stepPolynomial(rangeOf(a.col), Number(a.c)), (x) => (ltVecs[i] = x));
    } else engineLt.push(i);
  });
  const engineEq: number[] = [];
  plan.eqAtoms.forEach((a, i) => {
    if (fastAtom) return;
    if (bitCols.has(a.col.index)) {
      bitJobs.push({
        job: { bits: colBits(a.col)!, c: a.c, kind: 'eq' },
        set: (x) => (eqVecs[i] = x),
      });
    } else if (rangeOf(a.col) <= POLY_MAX_RANGE) {
      addPoly(a.col, lagrangeBasis(rangeOf(a.col))[Number(a.c)]!, (x) => (eqVecs[i] = x));
    } else engineEq.push(i);
  });
  if (bitJobs.length) {
    const vecs = await compareBits(
      s,
      n,
      bitJobs.map((b) => b.job),
    );
    bitJobs.forEach((b, i) => b.set(vecs[i]!));
  }
  if (polyCols.size) {
    const jobs = [...polyCols.values()].map((pc) => ({
      x: sh(pc.col),
      D: rangeOf(pc.col),
      polys: pc.polys,
    }));
    const results = await evalPolynomials(
      s,
      n,
      jobs.map((j) => ({ x: j.x, D: j.D, polys: j.polys.map((p) => p.coeffs) })),
    );
    jobs.forEach((j, ji) => j.polys.forEach((p, pi) => p.set(results[ji]![pi]!)));
  }
  if (engineLt.length) {
    const as: Shared[] = [];
    const bs: Shared[] = [];
    for (const i of engineLt) {
      const a = plan.ltAtoms[i]!;
      if (a.kind === 'const') {
        as.push(sh(a.col));
        bs.push(s.constant(new BigUint64Array(n).fill(a.c)));
      } else {
        as.push(s.addConst(col(a.a), mod(-a.offset)));
        bs.push(s.addConst(col(a.b), mod(-a.offset)));
      }
    }
    const r = await s.lt(s.concat(as), s.concat(bs));
    engineLt.forEach((i, j) => (ltVecs[i] = s.slice(r, j * n, (j + 1) * n)));
  }
  if (engineEq.length) {
    const as = engineEq.map((i) => sh(plan.eqAtoms[i]!.col));
    const bs = engineEq.map((i) => s.constant(new BigUint64Array(n).fill(plan.eqAtoms[i]!.c)));
    const r = await s.eq(s.concat(as), s.concat(bs));
    engineEq.forEach((i, j) => (eqVecs[i] = s.slice(r, j * n, (j + 1) * n)));
  }

  // 3. filter.
  function not(x: Shared): Shared;
  function not(x: Operand): Operand;
  function not(x: Operand): Operand {
    return s.affine(x, P - 1n, 1n);
  }
  const product = async (xs: Operand[]): Promise<Operand> => {
    let level = xs;
    while (level.length > 1) {
      const pairs: [Operand, Operand][] = [];
      for (let i = 0; i + 1 < level.length; i += 2) pairs.push([level[i]!, level[i + 1]!]);
      const prods = await s.mulBare(pairs);
      if (level.length % 2) prods.push(level[level.length - 1]!);
      level = prods;
    }
    return level[0]!;
  };
  const evalBool = async (b: BoolIR): Promise<Operand> => {
    switch (b.kind) {
      case 'const':
        return s.constant(new BigUint64Array(n).fill(b.value ? 1n : 0n));
      case 'lt':
        return ltVecs[b.atom]!;
      case 'eq':
        return eqVecs[b.atom]!;
      case 'not':
        return not(await evalBool(b.arg));
      case 'and': {
        const parts: Operand[] = [];
        for (const a of b.args) parts.push(await evalBool(a));
        return product(parts);
      }
      case 'or': {
        // a ∨ b = 1 − (1 − a)(1 − b)
        const parts: Operand[] = [];
        for (const a of b.args) parts.push(not(await evalBool(a)));
        return not(await product(parts));
      }
    }
  };
  const filterIsTrue = fastAtom || (!empty && plan.filter.kind === 'const' && plan.filter.value);
  const filter = filterIsTrue
    ? undefined
    : empty
      ? s.constant(BigUint64Array.of(0n))
      : await evalBool(plan.filter);

  // 4. group masks m_g = f · Π one-hot.
  const G = plan.groupKeys.length;
  async function resolveMasks(): Promise<(Operand | undefined)[]> {
    // One batch of products per GROUP BY column; a missing factor (no filter, single-value domain) is 1.
    let cur: (Operand | undefined)[] = [filter];
    for (const atoms of plan.groupAtoms) {
      const hots = atoms.map((a) => (a >= 0 ? eqVecs[a]! : undefined));
      const next: (Operand | undefined)[] = [];
      const pairs: [Operand, Operand][] = [];
      const where: number[] = [];
      for (const m of cur) {
        for (const h of hots) {
          if (m && h) {
            where.push(next.length);
            pairs.push([m, h]);
            next.push(undefined);
          } else next.push(m ?? h);
        }
      }
      const prods = await s.mulBare(pairs);
      where.forEach((w, i) => (next[w] = prods[i]!));
      cur = next;
    }
    return cur;
  }
  const rawMasks = await resolveMasks();
  /** True where the group mask is all ones (no filter, no GROUP BY): products need no masking. */
  const maskOne = rawMasks.map((m) => m === undefined);
  const groupMasks: Operand[] = rawMasks.map((m) => m ?? ones(s, n));
  if (groupMasks.length !== G) throw new Error('runPlan: internal error (group count)');

  // 5. row vectors: 1, x' and bin indicators are linear; products a'·b' never materialise.
  const V = plan.rowVecs.length;
  const linear: { i: number; vec: Shared }[] = [];
  const bins: { i: number; vec: Operand }[] = [];
  for (let i = 0; i < V; i++) {
    const v = plan.rowVecs[i]!;
    if (v.kind === 'one') linear.push({ i, vec: ones(s, n) });
    else if (v.kind === 'col') linear.push({ i, vec: sh(v.col) });
    else if (v.kind === 'bin')
      bins.push({ i, vec: s.sub(await evalBool(v.upper), await evalBool(v.lower)) });
  }
  // bin indicators are left operands of the statistics' dot products: their MACs, in one batch
  if (bins.length) {
    const authed = await s.authenticate(bins.map((b) => b.vec));
    bins.forEach((b, k) => linear.push({ i: b.i, vec: authed[k]! }));
  }
  // 6. statistics: s[g][v] = Σ_i m_g[i]·v[i] by dot products (2 field elements cross the network
  // per statistic, not per row). Σ m·a'·b' = dot(m ⊙ a', b'): one vector product per group and
  // first factor, none at all when the mask is 1.
  const prodsByFirst = new Map<
    number,
    { a: ResolvedColumn; items: { i: number; b: ResolvedColumn }[] }
  >();
  plan.rowVecs.forEach((v, i) => {
    if (v.kind !== 'prod') return;
    if (!prodsByFirst.has(v.a.index)) prodsByFirst.set(v.a.index, { a: v.a, items: [] });
    prodsByFirst.get(v.a.index)!.items.push({ i, b: v.b });
  });
  const firsts = [...prodsByFirst.values()];
  const weighted: Shared[][] = Array.from({ length: G }, () => []);
  {
    const pairs: [Shared, Operand][] = [];
    const dest: [number, number][] = [];
    for (let g = 0; g < G; g++) {
      firsts.forEach((f, fi) => {
        if (maskOne[g]) weighted[g]![fi] = sh(f.a);
        else {
          pairs.push([sh(f.a), groupMasks[g]!]);
          dest.push([g, fi]);
        }
      });
    }
    const prods = await s.mulMany(pairs);
    dest.forEach(([g, fi], k) => (weighted[g]![fi] = prods[k]!));
  }
  const stats: Shared[] = [];
  for (let g = 0; g < G; g++) {
    if (fastCount) {
      stats.push(fastCount);
      continue;
    }
    const entries: Shared[] = new Array<Shared>(V);
    const lin = await s.dotMany(
      linear.map((l) => l.vec),
      groupMasks[g]!,
    );
    linear.forEach((l, k) => (entries[l.i] = s.slice(lin, k, k + 1)));
    for (let fi = 0; fi < firsts.length; fi++) {
      const f = firsts[fi]!;
      const d = await s.dotMany(
        f.items.map((it) => sh(it.b)),
        weighted[g]![fi]!,
      );
      f.items.forEach((it, k) => (entries[it.i] = s.slice(d, k, k + 1)));
    }
    stats.push(s.concat(entries));
  }

  // 7a. extrema of small-range columns from moments: M_j = Σ_i m_g[i]·x'^j (one dotMany per
  // group), count of value v = Σ_j L_v[j]·M_j (public linear map), and
  // MAX' = Σ_{v≥1} [#rows with x' ≥ v > 0], (range − MIN') = Σ_{v≥1} [#rows with x' < v > 0]:
  // one batched comparison of scalars. D − 2 products per row instead of bits × comparisons.
  const ext: Shared[][] = plan.extrema.map(() => []);
  const smallExt = plan.extrema
    .map((e, ei) => ({ e, ei }))
    .filter(({ e }) => rangeOf(e.col) <= POLY_MAX_RANGE && rangeOf(e.col) > 1);
  const bigExt = plan.extrema
    .map((e, ei) => ({ e, ei }))
    .filter(({ e }) => !(rangeOf(e.col) <= POLY_MAX_RANGE && rangeOf(e.col) > 1));
  for (const { ei } of plan.extrema
    .map((e, ei) => ({ e, ei }))
    .filter(({ e }) => rangeOf(e.col) <= 1)) {
    ext[ei] = Array.from({ length: G }, () => s.constant(BigUint64Array.of(0n)));
  }
  if (smallExt.length) {
    const cols = [...new Map(smallExt.map(({ e }) => [e.col.index, e.col])).values()];
    // x'^0 .. x'^(D−1), level by level, batched over the columns.
    // (MAC'd: the powers are left operands of the moments' dot products)
    const [powers] = await powersAndGiants(
      s,
      n,
      cols.map((c) => ({ x: sh(c), k: rangeOf(c), m: 1 })),
      false,
    );
    const flat = powers.flat();
    const offsets: number[] = [];
    powers.reduce((o, pw) => (offsets.push(o), o + pw.length), 0);
    const thresholds: Shared[] = [];
    const owners: { ei: number; g: number; count: number }[] = [];
    for (let g = 0; g < G; g++) {
      const M = await s.dotMany(flat, groupMasks[g]!);
      for (const { e, ei } of smallExt) {
        const j = cols.indexOf(e.col);
        const D = rangeOf(e.col);
        const moments = s.slice(M, offsets[j]!, offsets[j]! + D);
        for (let v = 1; v < D; v++) {
          // #rows with x' < v = Σ_j step_v[j]·M_j ; #rows with x' ≥ v = M_0 − that.
          const below = s.sumAll(s.mulPublic(moments, BigUint64Array.from(stepPolynomial(D, v))));
          thresholds.push(e.dir === 'max' ? s.sub(s.slice(moments, 0, 1), below) : below);
        }
        owners.push({ ei, g, count: D - 1 });
      }
    }
    const nz = await s.gtConst(s.concat(thresholds), 0n);
    let off = 0;
    for (const o of owners) {
      ext[o.ei]![o.g] = s.sumAll(s.slice(nz, off, off + o.count));
      off += o.count;
    }
  }

  // 7b. extrema of wide columns by bitwise search (MSB first), batched over (extremum, group).
  if (bigExt.length) {
    const vals = plan.extrema.map((e) =>
      e.dir === 'max' ? sh(e.col) : s.affine(sh(e.col), P - 1n, e.col.hi - e.col.lo),
    );
    const r: Shared[][] = plan.extrema.map(() =>
      Array.from({ length: G }, () => s.constant(BigUint64Array.of(0n))),
    );
    const maxBits = Math.max(...bigExt.map(({ e }) => e.col.bits));
    for (let j = maxBits - 1; j >= 0; j--) {
      const active: [number, number][] = [];
      bigExt.forEach(({ e, ei }) => {
        if (e.col.bits > j) for (let g = 0; g < G; g++) active.push([ei, g]);
      });
      const pow = 1n << BigInt(j);
      const cands = active.map(([ei, g]) => broadcast(s.addConst(r[ei]![g]!, pow), n));
      const lts = await s.lt(s.concat(active.map(([ei]) => vals[ei]!)), s.concat(cands));
      // count of rows in the group with value ≥ candidate: dot(mask_g, 1 − lt)
      const counts: Shared[] = [];
      for (let g = 0; g < G; g++) {
        const mine = active.map((a, k) => [a, k] as const).filter(([a]) => a[1] === g);
        if (!mine.length) continue;
        const geVecs = mine.map(([, k]) => not(s.slice(lts, k * n, (k + 1) * n)));
        const d = await s.dotMany(geVecs, groupMasks[g]!);
        mine.forEach(([a], i) => (counts[active.indexOf(a)] = s.slice(d, i, i + 1)));
      }
      const nz = await s.gtConst(s.concat(counts), 0n);
      active.forEach(([ei, g], k) => {
        r[ei]![g] = s.add(r[ei]![g]!, s.mulConst(s.slice(nz, k, k + 1), pow));
      });
    }
    bigExt.forEach(({ ei }) => (ext[ei] = r[ei]!));
  }

  // 8. policy: joint noise, cohort threshold, masking.
  const scales = noiseScales(plan, opts.policy);
  const noisy: Shared[] = [];
  if (opts.policy.noise) {
    const all = await jointDiscreteLaplace(s, Array.from({ length: G }, () => scales).flat());
    for (let g = 0; g < G; g++) noisy.push(s.add(stats[g]!, s.slice(all, g * V, (g + 1) * V)));
  } else noisy.push(...stats);

  const binIdx = plan.rowVecs.map((v, i) => (v.kind === 'bin' ? i : -1)).filter((i) => i >= 0);
  const k = BigInt(opts.policy.minCohort);
  let passed: Shared[];
  let binPassed: Shared[][];
  if (k <= 0n && !opts.policy.noise) {
    passed = Array.from({ length: G }, () => s.constant(BigUint64Array.of(1n)));
    binPassed = Array.from({ length: G }, () =>
      binIdx.map(() => s.constant(BigUint64Array.of(1n))),
    );
  } else {
    // [count ≥ k] for every group count and every bin count, in one comparison.
    const counts: Shared[] = [];
    for (let g = 0; g < G; g++) {
      counts.push(s.slice(noisy[g]!, 0, 1));
      for (const i of binIdx) counts.push(s.slice(noisy[g]!, i, i + 1));
    }
    const shiftedCounts = s.addConst(s.concat(counts), CMP_OFFSET);
    const below = await s.lt(
      shiftedCounts,
      s.constant(BigUint64Array.of(...counts.map(() => CMP_OFFSET + k))),
    );
    const ge = not(below);
    passed = [];
    binPassed = [];
    const per = 1 + binIdx.length;
    for (let g = 0; g < G; g++) {
      passed.push(s.slice(ge, g * per, g * per + 1));
      binPassed.push(binIdx.map((_, b) => s.slice(ge, g * per + 1 + b, g * per + 2 + b)));
    }
    // A bin is released only if its group is: keep = passed_g · binPassed.
    if (binIdx.length) {
      const prods = await s.mulMany(
        binPassed.flatMap((bp, g) =>
          bp.map((b) => [broadcast(passed[g]!, 1), b] as [Shared, Shared]),
        ),
      );
      let q = 0;
      binPassed = binPassed.map((bp) => bp.map(() => prods[q++]!));
    }
  }
  // Multiply every released value by its keep bit (one batch).
  const pairs: [Shared, Shared][] = [];
  for (let g = 0; g < G; g++) {
    const keep: Shared[] = [];
    let b = 0;
    plan.rowVecs.forEach((v) => keep.push(v.kind === 'bin' ? binPassed[g]![b++]! : passed[g]!));
    pairs.push([s.concat(keep), noisy[g]!]);
    if (plan.extrema.length)
      pairs.push([
        broadcast(passed[g]!, plan.extrema.length),
        s.concat(plan.extrema.map((_, ei) => ext[ei]![g]!)),
      ]);
  }
  // AVG-only queries (plan.hideCount) on columns too wide for the division (no plan.avgDiv):
  // counts and sums stay shared; each AVG opens
  // (r·passed·Σx', r·passed·n) with a fresh random r, which fixes only the fraction Σx'/n.
  const R = plan.ratios.length;
  let rp: Shared | undefined;
  if (R && !plan.avgDiv) {
    const r = await s.random(G * R);
    [rp] = await s.mulMany([
      [r, s.concat(Array.from({ length: G }, (_, g) => broadcast(passed[g]!, R)))],
    ]);
    for (let g = 0; g < G; g++) {
      const rg = s.slice(rp!, g * R, (g + 1) * R);
      const sums = s.concat(plan.ratios.map((vi) => s.slice(noisy[g]!, vi, vi + 1)));
      pairs.push([s.concat([rg, rg]), s.concat([sums, broadcast(s.slice(noisy[g]!, 0, 1), R)])]);
    }
  }
  const masked = await s.mulMany(pairs);
  // AVG-only queries with division (plan.avgDiv): q = floor(Σx'·2^f / n) inside MPC, one batched
  // division over all groups and AVG columns; each AVG opens [ok·q, ok] with ok = passed·[n ≥ 1].
  let divOut: { q: Shared; ok: Shared } | undefined;
  if (R && plan.avgDiv) divOut = await avgByDivision(s, plan, noisy, passed, opts.policy);
  // VAR/STDDEV and CORR by exact multi-limb division inside MPC (plan.fixed): [q, status, negative].
  const fixedOut = plan.fixed.length
    ? opts.policy.noise
      ? noisyFixed(s, plan, passed)
      : await fixedStatistics(s, plan, noisy, passed)
    : [];
  const released = BigUint64Array.from(
    releasedStats(plan, opts.policy.noise !== undefined).map((r) => (r ? 1n : 0n)),
  );
  const out: Shared[] = [];
  const perG = plan.extrema.length ? 2 : 1;
  for (let g = 0; g < G; g++) {
    const stat = masked[g * perG]!;
    out.push(passed[g]!, s.mulPublic(stat, released), ...binPassed[g]!);
    if (plan.extrema.length) out.push(masked[g * perG + 1]!);
    if (divOut) {
      for (let j = 0; j < R; j++)
        out.push(
          s.slice(divOut.q, g * R + j, g * R + j + 1),
          s.slice(divOut.ok, g * R + j, g * R + j + 1),
        );
    } else if (R) {
      const both = masked[G * perG + g]!; // [r_j·S_j for j < R, r_j·n for j < R]
      for (let j = 0; j < R; j++)
        out.push(s.slice(both, j, j + 1), s.slice(both, R + j, R + j + 1));
    }
    if (plan.fixed.length) out.push(fixedOut[g]!);
  }
  const output = s.concat(out);
  if (output.v.length !== G * plan.perGroup)
    throw new Error('runPlan: internal error (output layout)');

  // 9. verify and open (or hand out verified shares).
  switch (opts.output.kind) {
    case 'all':
      return { opened: Array.from(await s.open(output)) };
    case 'party': {
      const v = await s.openTo(opts.output.party, output);
      return { opened: v ? Array.from(v) : null };
    }
    case 'shares':
      await s.verify();
      return { opened: null, shares: BigUint64Array.from(output.v) };
  }
}

/**
 * The AVGs of an AVG-only query as fixed-point quotients computed inside MPC: for group g and AVG
 * column j, q = floor(S·2^f / n) with S = Σx' and n the group's count (noisy when the policy adds
 * noise), and ok = passed·[n ≥ 1]. Where ok = 0 the division runs on (0, 1) and q = 0, so an empty
 * or suppressed group opens [0, 0] whatever its size. With noise, S is clamped to [0, rows·(hi − lo)]
 * and n to at most rows first (post-processing of the noisy statistics, so the guarantee stands),
 * which keeps the operands inside the division's ranges. One batched division for everything.
 */
async function avgByDivision(
  s: Session,
  plan: Plan,
  noisy: readonly Shared[],
  passed: readonly Shared[],
  policy: Policy,
): Promise<{ q: Shared; ok: Shared }> {
  const { fracBits, xBits, yBits } = plan.avgDiv!;
  const G = plan.groupKeys.length;
  const R = plan.ratios.length;
  const cells = G * R;
  const fill = (vs: bigint[]) => s.constant(BigUint64Array.from(vs.map(mod)));
  let sums = s.concat(
    Array.from({ length: G }, (_, g) =>
      s.concat(plan.ratios.map((vi) => s.slice(noisy[g]!, vi, vi + 1))),
    ),
  );
  let counts = s.concat(
    Array.from({ length: G }, (_, g) => broadcast(s.slice(noisy[g]!, 0, 1), R)),
  );
  let ok = s.concat(Array.from({ length: G }, (_, g) => broadcast(passed[g]!, R)));
  const rows = BigInt(Math.max(1, plan.checked.schema.rows));
  const bounds = Array.from({ length: G }, () =>
    plan.ratios.map((vi) => {
      const v = plan.rowVecs[vi]!;
      if (v.kind !== 'col') throw new Error('runPlan: internal error (AVG column)');
      return rows * (v.col.hi - v.col.lo);
    }),
  ).flat();
  // Signed values (noise) are compared with an offset: |noise| < 2^30 < CMP_OFFSET.
  const off = (x: Shared) => s.addConst(x, CMP_OFFSET);
  const W = 59;
  if (policy.noise || BigInt(policy.minCohort) < 1n) {
    // One batched comparison: [n < 1], and with noise [S < 0], [S > bound], [n > rows].
    const as: Shared[] = [off(counts)];
    const bs: Shared[] = [fill(Array.from({ length: cells }, () => CMP_OFFSET + 1n))];
    if (policy.noise) {
      as.push(fill(Array.from({ length: cells }, () => CMP_OFFSET)));
      bs.push(off(sums));
      as.push(fill(bounds.map((b) => b + CMP_OFFSET)));
      bs.push(off(sums));
      as.push(fill(Array.from({ length: cells }, () => rows + CMP_OFFSET)));
      bs.push(off(counts));
    }
    const c = await s.lt(s.concat(as), s.concat(bs), W);
    const part = (i: number) => s.slice(c, i * cells, (i + 1) * cells);
    // lt(a, b) = [a < b]: part 0 = [n < 1]; with noise, part 1 = pos = [S > 0],
    // part 2 = over = [S > bound], part 3 = big = [n > rows].
    const pairs: [Shared, Shared][] = [[ok, s.affine(part(0), P - 1n, 1n)]];
    if (policy.noise) pairs.push([part(1), sums], [part(2), sums], [part(3), counts]);
    const prods = await s.mulMany(pairs);
    ok = prods[0]!;
    if (policy.noise) {
      // S_c = pos·S − over·S + over·bound (over implies pos); n_c = n − big·n + big·rows.
      sums = s.add(s.sub(prods[1]!, prods[2]!), s.mulPublic(part(2), BigUint64Array.from(bounds)));
      counts = s.add(s.sub(counts, prods[3]!), s.mulConst(part(3), rows));
    }
  }
  const [xs, okn] = await s.mulMany([
    [ok, sums],
    [ok, counts],
  ]);
  const x = s.mulConst(xs!, 1n << BigInt(fracBits));
  const y = s.addConst(s.sub(okn!, ok), 1n); // n where ok, 1 elsewhere
  // The engine's restoring division, in radix 2^k (src/query/fixdiv.ts): a k-th of the rounds.
  const q = compose(s, await divideChunks(s, [{ x, pos: 0, bits: xBits }], y, yBits));
  return { q, ok };
}

/** With DP noise: every fixed statistic opens [0, 2·passed, 0] (released from the noisy statistics). */
function noisyFixed(s: Session, plan: Plan, passed: readonly Shared[]): Shared[] {
  return passed.map((p) =>
    s.concat(
      plan.fixed.map(() =>
        s.concat([
          s.constant(BigUint64Array.of(0n)),
          s.mulConst(p, 2n),
          s.constant(BigUint64Array.of(0n)),
        ]),
      ),
    ),
  );
}

/**
 * VAR and CORR of every group by exact division inside MPC (see `FixedAgg` in plan.ts and
 * src/query/fixdiv.ts). Per group, returns the concatenated [q, ok, negative] of every fixed
 * statistic; ok = passed·[n ≥ 2] (and, for CORR, both variances non-zero). Where ok = 0 the
 * numerator is 0 and the divisor 1, so the slots open as [0, 0, 0] whatever the data. All cells
 * (groups × statistics) of a kind are batched; VAR and the first CORR division share their steps.
 */
async function fixedStatistics(
  s: Session,
  plan: Plan,
  noisy: readonly Shared[],
  passed: readonly Shared[],
): Promise<Shared[]> {
  const G = plan.groupKeys.length;
  const vars = plan.fixed
    .map((f, j) => ({ f, j }))
    .filter((x): x is { f: Extract<FixedAgg, { kind: 'var' }>; j: number } => x.f.kind === 'var');
  const corrs = plan.fixed
    .map((f, j) => ({ f, j }))
    .filter((x): x is { f: Extract<FixedAgg, { kind: 'corr' }>; j: number } => x.f.kind === 'corr');
  const stat = (g: number, i: number) => s.slice(noisy[g]!, i, i + 1);
  // cells, group-major: VAR cells then CORR cells
  const cellsOf = <T>(xs: readonly T[], get: (g: number, x: T) => Shared) =>
    s.concat(Array.from({ length: G }, (_, g) => s.concat(xs.map((x) => get(g, x)))));
  const V = vars.length;
  const C = corrs.length;
  const parts: Shared[][] = Array.from({ length: G }, () => new Array<Shared>(plan.fixed.length));
  // REGRESS: one elimination per spec, vectorised over the groups (src/query/regress.ts).
  for (const f of plan.fixed) {
    if (f.kind !== 'regress' || f.coef !== 0) continue;
    const { spec } = f;
    const out = await regressShared(
      s,
      (a, b) => s.concat(Array.from({ length: G }, (_, g) => stat(g, spec.gram[a]![b]!))),
      spec.scaling,
      s.concat(passed),
    );
    out.forEach((c, i) => {
      for (let g = 0; g < G; g++)
        parts[g]![spec.first + i] = s.concat([
          s.slice(c.q, g, g + 1),
          s.slice(c.ok, g, g + 1),
          s.slice(c.negative, g, g + 1),
        ]);
    });
  }
  if (V + C === 0) return parts.map((p) => s.concat(p));

  // Co-moments: N = n·S2 − S1², D = n² − n (VAR); Caa, Cbb, Cab (CORR). One batch of products.
  const nV = cellsOf(vars, (g) => stat(g, 0));
  const nC = cellsOf(corrs, (g) => stat(g, 0));
  const pick = (xs: readonly { f: FixedAgg }[], k: (f: FixedAgg) => number, len: number) =>
    len ? cellsOf(xs, (g, x) => stat(g, k(x.f))) : s.constant(new BigUint64Array(0));
  const S1 = pick(vars, (f) => (f.kind === 'var' ? f.s1 : 0), V);
  const S2 = pick(vars, (f) => (f.kind === 'var' ? f.s2 : 0), V);
  const ck = (name: 'sa' | 'sb' | 'saa' | 'sbb' | 'sab') =>
    pick(corrs, (f) => (f.kind === 'corr' ? f[name] : 0), C);
  const [Sa, Sb, Saa, Sbb, Sab] = [ck('sa'), ck('sb'), ck('saa'), ck('sbb'), ck('sab')];
  const pr = await s.mulMany(
    [
      [nV, S2],
      [S1, S1],
      [nV, nV],
      [nC, Saa],
      [Sa, Sa],
      [nC, Sbb],
      [Sb, Sb],
      [nC, Sab],
      [Sa, Sb],
    ].filter(([a]) => a.v.length > 0) as [Shared, Shared][],
  );
  const take = (() => {
    let i = 0;
    return () => pr[i++]!;
  })();
  const N = V ? s.sub(take(), take()) : undefined;
  const D = V ? s.sub(take(), nV) : undefined;
  const Caa = C ? s.sub(take(), take()) : undefined;
  const Cbb = C ? s.sub(take(), take()) : undefined;
  const Cab = C ? s.sub(take(), take()) : undefined;

  // One batched comparison (58 bits): [n < 2] for every cell; for CORR also [Caa < 1], [Cbb < 1]
  // and [Cab < 0] (as Cab + 2^57 < 2^57; |Cab| < 2^57 by the plan's bounds).
  const W = 58;
  const H = 1n << 57n;
  const lens = [V * G, C * G];
  const cmpA: Shared[] = [];
  const cmpB: bigint[] = [];
  if (V) {
    cmpA.push(nV);
    cmpB.push(...Array.from({ length: lens[0]! }, () => 2n));
  }
  if (C) {
    cmpA.push(nC, Caa!, Cbb!, s.addConst(Cab!, H));
    for (const c of [2n, 1n, 1n, H]) cmpB.push(...Array.from({ length: lens[1]! }, () => c));
  }
  const lt = await s.lt(s.concat(cmpA), s.constant(BigUint64Array.from(cmpB)), W);
  const part = (i: number, len: number) => s.slice(lt, i, i + len);
  const notB = (x: Shared) => s.affine(x, P - 1n, 1n);
  const passV = V ? cellsOf(vars, (g) => passed[g]!) : undefined;
  const passC = C ? cellsOf(corrs, (g) => passed[g]!) : undefined;
  let okV: Shared | undefined;
  let okC: Shared | undefined;
  let negC: Shared | undefined;
  let absC: Shared | undefined;
  {
    const o = V * G;
    const L = C * G;
    const pairs: [Shared, Shared][] = [];
    if (V) pairs.push([passV!, notB(part(0, o))]);
    if (C) {
      negC = part(o + 3 * L, L);
      pairs.push(
        [passC!, notB(part(o, L))],
        [notB(part(o + L, L)), notB(part(o + 2 * L, L))],
        [Cab!, s.affine(negC, P - 2n, 1n)], // |Cab| = Cab·(1 − 2·neg)
      );
    }
    const q1 = await s.mulMany(pairs);
    let i = 0;
    if (V) okV = q1[i++]!;
    if (C) {
      const [m1, m2, abs] = [q1[i++]!, q1[i++]!, q1[i++]!];
      [okC] = await s.mulMany([[m1, m2]]);
      absC = abs;
    }
  }
  // Zero the numerators and make the divisors 1 where ok = 0.
  const z: [Shared, Shared][] = [];
  if (V) z.push([okV!, N!], [okV!, s.addConst(D!, P - 1n)]);
  if (C)
    z.push(
      [okC!, absC!],
      [okC!, s.addConst(Caa!, P - 1n)],
      [okC!, s.addConst(Cbb!, P - 1n)],
      [okC!, negC!],
    );
  const zs = await s.mulMany(z);
  let zi = 0;
  const numV = V ? zs[zi++]! : undefined;
  const denV = V ? s.addConst(zs[zi++]!, 1n) : undefined;
  const absOk = C ? zs[zi++]! : undefined;
  const denA = C ? s.addConst(zs[zi++]!, 1n) : undefined;
  const denB = C ? s.addConst(zs[zi++]!, 1n) : undefined;
  const negOut = C ? zs[zi++]! : undefined;

  // VAR: q = floor(N·2^f / D), N < 2^numBits (a field element), in chunks of 59 − denBits bits.
  let qV: Shared | undefined;
  if (V) {
    const numBits = Math.max(...vars.map((x) => x.f.numBits));
    const denBits = Math.max(...vars.map((x) => x.f.denBits));
    const f = vars[0]!.f.fracBits; // the planner gives every VAR of a query the same f
    const digits = await toDigits(s, numV!, numBits);
    const chunks = await toChunks(s, digits, DIGIT_BITS, MAX_CMP_BITS - denBits, numBits, f);
    qV = compose(s, await divideChunks(s, chunks, denV!, denBits));
  }
  // CORR: q = floor(floor(Cab²·2^f / Caa) / Cbb). Cab² from 29-bit digits of |Cab| (< 2^57).
  let qC: Shared | undefined;
  if (C) {
    const f = corrs[0]!.f.fracBits;
    const abBits = Math.max(...corrs.map((x) => x.f.abBits));
    const denBits = Math.max(...corrs.map((x) => x.f.denBits));
    const bbBits = Math.max(...corrs.map((x) => x.f.bbBits));
    const w = MAX_CMP_BITS - denBits;
    const [a0, a1] = await splitLow(s, absOk!, DIGIT_BITS);
    const [c0, c1, c2] = await s.mulMany([
      [a0!, a0!],
      [a0!, a1!],
      [a1!, a1!],
    ]);
    // Cab² = c0 + 2·c1·2^29 + c2·2^58: columns below 2^58, 2^59 and 2^56.
    const digits = await normalizeColumns(s, [
      c0!,
      s.mulConst(c1!, 2n),
      c2!,
      s.constant(new BigUint64Array(C * G)),
    ]);
    const chunks = await toChunks(s, digits, DIGIT_BITS, w, 2 * abBits, f);
    const u = await divideChunks(s, chunks, denA!, denBits);
    // u ≤ Cbb·2^f < 2^(bbBits + f): higher chunks are zero.
    const uChunks = u.filter((c) => c.pos < bbBits + f);
    qC = compose(s, await divideChunks(s, uChunks, denB!, denBits));
  }
  const zero = s.constant(BigUint64Array.of(0n));
  return Array.from({ length: G }, (_, g) => {
    const out = parts[g]!;
    vars.forEach(({ j }, k) => {
      const i = g * V + k;
      out[j] = s.concat([s.slice(qV!, i, i + 1), s.slice(okV!, i, i + 1), zero]);
    });
    corrs.forEach(({ j }, k) => {
      const i = g * C + k;
      out[j] = s.concat([
        s.slice(qC!, i, i + 1),
        s.slice(okC!, i, i + 1),
        s.slice(negOut!, i, i + 1),
      ]);
    });
    return s.concat(out);
  });
}
