/**
 * Turns the opened output vector of a plan (field elements) into the researcher's answer. Runs on
 * the requester's side after decryption; both the MPC compiler and the plaintext reference
 * evaluator feed it, so they cannot disagree on the arithmetic done in the clear.
 */
import type { AggSpec, CExpr } from './check';
import { fixedOf, layout, type Plan } from './plan';
import { REGRESS_FRAC_BITS } from './regress';
import { daysToDate, type ResolvedColumn } from './schema';

/** p = 2^61 − 1, the engine's field. */
export const P = (1n << 61n) - 1n;

export type ResultValue = number | string | null | (number | null)[];

export interface ResultRow {
  /** Group values (empty without GROUP BY). */
  key: string[];
  /** True when the group had fewer rows than the policy's minimum cohort: all values are null. */
  suppressed: boolean;
  values: ResultValue[];
}

export interface QueryResult {
  hash: string;
  canonical: string;
  labels: string[];
  groupBy: string[];
  rows: ResultRow[];
}

/** Field element → signed integer (values above p/2 are negative). */
export function signed(v: bigint): bigint {
  return v > P / 2n ? v - P : v;
}

type Frac = [bigint, bigint]; // numerator, positive denominator

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) [a, b] = [b, a % b];
  return a;
}
function frac(n: bigint, d: bigint): Frac {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return [n / g, d / g];
}
const fsub = (a: Frac, b: Frac): Frac => frac(a[0] * b[1] - b[0] * a[1], a[1] * b[1]);
const fmul = (a: Frac, b: Frac): Frac => frac(a[0] * b[0], a[1] * b[1]);
const fdiv = (a: Frac, b: Frac): Frac => frac(a[0] * b[1], a[1] * b[0]);
const fnum = (a: Frac): number => {
  // Scale down huge numerators/denominators before converting so the quotient keeps its precision.
  const absNum = a[0] < 0n ? -a[0] : a[0];
  const bits = (absNum > a[1] ? absNum : a[1]).toString(2).length;
  const shift = BigInt(Math.max(0, bits - 1000));
  return Number(a[0] >> shift) / Number(a[1] >> shift);
};

/** Solves A x = b exactly over the rationals (A, b integer); null if A is singular. */
export function solveExact(a: bigint[][], b: bigint[]): Frac[] | null {
  const n = b.length;
  const m: Frac[][] = a.map((r, i) => [...r.map((v): Frac => [v, 1n]), [b[i]!, 1n]]);
  for (let c = 0; c < n; c++) {
    const piv = m.findIndex((r, i) => i >= c && r[c]![0] !== 0n);
    if (piv < 0) return null;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c || m[r]![c]![0] === 0n) continue;
      const f = fdiv(m[r]![c]!, m[c]![c]!);
      for (let k = c; k <= n; k++) m[r]![k] = fsub(m[r]![k]!, fmul(f, m[c]![k]!));
    }
  }
  return m.map((r, i) => fdiv(r[n]!, r[i]!));
}

function modInverse(a: bigint): bigint {
  let r = 1n;
  let b = a % P;
  let e = P - 2n;
  while (e) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/**
 * The fraction a/b (b > 0) with |a| ≤ A, b ≤ B congruent to u mod p, by the extended Euclidean
 * algorithm (unique when 2AB < p: the plan checks the bounds). A = rows·range, B = rows, each with
 * a margin for noise.
 */
export function rationalReconstruct(
  u: bigint,
  rows: number,
  col: ResolvedColumn,
): [bigint, bigint] | null {
  const A = BigInt(Math.max(1, rows)) * (col.hi - col.lo + 1n) + (1n << 24n);
  const B = BigInt(Math.max(1, rows)) + (1n << 24n);
  let [r0, r1] = [P, u % P];
  let [t0, t1] = [0n, 1n];
  while (r1 > A) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (t1 === 0n || (t1 < 0n ? -t1 : t1) > B) return null;
  return t1 < 0n ? [-r1, -t1] : [r1, t1];
}

export function finalize(plan: Plan, opened: readonly bigint[]): QueryResult {
  const q = plan.checked;
  const vecIndex = new Map<string, number>();
  plan.rowVecs.forEach((v, i) => {
    if (v.kind === 'one') vecIndex.set('one', i);
    else if (v.kind === 'col') vecIndex.set(`col:${v.col.name}`, i);
    else if (v.kind === 'prod') vecIndex.set(`prod:${v.a.name}:${v.b.name}`, i);
  });
  const binOrdinals: number[] = [];
  let ord = 0;
  plan.rowVecs.forEach((v, i) => {
    if (v.kind === 'bin') binOrdinals[i] = ord++;
  });

  const rows: ResultRow[] = plan.groupKeys.map((key, g) => {
    const passed = opened[layout.passed(plan, g)] === 1n;
    if (!passed)
      return {
        key,
        suppressed: true,
        values: q.items.map((it) =>
          it.expr.kind === 'groupKey' ? key[q.groupBy.indexOf(it.expr.col)]! : null,
        ),
      };
    const stat = (k: string): bigint => signed(opened[layout.stat(plan, g, vecIndex.get(k)!)]!);
    const n = stat('one');
    const nn = Number(n);
    const sum1 = (c: ResolvedColumn) => stat(`col:${c.name}`);
    const prod = (a: ResolvedColumn, b: ResolvedColumn) =>
      a.index <= b.index ? stat(`prod:${a.name}:${b.name}`) : stat(`prod:${b.name}:${a.name}`);
    const unit = (c: ResolvedColumn) => 10 ** c.scale;
    /** A statistic computed inside MPC: its quotient q / 2^f, status and sign (undefined if none). */
    const fixed = (a: AggSpec) => {
      const j = fixedOf(plan, a);
      if (j < 0) return undefined;
      const at = layout.fixed(plan, g, j);
      const f = plan.fixed[j]!;
      return {
        q: Number(opened[at]!) / 2 ** (f.kind === 'regress' ? REGRESS_FRAC_BITS : f.fracBits),
        status: Number(opened[at + 1]!),
        negative: opened[at + 2] === 1n,
      };
    };
    /** n·Σa'b' − Σa'·Σb' (exact), the co-moment scaled by n. */
    const comoment = (a: ResolvedColumn, b: ResolvedColumn) => n * prod(a, b) - sum1(a) * sum1(b);

    const agg = (a: AggSpec): ResultValue => {
      switch (a.fn) {
        case 'COUNT':
          return nn;
        case 'SUM':
          return nn <= 0 ? null : Number(sum1(a.col) + n * a.col.lo) / unit(a.col);
        case 'AVG': {
          if (plan.hideCount) {
            const vi = vecIndex.get(`col:${a.col.name}`)!;
            const at = layout.ratio(plan, g, plan.ratios.indexOf(vi));
            if (plan.avgDiv) {
              // [q, nonEmpty]: q = floor(Σx'·2^f / n), within 2^−f stored units below Σx'/n.
              if (opened[at + 1] !== 1n) return null;
              const avg = Number(opened[at]!) / 2 ** plan.avgDiv.fracBits;
              return (avg + Number(a.col.lo)) / unit(a.col);
            }
            const rs = opened[at]!;
            const rn = opened[at + 1]!;
            if (rn === 0n) return null;
            const frac = rationalReconstruct(
              (rs * modInverse(rn)) % P,
              plan.checked.schema.rows,
              a.col,
            );
            if (!frac) return null;
            return (Number(frac[0]) / Number(frac[1]) + Number(a.col.lo)) / unit(a.col);
          }
          return nn <= 0 ? null : Number(sum1(a.col) + n * a.col.lo) / nn / unit(a.col);
        }
        case 'VAR':
        case 'STDDEV': {
          const fx = fixed(a);
          if (fx && fx.status !== 2) {
            // q = floor(VAR·2^f) in stored units², computed inside MPC; STDDEV = sqrt of it.
            if (fx.status !== 1) return null;
            const v = fx.q / unit(a.col) ** 2;
            return a.fn === 'VAR' ? v : Math.sqrt(v);
          }
          if (nn < 2) return null;
          const v = Math.max(
            0,
            Number(comoment(a.col, a.col)) / (nn * (nn - 1)) / unit(a.col) ** 2,
          );
          return a.fn === 'VAR' ? v : Math.sqrt(v);
        }
        case 'MIN':
        case 'MAX': {
          if (nn <= 0) return null;
          const e = plan.extrema.findIndex(
            (x) => x.col === a.col && x.dir === (a.fn === 'MIN' ? 'min' : 'max'),
          );
          const r = signed(opened[layout.extremum(plan, g, e)]!);
          const stored = a.fn === 'MAX' ? a.col.lo + r : a.col.hi - r;
          return a.col.type.kind === 'date'
            ? daysToDate(Number(stored))
            : Number(stored) / unit(a.col);
        }
        case 'HISTOGRAM': {
          const h = plan.histograms.findIndex(
            (x) => x.spec === a || (x.col === a.col && x.spec.edges.join() === a.edges.join()),
          );
          const first = plan.histograms[h]!.firstVec;
          const out: (number | null)[] = [];
          for (let b = 0; b < a.bins; b++) {
            const vi = first + b;
            const ok = opened[layout.binPassed(plan, g, binOrdinals[vi]!)] === 1n;
            out.push(ok ? Number(signed(opened[layout.stat(plan, g, vi)]!)) : null);
          }
          return out;
        }
        case 'CORR': {
          const fx = fixed(a);
          if (fx && fx.status !== 2) {
            // q = floor(r²·2^f) and the sign of r, computed inside MPC.
            if (fx.status !== 1) return null;
            return (fx.negative ? -1 : 1) * Math.min(1, Math.sqrt(fx.q));
          }
          if (nn < 2) return null;
          const den = Number(comoment(a.a, a.a)) * Number(comoment(a.b, a.b));
          if (!(den > 0)) return null;
          return Math.max(-1, Math.min(1, Number(comoment(a.a, a.b)) / Math.sqrt(den)));
        }
        case 'REGRESS': {
          const j0 = fixedOf(plan, a);
          const f0 = plan.fixed[j0];
          if (f0?.kind === 'regress' && Number(opened[layout.fixed(plan, g, j0) + 1]!) !== 2) {
            // Computed inside MPC: β_c = ±(q / 2^f)·2^(e_c − e_y) in shifted stored units, c = 0 the
            // intercept at x' = 0 (null where its status is 0).
            const { exps } = f0.spec.scaling;
            const ey = exps[exps.length - 1]!;
            const coef = exps.slice(0, -1).map((e, c) => {
              const at = layout.fixed(plan, g, j0 + c);
              if (opened[at + 1] !== 1n) return null;
              const mag = (Number(opened[at]!) / 2 ** REGRESS_FRAC_BITS) * 2 ** (e - ey);
              return opened[at + 2] === 1n ? -mag : mag;
            });
            const slopes = coef.slice(1);
            // y = lo_y + β'_0 + Σ β_j (x_j − lo_j): the intercept in stored units.
            let icpt: number | null = coef[0] ?? null;
            if (icpt !== null && slopes.every((b) => b !== null)) {
              icpt += Number(a.y.lo);
              slopes.forEach((b, j) => (icpt! -= b! * Number(a.xs[j]!.lo)));
            } else icpt = null;
            return [
              icpt === null ? null : icpt / unit(a.y),
              ...slopes.map((b, j) => (b === null ? null : (b * unit(a.xs[j]!)) / unit(a.y))),
            ];
          }
          // Centered normal equations on shifted stored values: C β = c with C_jk = n Σx_j x_k − Σx_j Σx_k.
          const k = a.xs.length;
          if (nn <= k) return Array.from({ length: k + 1 }, () => null);
          const C = a.xs.map((u) => a.xs.map((v) => comoment(u, v)));
          const c = a.xs.map((u) => comoment(u, a.y));
          const exact = solveExact(C, c);
          if (!exact) return Array.from({ length: k + 1 }, () => null);
          const beta = exact.map(fnum);
          // Intercept in stored units: ȳ − Σ β_j x̄_j, with x̄ the mean of the unshifted stored values.
          const mean = (col: ResolvedColumn) => Number(sum1(col)) / nn + Number(col.lo);
          let icpt = mean(a.y);
          beta.forEach((b, j) => (icpt -= b * mean(a.xs[j]!)));
          return [icpt / unit(a.y), ...beta.map((b, j) => (b * unit(a.xs[j]!)) / unit(a.y))];
        }
      }
    };
    const evalExpr = (e: CExpr): ResultValue => {
      switch (e.kind) {
        case 'agg':
          return agg(e.agg);
        case 'const':
          return e.value;
        case 'groupKey':
          return key[q.groupBy.indexOf(e.col)]!;
        case 'neg': {
          const v = evalExpr(e.arg);
          return typeof v === 'number' ? -v : null;
        }
        case 'arith': {
          const l = evalExpr(e.left);
          const r = evalExpr(e.right);
          if (typeof l !== 'number' || typeof r !== 'number') return null;
          switch (e.op) {
            case '+':
              return l + r;
            case '-':
              return l - r;
            case '*':
              return l * r;
            case '/':
              return r === 0 ? null : l / r;
          }
        }
      }
    };
    return { key, suppressed: false, values: q.items.map((it) => evalExpr(it.expr)) };
  });
  return {
    hash: q.hash,
    canonical: q.canonical,
    labels: q.items.map((i) => i.label),
    groupBy: q.groupBy.map((c) => c.name),
    rows,
  };
}
