/**
 * The plan (IR) of a checked query: the shape of one batched MPC program over the secret-shared
 * columns. Every step works on whole columns at once, so the number of rounds depends on the
 * query (predicate depth, bit widths of MIN/MAX columns, number of GROUP BY columns) and never on
 * the number of rows.
 *
 * Program (all vectors have one entry per row unless said otherwise):
 *  1. shift:   x' = x − lo for every column read (local), so every value is in [0, 2^bits).
 *  2. compare: every `lt` atom (x' < c, or a' < b') and `eq` atom (x' = c) in one batched call each.
 *  3. filter:  f = boolean combination of atoms (AND = product, OR = a + b − ab, NOT = 1 − a).
 *  4. groups:  one-hot vector per group value (`eq` atoms), m_g = f · Π one-hot (batched products).
 *  5. rowvecs: the per-row vectors aggregates need: 1, x', histogram bin indicators (local),
 *              and second moments x'·y' (never materialised: see 6).
 *  6. stats:   s[g][v] = Σ_i m_g[i] · v[i] by batched dot products; Σ m·a'·b' = dot(m ⊙ a', b').
 *  7. extrema: MIN/MAX from moments Σ m·x'^j for small ranges, else bitwise search (MSB first),
 *              vectorised over rows and batched over groups.
 *  8. policy:  optional jointly generated noise on each released statistic; passed_g =
 *              [count_g ≥ minCohort] (and per histogram bin), and every released value of g is
 *              multiplied by passed_g inside MPC, so a suppressed group opens as zeros.
 *  9. verify, then open the output vector (layout below) to the requester only.
 */
import type { AggSpec, CExpr, CheckedQuery, Pred } from './check';
import { bitLength } from './fixdiv';
import { regressScaling, regressSchedule, type RegressScaling } from './regress';
import type { ResolvedColumn } from './schema';

export type LtAtom =
  | { kind: 'const'; col: ResolvedColumn; c: bigint } // x' < c (c public, shifted)
  | { kind: 'cols'; a: ResolvedColumn; b: ResolvedColumn; offset: bigint; bits: number }; // (a − offset) < (b − offset)
export interface EqAtom {
  col: ResolvedColumn;
  c: bigint; // x' = c (shifted)
}

/** Filter formula over atom indices. */
export type BoolIR =
  | { kind: 'const'; value: boolean }
  | { kind: 'lt'; atom: number }
  | { kind: 'eq'; atom: number }
  | { kind: 'not'; arg: BoolIR }
  | { kind: 'and'; args: BoolIR[] }
  | { kind: 'or'; args: BoolIR[] };

/** A per-row vector that statistics are dot products with. */
export type RowVec =
  | { kind: 'one' }
  | { kind: 'col'; col: ResolvedColumn } // x'
  | { kind: 'prod'; a: ResolvedColumn; b: ResolvedColumn } // a'·b'
  | { kind: 'bin'; hist: number; bin: number; lower: BoolIR; upper: BoolIR }; // [x ≥ e_k] − [x ≥ e_{k+1}] as lt atoms: lt(e_{k+1}) − lt(e_k)

export interface Extremum {
  col: ResolvedColumn;
  dir: 'max' | 'min';
}

export interface Histogram {
  col: ResolvedColumn;
  spec: Extract<AggSpec, { fn: 'HISTOGRAM' }>;
  /** Index of its first bin in `rowVecs`. */
  firstVec: number;
}

/**
 * A statistic computed inside MPC by exact multi-limb division (src/query/fixdiv.ts), so that only
 * its fixed-point value is opened (not the counts, sums and sums of squares it comes from).
 * Row-vector indices point at the shifted statistics it reads.
 * - `var`: q = floor(N·2^f / D) with N = n·Σx'² − (Σx')², D = n(n − 1): VAR in stored units is
 *   in (q/2^f − 2^−f, q/2^f]. Opens [q, status, 0].
 * - `corr`: q = floor(Cab²·2^f / (Caa·Cbb)) (r² to f bits, computed as floor(floor(Cab²·2^f / Caa) / Cbb),
 *   which is the same integer) and the sign of Cab. Opens [q, status, negative].
 * - `regress`: one entry per coefficient (`coef` 0 is the intercept, then one per regressor), all
 *   computed together by src/query/regress.ts from the shared Gram matrix of [1, x…, y]:
 *   q = floor(|β̃|·2^f) and the sign, with β = β̃·2^(e_coef − e_y) in shifted stored units
 *   (`spec.scaling`). Opens [q, status, negative] per coefficient.
 * status: 1 computed, 0 null (fewer than 2 rows, zero variance, collinear regressors, or
 * suppressed), 2 the statistic was released from the (noisy) sufficient statistics instead
 * (policies with DP noise).
 */
export type FixedAgg =
  | {
      kind: 'var';
      col: ResolvedColumn;
      s1: number;
      s2: number;
      fracBits: number;
      /** Bits of the bound on N (rows²·range²/4). */
      numBits: number;
      /** Bits of the bound on D = n(n − 1). */
      denBits: number;
    }
  | {
      kind: 'corr';
      a: ResolvedColumn;
      b: ResolvedColumn;
      sa: number;
      sb: number;
      saa: number;
      sbb: number;
      sab: number;
      fracBits: number;
      /** Bits of the bound on |Cab| (rows²·range_a·range_b/4). */
      abBits: number;
      /** Bits of the larger bound on Caa and Cbb (the divisors). */
      denBits: number;
      /** Bits of the bound on Cbb (bounds the intermediate quotient with the fraction bits). */
      bbBits: number;
    }
  | { kind: 'regress'; coef: number; spec: RegressSpec };

/** A REGRESS computed inside MPC (shared by its coefficient entries in `Plan.fixed`). */
export interface RegressSpec {
  y: ResolvedColumn;
  xs: ResolvedColumn[];
  /** Row-vector index of G_uv for the variables [1, x_1..x_k, y] (symmetric). */
  gram: number[][];
  /** Scaling of the variables (src/query/regress.ts). */
  scaling: RegressScaling;
  /** Index in `Plan.fixed` of coefficient 0. */
  first: number;
}

/** Opened slots per fixed statistic: [q, status, negative]. */
export const FIXED_SLOTS = 3;

export interface Plan {
  checked: CheckedQuery;
  /** Columns read, in schema order. */
  columns: ResolvedColumn[];
  ltAtoms: LtAtom[];
  eqAtoms: EqAtom[];
  filter: BoolIR;
  /** Per GROUP BY column, the eq atom of each domain value. */
  groupAtoms: number[][];
  /** Group keys in output order (row-major over the GROUP BY columns); [[]] without GROUP BY. */
  groupKeys: string[][];
  rowVecs: RowVec[];
  histograms: Histogram[];
  extrema: Extremum[];
  /**
   * True when every SELECT item is an AVG (or arithmetic on AVGs): then neither the counts nor the
   * sums are opened. With `avgDiv` (the usual case) each AVG opens only its fixed-point quotient;
   * otherwise (columns too wide for the division) only the pair (r·Σx', r·n) for a fresh shared
   * random r, which determines the fraction Σx'/n and nothing else (the requester recovers it by
   * rational reconstruction; the bounds 2·rows²·range < p are checked here).
   */
  hideCount: boolean;
  /** Row-vector indices (kind 'col') of the AVG columns with a ratio pair, when hideCount. */
  ratios: number[];
  /**
   * Set when hideCount holds and every AVG column fits the engine's exact division: each AVG is
   * then computed inside MPC as the fixed-point quotient q = floor(Σx'·2^fracBits / n) and the
   * requester learns only q and whether the group is non-empty (its two ratio slots open as
   * [q, nonEmpty]). Unset with hideCount: the rational-reconstruction pair (r·Σx', r·n) is opened
   * instead (columns too wide for the division's 59-bit budget).
   */
  avgDiv?: { fracBits: number; xBits: number; yBits: number };
  /**
   * VAR/STDDEV and CORR computed inside MPC by exact division (when the declared rows and ranges
   * keep their co-moments within the bounds in `planQuery`); see `FixedAgg`.
   */
  fixed: FixedAgg[];
  /**
   * Which statistics (row vectors) the answer needs in the clear without DP noise; the others open
   * as 0. With noise, fixed statistics fall back to their (noisy) sufficient statistics:
   * `releasedStats(plan, true)`.
   */
  released: boolean[];
  /** Layout of the opened vector, per group: [passed, stats (rowVecs.length), bin passed bits (one per bin vector), extrema, ratio pairs, fixed statistics (FIXED_SLOTS each)]. */
  perGroup: number;
  /** Rough estimate of rounds (independent of rows); benchmarks report the measured steps. */
  rounds: number;
  /** Counts of the whole-column secure operations, per row (multiply by rows for the totals). */
  cost: {
    ltPerRow: number;
    eqPerRow: number;
    mulPerRow: number;
    dotProducts: number;
    extremaBits: number;
  };
}

const keyOf = (c: ResolvedColumn) => c.name;

/**
 * Fractional bits f of an AVG computed by division inside MPC (AVG-only queries): the opened
 * quotient is floor(Σx'·2^f / n), so the answer is below the exact average by less than 2^−f
 * stored units (2^−f / 10^scale in the column's units), never above it. f = 16 unless the
 * division's budget (bits(rows·range) + f + bits(rows) ≤ 59) forces fewer; below
 * AVG_MIN_FRAC_BITS the planner falls back to the exact ratio pair. The plan states f
 * (`plan.avgDiv.fracBits`).
 */
export const AVG_FRAC_BITS = 16;
export const AVG_MIN_FRAC_BITS = 8;
/** Budget of the engine's division: xBits + yBits ≤ 59. */
const MAX_DIV_BITS = 59;
/**
 * Fractional bits of VAR computed inside MPC (fewer for very wide columns, so that the quotient
 * stays below 2^60; below VAR_MIN_FRAC_BITS the sufficient statistics are opened instead), and of
 * r² for CORR (r = ±sqrt(q / 2^f) is then within 2^−24 of the exact r).
 */
export const VAR_FRAC_BITS = 40;
export const VAR_MIN_FRAC_BITS = 16;
export const CORR_FRAC_BITS = 48;

export function planQuery(q: CheckedQuery): Plan {
  const ltAtoms: LtAtom[] = [];
  const eqAtoms: EqAtom[] = [];
  const ltIndex = new Map<string, number>();
  const eqIndex = new Map<string, number>();
  const used = new Set<ResolvedColumn>();

  const ltConst = (col: ResolvedColumn, stored: bigint): BoolIR => {
    // x < stored, with x in [lo, hi]
    if (stored <= col.lo) return { kind: 'const', value: false };
    if (stored > col.hi) return { kind: 'const', value: true };
    const c = stored - col.lo;
    const k = `c:${keyOf(col)}:${c}`;
    let i = ltIndex.get(k);
    if (i === undefined) {
      i = ltAtoms.push({ kind: 'const', col, c }) - 1;
      ltIndex.set(k, i);
    }
    used.add(col);
    return { kind: 'lt', atom: i };
  };
  const eqConst = (col: ResolvedColumn, stored: bigint): BoolIR => {
    if (stored < col.lo || stored > col.hi) return { kind: 'const', value: false };
    if (col.lo === col.hi) return { kind: 'const', value: true };
    const c = stored - col.lo;
    const k = `${keyOf(col)}:${c}`;
    let i = eqIndex.get(k);
    if (i === undefined) {
      i = eqAtoms.push({ col, c }) - 1;
      eqIndex.set(k, i);
    }
    used.add(col);
    return { kind: 'eq', atom: i };
  };

  const lower = (p: Pred): BoolIR => {
    switch (p.kind) {
      case 'const':
        return p;
      case 'lt':
        return ltConst(p.col, p.c);
      case 'eq':
        return eqConst(p.col, p.c);
      case 'ltcol': {
        used.add(p.a);
        used.add(p.b);
        const offset = p.a.lo < p.b.lo ? p.a.lo : p.b.lo;
        const top = (p.a.hi > p.b.hi ? p.a.hi : p.b.hi) - offset;
        const k = `l:${keyOf(p.a)}:${keyOf(p.b)}`;
        let i = ltIndex.get(k);
        if (i === undefined) {
          i =
            ltAtoms.push({ kind: 'cols', a: p.a, b: p.b, offset, bits: top.toString(2).length }) -
            1;
          ltIndex.set(k, i);
        }
        return { kind: 'lt', atom: i };
      }
      case 'eqcol': {
        // a = b  ⟺  not (a < b) and not (b < a)
        return {
          kind: 'and',
          args: [
            { kind: 'not', arg: lower({ kind: 'ltcol', a: p.a, b: p.b }) },
            { kind: 'not', arg: lower({ kind: 'ltcol', a: p.b, b: p.a }) },
          ],
        };
      }
      case 'not': {
        const a = lower(p.arg);
        return a.kind === 'const'
          ? { kind: 'const', value: !a.value }
          : a.kind === 'not'
            ? a.arg
            : { kind: 'not', arg: a };
      }
      case 'and':
      case 'or': {
        const isAnd = p.kind === 'and';
        const args: BoolIR[] = [];
        for (const a of p.args.map(lower)) {
          if (a.kind === 'const') {
            if (a.value === isAnd) continue; // neutral element
            return { kind: 'const', value: !isAnd }; // absorbing element
          }
          if (a.kind === p.kind) args.push(...a.args);
          else args.push(a);
        }
        if (args.length === 0) return { kind: 'const', value: isAnd };
        if (args.length === 1) return args[0]!;
        return { kind: p.kind, args };
      }
    }
  };

  const filter = lower(q.where);

  // Groups: one eq atom per domain value.
  const groupAtoms = q.groupBy.map((col) => {
    const n = col.type.kind === 'category' ? col.type.domain.length : 0;
    used.add(col);
    return Array.from({ length: n }, (_, v) => {
      const ir = eqConst(col, BigInt(v));
      return ir.kind === 'eq' ? ir.atom : -1; // -1: constant true (single-value domain)
    });
  });
  let groupKeys: string[][] = [[]];
  for (const col of q.groupBy) {
    const dom = col.type.kind === 'category' ? col.type.domain : [];
    groupKeys = groupKeys.flatMap((k) => dom.map((v) => [...k, v]));
  }

  // Row vectors, extrema and histograms needed by the SELECT list.
  const rowVecs: RowVec[] = [{ kind: 'one' }];
  const vecIndex = new Map<string, number>([['one', 0]]);
  const addVec = (k: string, v: RowVec) => {
    if (!vecIndex.has(k)) vecIndex.set(k, rowVecs.push(v) - 1);
    return vecIndex.get(k)!;
  };
  const colVec = (c: ResolvedColumn) => {
    used.add(c);
    return addVec(`col:${c.name}`, { kind: 'col', col: c });
  };
  const prodVec = (a: ResolvedColumn, b: ResolvedColumn) => {
    used.add(a);
    used.add(b);
    const [x, y] = a.index <= b.index ? [a, b] : [b, a];
    return addVec(`prod:${x.name}:${y.name}`, { kind: 'prod', a: x, b: y });
  };
  const extrema: Extremum[] = [];
  const extremaIndex = new Map<string, number>();
  const histograms: Histogram[] = [];
  const histIndex = new Map<string, number>();
  /** Row-vector indices of AVG columns. */
  const avgColumns = new Set<number>();
  const fixed: FixedAgg[] = [];
  /** `var:col` / `corr:a:b` → index in `fixed`, or −1 when the bounds do not allow it. */
  const fixedIndex = new Map<string, number>();
  const rowsB = BigInt(Math.max(1, q.schema.rows));
  const fixedVar = (col: ResolvedColumn, s1: number, s2: number): FixedAgg | undefined => {
    const R = col.hi - col.lo;
    const numBits = bitLength((rowsB * rowsB * R * R) / 4n);
    const denBits = Math.max(1, bitLength(rowsB * (rowsB - 1n)));
    // q ≤ (R²/4)·(n/(n − 1))·2^f ≤ R²·2^(f−1) must stay below 2^60.
    const fracBits = Math.min(VAR_FRAC_BITS, 61 - bitLength(R * R));
    if (numBits > 60 || denBits > MAX_DIV_BITS - 2 || fracBits < VAR_MIN_FRAC_BITS)
      return undefined;
    return { kind: 'var', col, s1, s2, fracBits, numBits, denBits };
  };
  const fixedCorr = (
    a: ResolvedColumn,
    b: ResolvedColumn,
    ix: { sa: number; sb: number; saa: number; sbb: number; sab: number },
  ): FixedAgg | undefined => {
    const Ra = a.hi - a.lo;
    const Rb = b.hi - b.lo;
    const r2 = rowsB * rowsB;
    const aaBits = bitLength((r2 * Ra * Ra) / 4n);
    const bbBits = bitLength((r2 * Rb * Rb) / 4n);
    const abBits = bitLength((r2 * Ra * Rb) / 4n);
    // Co-moments below 2^57: signed comparisons at 58 bits, divisors leave ≥ 2 bits per chunk.
    if (Math.max(aaBits, bbBits, abBits) > 57) return undefined;
    return {
      kind: 'corr',
      a,
      b,
      ...ix,
      fracBits: CORR_FRAC_BITS,
      abBits,
      denBits: Math.max(1, aaBits, bbBits),
      bbBits,
    };
  };

  const visit = (e: CExpr) => {
    if (e.kind === 'neg') return visit(e.arg);
    if (e.kind === 'arith') {
      visit(e.left);
      visit(e.right);
      return;
    }
    if (e.kind !== 'agg') return;
    const a = e.agg;
    switch (a.fn) {
      case 'COUNT':
        return;
      case 'SUM':
        colVec(a.col);
        return;
      case 'AVG':
        avgColumns.add(colVec(a.col));
        return;
      case 'VAR':
      case 'STDDEV': {
        const s1 = colVec(a.col);
        const s2 = prodVec(a.col, a.col);
        const k = `var:${a.col.name}`;
        if (!fixedIndex.has(k)) {
          const f = fixedVar(a.col, s1, s2);
          fixedIndex.set(k, f ? fixed.push(f) - 1 : -1);
        }
        return;
      }
      case 'MIN':
      case 'MAX': {
        used.add(a.col);
        const dir = a.fn === 'MIN' ? 'min' : 'max';
        const k = `${dir}:${a.col.name}`;
        if (!extremaIndex.has(k)) extremaIndex.set(k, extrema.push({ col: a.col, dir }) - 1);
        return;
      }
      case 'CORR': {
        const sa = colVec(a.a);
        const sb = colVec(a.b);
        const saa = prodVec(a.a, a.a);
        const sbb = prodVec(a.b, a.b);
        const sab = prodVec(a.a, a.b);
        const k = `corr:${a.a.name}:${a.b.name}`;
        if (!fixedIndex.has(k)) {
          const f = fixedCorr(a.a, a.b, { sa, sb, saa, sbb, sab });
          fixedIndex.set(k, f ? fixed.push(f) - 1 : -1);
        }
        return;
      }
      case 'REGRESS': {
        const k = regressKey(a);
        if (!fixedIndex.has(k)) {
          // variables [1, x…, y]: G_00 = n (row vector 0), G_0u = Σu', G_uv = Σu'v' (these are
          // also the statistics released with DP noise)
          const vars = [...a.xs, a.y];
          const V = vars.length + 1;
          const gram = Array.from({ length: V }, (_, u) =>
            Array.from({ length: V }, (_, v) =>
              u === 0 && v === 0
                ? 0
                : u === 0 || v === 0
                  ? colVec(vars[Math.max(u, v) - 1]!)
                  : prodVec(vars[u - 1]!, vars[v - 1]!),
            ),
          );
          const scaling = regressScaling(q.schema.rows, [1n, ...vars.map((c) => c.hi - c.lo)]);
          const first = fixed.length;
          const spec: RegressSpec = { y: a.y, xs: a.xs, gram, scaling, first };
          for (let coef = 0; coef <= a.xs.length; coef++)
            fixed.push({ kind: 'regress', coef, spec });
          fixedIndex.set(k, first);
        }
        return;
      }
      case 'HISTOGRAM': {
        const k = `${a.col.name}:${a.edges.join(',')}`;
        if (histIndex.has(k)) return;
        used.add(a.col);
        const firstVec = rowVecs.length;
        const hist = histograms.push({ col: a.col, spec: a, firstVec }) - 1;
        histIndex.set(k, hist);
        for (let b = 0; b < a.bins; b++) {
          rowVecs.push({
            kind: 'bin',
            hist,
            bin: b,
            lower: ltConst(a.col, a.edges[b]!),
            upper: ltConst(a.col, a.edges[b + 1]!),
          });
        }
        return;
      }
    }
  };
  for (const it of q.items) visit(it.expr);
  // One fraction width for every VAR of the query (they share their division steps).
  const varFrac = Math.min(
    ...fixed.map((f) => (f.kind === 'var' ? f.fracBits : VAR_FRAC_BITS)),
    VAR_FRAC_BITS,
  );
  for (const f of fixed) if (f.kind === 'var') f.fracBits = varFrac;

  const columns = [...used].sort((x, y) => x.index - y.index);
  const bins = rowVecs.filter((v) => v.kind === 'bin').length;
  const hiddenAgg = (a: AggSpec): boolean =>
    a.fn === 'AVG' ||
    ((a.fn === 'VAR' || a.fn === 'STDDEV') && (fixedIndex.get(`var:${a.col.name}`) ?? -1) >= 0) ||
    (a.fn === 'CORR' && (fixedIndex.get(`corr:${a.a.name}:${a.b.name}`) ?? -1) >= 0) ||
    (a.fn === 'REGRESS' && (fixedIndex.get(regressKey(a)) ?? -1) >= 0);
  const onlyAvg = (e: CExpr): boolean =>
    e.kind === 'agg'
      ? hiddenAgg(e.agg)
      : e.kind === 'neg'
        ? onlyAvg(e.arg)
        : e.kind === 'arith'
          ? onlyAvg(e.left) && onlyAvg(e.right)
          : true;
  const P61 = (1n << 61n) - 1n;
  const rowsBound = BigInt(Math.max(1, q.schema.rows));
  const avgCols = [...avgColumns]
    .sort((x, y) => x - y)
    .map((i) => ({ col: (rowVecs[i] as { col: ResolvedColumn }).col, i }));
  const avgOnly =
    q.items.some((it) => it.expr.kind !== 'groupKey') && q.items.every((it) => onlyAvg(it.expr));
  // Division inside MPC: x = Σx'·2^f < 2^xBits (Σx' ≤ rows·(hi − lo)), y = n in [1, 2^yBits).
  // Fractional bits: AVG_FRAC_BITS, fewer (down to AVG_MIN_FRAC_BITS) when the budget is tight.
  const sumBits = Math.max(
    1,
    ...avgCols.map(({ col }) => bitLength(rowsBound * (col.hi - col.lo))),
  );
  const divY = Math.max(1, bitLength(rowsBound));
  const fracBits = Math.min(AVG_FRAC_BITS, MAX_DIV_BITS - sumBits - divY);
  const avgDiv =
    avgOnly && fracBits >= AVG_MIN_FRAC_BITS
      ? { fracBits, xBits: sumBits + fracBits, yBits: divY }
      : undefined;
  const hideCount =
    avgOnly &&
    avgCols.length > 0 &&
    (avgDiv !== undefined ||
      // rational reconstruction of Σx'/n needs 2·A·B < p with A = rows·range (+ noise), B = rows (+ noise)
      avgCols.every(
        ({ col }) =>
          2n * (rowsBound * (col.hi - col.lo + 1n) + (1n << 24n)) * (rowsBound + (1n << 24n)) < P61,
      ));
  const ratios = hideCount ? avgCols.map(({ i }) => i) : [];
  const perGroup =
    1 + rowVecs.length + bins + extrema.length + 2 * ratios.length + FIXED_SLOTS * fixed.length;
  const G = groupKeys.length;

  // Rounds: comparisons (constant, say R_cmp each), boolean depth, group products, row products,
  // dot products, extrema (bits × (R_cmp + 2)), cohort comparison, masking, verify, open.
  const R_CMP = 4;
  const depth = (b: BoolIR): number =>
    b.kind === 'and' || b.kind === 'or'
      ? 1 + Math.max(...b.args.map(depth))
      : b.kind === 'not'
        ? depth(b.arg)
        : 0;
  const extremaBits = extrema.reduce((m, x) => Math.max(m, x.col.bits), 0);
  const rounds =
    (ltAtoms.length || eqAtoms.length ? R_CMP : 0) +
    depth(filter) +
    q.groupBy.length +
    1 + // row products
    1 + // dot products
    extremaBits * (R_CMP + 2) +
    R_CMP + // cohort comparison
    (avgDiv ? avgDiv.xBits * (R_CMP + 1) + 2 : 0) + // AVG division (restoring, one bit per step)
    fixedSteps(fixed) * (R_CMP + 1) + // VAR / CORR divisions (one comparison per numerator bit)
    1 + // masking
    2; // verify + open
  const cost = {
    ltPerRow: ltAtoms.length,
    eqPerRow: eqAtoms.length,
    mulPerRow:
      countMuls(filter) +
      G * Math.max(0, q.groupBy.length) +
      G * new Set(rowVecs.flatMap((v) => (v.kind === 'prod' ? [v.a.index] : []))).size,
    dotProducts: G * rowVecs.length,
    extremaBits: extrema.reduce((s, x) => s + x.col.bits, 0) * G,
  };
  const plan: Plan = {
    checked: q,
    columns,
    ltAtoms,
    eqAtoms,
    filter,
    groupAtoms,
    groupKeys,
    rowVecs,
    histograms,
    extrema,
    hideCount,
    ratios,
    ...(avgDiv ? { avgDiv } : {}),
    fixed,
    released: [],
    perGroup,
    rounds,
    cost,
  };
  plan.released = releasedStats(plan, false);
  return plan;
}

/** Sequential comparison steps of the fixed-statistic divisions (the heaviest of each kind). */
function fixedSteps(fixed: readonly FixedAgg[]): number {
  let v = 0;
  let c = 0;
  let r = 0;
  for (const f of fixed) {
    if (f.kind === 'var') v = Math.max(v, f.numBits + f.fracBits);
    else if (f.kind === 'corr') c = Math.max(c, 2 * f.abBits + f.fracBits + f.bbBits + f.fracBits);
    else if (f.coef === 0) r += (regressSchedule(f.spec.xs.length).levels.length + 1) * 30;
  }
  return v + c + r;
}

const regressKey = (a: Extract<AggSpec, { fn: 'REGRESS' }>) =>
  `regress:${a.y.name}:${a.xs.map((x) => x.name).join(',')}`;

/** Index of the fixed statistic computing this aggregate, or −1 (computed from opened statistics). */
export function fixedOf(plan: Plan, a: AggSpec): number {
  if (a.fn === 'VAR' || a.fn === 'STDDEV')
    return plan.fixed.findIndex((f) => f.kind === 'var' && f.col === a.col);
  if (a.fn === 'CORR')
    return plan.fixed.findIndex((f) => f.kind === 'corr' && f.a === a.a && f.b === a.b);
  if (a.fn === 'REGRESS')
    return plan.fixed.findIndex(
      (f) =>
        f.kind === 'regress' &&
        f.coef === 0 &&
        f.spec.y === a.y &&
        f.spec.xs.length === a.xs.length &&
        f.spec.xs.every((x, i) => x === a.xs[i]),
    );
  return -1;
}

/**
 * Statistics the answer needs in the clear: the count (COUNT, SUM, MIN/MAX emptiness, AVG unless
 * hidden), Σx' of SUM and of AVG unless hidden, histogram bins, everything REGRESS reads, and the
 * statistics of VAR/STDDEV/CORR not computed inside MPC — or, with DP noise (`noisy`), all the
 * (noisy) statistics of VAR/STDDEV/CORR, which are then released instead of the quotient.
 */
export function releasedStats(plan: Plan, noisy: boolean): boolean[] {
  const out = plan.rowVecs.map((v) => v.kind === 'bin');
  const vec = (k: string) =>
    plan.rowVecs.findIndex((v) =>
      v.kind === 'one'
        ? k === 'one'
        : v.kind === 'col'
          ? k === `col:${v.col.name}`
          : v.kind === 'prod'
            ? k === `prod:${v.a.name}:${v.b.name}`
            : false,
    );
  const mark = (...ks: string[]) => ks.forEach((k) => (out[vec(k)] = true));
  const prodKey = (a: ResolvedColumn, b: ResolvedColumn) =>
    a.index <= b.index ? `prod:${a.name}:${b.name}` : `prod:${b.name}:${a.name}`;
  const visit = (e: CExpr): void => {
    if (e.kind === 'neg') return visit(e.arg);
    if (e.kind === 'arith') {
      visit(e.left);
      visit(e.right);
      return;
    }
    if (e.kind !== 'agg') return;
    const a = e.agg;
    switch (a.fn) {
      case 'COUNT':
      case 'MIN':
      case 'MAX':
      case 'HISTOGRAM':
        if (a.fn !== 'HISTOGRAM') mark('one');
        return;
      case 'SUM':
        mark('one', `col:${a.col.name}`);
        return;
      case 'AVG':
        if (!plan.hideCount) mark('one', `col:${a.col.name}`);
        return;
      case 'VAR':
      case 'STDDEV':
        if (noisy || fixedOf(plan, a) < 0) mark('one', `col:${a.col.name}`, prodKey(a.col, a.col));
        return;
      case 'CORR':
        if (noisy || fixedOf(plan, a) < 0)
          mark(
            'one',
            `col:${a.a.name}`,
            `col:${a.b.name}`,
            prodKey(a.a, a.a),
            prodKey(a.b, a.b),
            prodKey(a.a, a.b),
          );
        return;
      case 'REGRESS': {
        if (!noisy && fixedOf(plan, a) >= 0) return;
        const cols = [a.y, ...a.xs];
        mark('one', ...cols.map((c) => `col:${c.name}`));
        for (let i = 0; i < cols.length; i++)
          for (let j = i; j < cols.length; j++) mark(prodKey(cols[i]!, cols[j]!));
        return;
      }
    }
  };
  for (const it of plan.checked.items) visit(it.expr);
  return out;
}

function countMuls(b: BoolIR): number {
  switch (b.kind) {
    case 'and':
    case 'or':
      return b.args.length - 1 + b.args.reduce((s, a) => s + countMuls(a), 0);
    case 'not':
      return countMuls(b.arg);
    default:
      return 0;
  }
}

/** Output layout helpers: index into the opened vector. */
export const layout = {
  passed: (p: Plan, g: number) => g * p.perGroup,
  stat: (p: Plan, g: number, v: number) => g * p.perGroup + 1 + v,
  /** Bin passed bit; `binOrdinal` counts bin vectors in rowVecs order. */
  binPassed: (p: Plan, g: number, binOrdinal: number) =>
    g * p.perGroup + 1 + p.rowVecs.length + binOrdinal,
  extremum: (p: Plan, g: number, e: number) =>
    g * p.perGroup + 1 + p.rowVecs.length + p.rowVecs.filter((v) => v.kind === 'bin').length + e,
  /** Ratio pair r of group g: [r·Σx', r·n] (or [q, nonEmpty] with avgDiv) at this index and the next. */
  ratio: (p: Plan, g: number, r: number) =>
    g * p.perGroup +
    1 +
    p.rowVecs.length +
    p.rowVecs.filter((v) => v.kind === 'bin').length +
    p.extrema.length +
    2 * r,
  /** Fixed statistic j of group g: [q, status, negative] at this index and the next two. */
  fixed: (p: Plan, g: number, j: number) =>
    g * p.perGroup +
    1 +
    p.rowVecs.length +
    p.rowVecs.filter((v) => v.kind === 'bin').length +
    p.extrema.length +
    2 * p.ratios.length +
    FIXED_SLOTS * j,
};

/** Columns compared with a constant somewhere in the plan (candidates for bit decomposition). */
export function bitColumns(plan: Plan): Plan['columns'] {
  const idx = new Set<number>();
  plan.ltAtoms.forEach((a) => a.kind === 'const' && a.col.bits > 0 && idx.add(a.col.index));
  plan.eqAtoms.forEach((a) => a.col.bits > 0 && idx.add(a.col.index));
  return plan.columns.filter((c) => idx.has(c.index));
}
