/**
 * Plaintext evaluator of a plan: computes, in the clear, exactly the vector the MPC program opens
 * (same atoms, same shifted statistics, same suppression). Used by tests (cross-checked against
 * an independent SQL engine) and as the plaintext baseline of benchmarks; never in the product path
 * on real data.
 */
import { layout, releasedStats, type BoolIR, type Plan } from './plan';
import { P } from './finalize';
import { noiseScales, type Policy } from './policy';
import { regressPlain } from './regress';

export type Columns = readonly (ArrayLike<bigint> | undefined)[];

function rowCount(plan: Plan, data: Columns): number {
  // Row count of the data actually held (the schema's `rows` is only an upper bound for checks).
  const c = plan.columns[0];
  const col = c ? data[c.index] : data.find((d) => d !== undefined);
  if (!col) throw new Error('evaluatePlain: no column data');
  return col.length;
}

/** 0/1 indicator vectors of every atom. */
function atoms(plan: Plan, data: Columns, n: number) {
  const lt = plan.ltAtoms.map((a) => {
    const out = new Uint8Array(n);
    if (a.kind === 'const') {
      const x = data[a.col.index]!;
      const thr = a.c + a.col.lo;
      for (let i = 0; i < n; i++) out[i] = x[i]! < thr ? 1 : 0;
    } else {
      const x = data[a.a.index]!;
      const y = data[a.b.index]!;
      for (let i = 0; i < n; i++) out[i] = x[i]! < y[i]! ? 1 : 0;
    }
    return out;
  });
  const eq = plan.eqAtoms.map((a) => {
    const out = new Uint8Array(n);
    const x = data[a.col.index]!;
    const v = a.c + a.col.lo;
    for (let i = 0; i < n; i++) out[i] = x[i]! === v ? 1 : 0;
    return out;
  });
  return { lt, eq };
}

function evalBool(b: BoolIR, at: { lt: Uint8Array[]; eq: Uint8Array[] }, n: number): Uint8Array {
  switch (b.kind) {
    case 'const':
      return new Uint8Array(n).fill(b.value ? 1 : 0);
    case 'lt':
      return at.lt[b.atom]!;
    case 'eq':
      return at.eq[b.atom]!;
    case 'not': {
      const a = evalBool(b.arg, at, n);
      return a.map((v) => 1 - v);
    }
    case 'and':
    case 'or': {
      const parts = b.args.map((x) => evalBool(x, at, n));
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let v = b.kind === 'and' ? 1 : 0;
        for (const p of parts) v = b.kind === 'and' ? v & p[i]! : v | p[i]!;
        out[i] = v;
      }
      return out;
    }
  }
}

const mod = (v: bigint) => ((v % P) + P) % P;

/**
 * The opened output vector, in the clear. `noise(scale)` (optional) draws the noise added to each
 * released statistic; the MPC program draws it jointly instead.
 */
export function evaluatePlain(
  plan: Plan,
  data: Columns,
  policy: Policy,
  noise?: (scale: number) => bigint,
): bigint[] {
  const n = rowCount(plan, data);
  if (n > plan.checked.schema.rows) {
    throw new Error(
      `evaluatePlain: ${n} rows exceed the ${plan.checked.schema.rows} rows declared in the schema`,
    );
  }
  const at = atoms(plan, data, n);
  const filter = evalBool(plan.filter, at, n);
  const scales = noiseScales(plan, policy);
  const released = releasedStats(plan, policy.noise !== undefined);
  const out: bigint[] = new Array<bigint>(plan.groupKeys.length * plan.perGroup).fill(0n);
  const G = plan.groupKeys.length;
  const domSizes = plan.checked.groupBy.map((c) =>
    c.type.kind === 'category' ? c.type.domain.length : 1,
  );
  for (let g = 0; g < G; g++) {
    // Group g = row-major index over the GROUP BY domains.
    const mask = Uint8Array.from(filter);
    let rest = g;
    for (let k = plan.groupAtoms.length - 1; k >= 0; k--) {
      const v = rest % domSizes[k]!;
      rest = Math.floor(rest / domSizes[k]!);
      const atom = plan.groupAtoms[k]![v]!;
      if (atom >= 0) {
        const ind = at.eq[atom]!;
        for (let i = 0; i < n; i++) mask[i]! &= ind[i]!;
      }
    }
    const stats = plan.rowVecs.map((v) => {
      let s = 0n;
      switch (v.kind) {
        case 'one':
          for (let i = 0; i < n; i++) s += BigInt(mask[i]!);
          break;
        case 'col': {
          const x = data[v.col.index]!;
          for (let i = 0; i < n; i++) if (mask[i]) s += x[i]! - v.col.lo;
          break;
        }
        case 'prod': {
          const x = data[v.a.index]!;
          const y = data[v.b.index]!;
          for (let i = 0; i < n; i++) if (mask[i]) s += (x[i]! - v.a.lo) * (y[i]! - v.b.lo);
          break;
        }
        case 'bin': {
          const lo = evalBool(v.lower, at, n);
          const hi = evalBool(v.upper, at, n);
          for (let i = 0; i < n; i++) if (mask[i]) s += BigInt(hi[i]! - lo[i]!);
          break;
        }
      }
      return s;
    });
    const noisy = stats.map((s, i) => (noise && scales[i]! > 0 ? s + noise(scales[i]!) : s));
    const k = BigInt(policy.minCohort);
    const passed = noisy[0]! >= k ? 1n : 0n;
    out[layout.passed(plan, g)] = passed;
    let ord = 0;
    plan.rowVecs.forEach((v, i) => {
      let keep = passed;
      if (v.kind === 'bin') {
        const binPassed = noisy[i]! >= k ? 1n : 0n;
        keep *= binPassed;
        out[layout.binPassed(plan, g, ord++)] = keep;
      }
      out[layout.stat(plan, g, i)] = mod(keep * noisy[i]!);
    });
    // Statistics the answer does not need in the clear open as 0.
    released.forEach((r, i) => {
      if (!r) out[layout.stat(plan, g, i)] = 0n;
    });
    // VAR / CORR / REGRESS computed by division inside MPC: [q, status, negative].
    plan.fixed.forEach((f, j) => {
      const at = layout.fixed(plan, g, j);
      if (policy.noise) {
        out[at + 1] = 2n * passed;
        return;
      }
      const n = noisy[0]!;
      if (f.kind === 'var') {
        const N = n * noisy[f.s2]! - noisy[f.s1]! ** 2n;
        const ok = passed === 1n && n >= 2n;
        out[at] = ok ? (N << BigInt(f.fracBits)) / (n * (n - 1n)) : 0n;
        out[at + 1] = ok ? 1n : 0n;
      } else if (f.kind === 'regress') {
        if (f.coef !== 0) return; // filled with coefficient 0
        const G = f.spec.gram.map((r) => r.map((vi) => noisy[vi]!));
        regressPlain(G, f.spec.scaling, passed === 1n).forEach((c, i) => {
          const a = layout.fixed(plan, g, f.spec.first + i);
          out[a] = c.q;
          out[a + 1] = c.ok ? 1n : 0n;
          out[a + 2] = c.negative ? 1n : 0n;
        });
      } else {
        const co = (x: number, y: number, xy: number) => n * noisy[xy]! - noisy[x]! * noisy[y]!;
        const caa = co(f.sa, f.sa, f.saa);
        const cbb = co(f.sb, f.sb, f.sbb);
        const cab = co(f.sa, f.sb, f.sab);
        const ok = passed === 1n && n >= 2n && caa > 0n && cbb > 0n;
        out[at] = ok ? ((cab * cab) << BigInt(f.fracBits)) / caa / cbb : 0n;
        out[at + 1] = ok ? 1n : 0n;
        out[at + 2] = ok && cab < 0n ? 1n : 0n;
      }
    });
    if (plan.hideCount) {
      // Each AVG releases [q, ok] (division) or (r·Σx', r·n) — here with r = 1.
      plan.ratios.forEach((vi, r) => {
        const at = layout.ratio(plan, g, r);
        if (plan.avgDiv) {
          // [q, ok]: q = floor(S·2^f / n) where ok = passed·[n ≥ 1], else [0, 0]; with noise the
          // sum is clamped to [0, rows·(hi − lo)] and the count to at most rows first.
          const v = plan.rowVecs[vi]!;
          const rows = BigInt(Math.max(1, plan.checked.schema.rows));
          const bound = v.kind === 'col' ? rows * (v.col.hi - v.col.lo) : 0n;
          const ok = passed === 1n && noisy[0]! >= 1n;
          let S = noisy[vi]!;
          let cnt = noisy[0]!;
          if (policy.noise) {
            S = S < 0n ? 0n : S > bound ? bound : S;
            if (cnt > rows) cnt = rows;
          }
          out[at] = ok ? (S << BigInt(plan.avgDiv.fracBits)) / cnt : 0n;
          out[at + 1] = ok ? 1n : 0n;
        } else {
          out[at] = mod(passed * noisy[vi]!);
          out[at + 1] = mod(passed * noisy[0]!);
        }
      });
    }
    plan.extrema.forEach((e, j) => {
      const x = data[e.col.index]!;
      let best = 0n;
      for (let i = 0; i < n; i++) {
        if (!mask[i]) continue;
        const r = e.dir === 'max' ? x[i]! - e.col.lo : e.col.hi - x[i]!;
        if (r > best) best = r;
      }
      out[layout.extremum(plan, g, j)] = passed * best;
    });
  }
  return out;
}

/**
 * Equality of two opened vectors of the same plan, where ratio pairs (r·S, r·n) are compared as
 * fractions (they carry a fresh random factor in MPC): a·d = b·c mod p for pairs (a, b), (c, d).
 */
export function sameOpened(plan: Plan, a: readonly bigint[], b: readonly bigint[]): boolean {
  if (a.length !== b.length) return false;
  const ratioAt = new Set<number>();
  // With division the AVG slots carry no random factor: compared exactly.
  for (let g = 0; g < plan.groupKeys.length && !plan.avgDiv; g++) {
    plan.ratios.forEach((_, r) => ratioAt.add(layout.ratio(plan, g, r)));
  }
  for (let i = 0; i < a.length; i++) {
    if (ratioAt.has(i)) {
      const [x, y, u, v] = [a[i]!, a[i + 1]!, b[i]!, b[i + 1]!];
      if ((y === 0n) !== (v === 0n)) return false;
      if ((x * v - y * u) % P !== 0n) return false;
      i++;
    } else if (a[i] !== b[i]) return false;
  }
  return true;
}
