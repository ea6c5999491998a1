/**
 * REGRESS inside MPC (src/query/regress.ts): the shared elimination equals its BigInt definition
 * bit for bit, and the definition equals the exact least-squares solution (rationals) within the
 * stated precision; degenerate inputs (collinear regressors, too few rows, suppressed groups) give
 * a null status, never a number.
 */
import { describe, expect, it } from 'vitest';
import { runParties, type Shared } from '../../src/mpc/index';
import { solveExact } from '../../src/query/finalize';
import {
  compileQueryText,
  evaluatePlain,
  layout,
  planQuery,
  runPlanInMemory,
  type Policy,
} from '../../src/query/index';
import {
  REGRESS_FRAC_BITS,
  regressScaling,
  regressPlain,
  regressShared,
} from '../../src/query/regress';
import { rng } from './gen';
import { AGE_BMI_SEX } from './fixtures';

const SEED = Number(process.env.QUERY_SEED ?? 20261207);

interface Case {
  rows: number;
  ranges: bigint[]; // [1, R_x1..R_xk, R_y]
  data: bigint[][]; // per row: [x_1..x_k, y] shifted (0..R)
}

/** Gram matrix of [1, x.., y] over the rows. */
function gram(c: Case): bigint[][] {
  const V = c.ranges.length;
  const G = Array.from({ length: V }, () => Array.from({ length: V }, () => 0n));
  for (const row of c.data) {
    const v = [1n, ...row];
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) G[a]![b]! += v[a]! * v[b]!;
  }
  return G;
}

/** Exact OLS in shifted stored units: [intercept, β..] as numbers, or null when singular. */
function exactOls(G: bigint[][]): number[] | null {
  const V = G.length;
  const k = V - 2;
  const A = Array.from({ length: k + 1 }, (_, a) =>
    Array.from({ length: k + 1 }, (_, b) => G[a]![b]!),
  );
  const y = Array.from({ length: k + 1 }, (_, a) => G[a]![k + 1]!);
  const sol = solveExact(A, y);
  return sol ? sol.map(([n, d]) => Number(n) / Number(d)) : null;
}

function randomCase(r: () => number, k: number, rows: number): Case {
  const ranges = [1n, ...Array.from({ length: k + 1 }, () => BigInt(1 + Math.floor(r() * 2000)))];
  const beta = Array.from({ length: k }, () => r() * 4 - 2);
  const data = Array.from({ length: rows }, () => {
    const xs = ranges.slice(1, k + 1).map((R) => BigInt(Math.floor(r() * Number(R + 1n))));
    const R = Number(ranges[k + 1]!);
    const lin = xs.reduce((s, x, j) => s + Number(x) * beta[j]!, 0);
    const yv = Math.max(0, Math.min(R, Math.round(R / 2 + lin * 0.1 + (r() - 0.5) * R * 0.3)));
    return [...xs, BigInt(yv)];
  });
  return { rows, ranges, data };
}

/** Coefficients in shifted stored units from the definition's output. */
function decode(out: ReturnType<typeof regressPlain>, exps: number[]): (number | null)[] {
  const ey = exps[exps.length - 1]!;
  return out.map((c, j) =>
    c.ok
      ? ((c.negative ? -1 : 1) * Number(c.q) * 2 ** (exps[j]! - ey)) / 2 ** REGRESS_FRAC_BITS
      : null,
  );
}

describe('REGRESS definition (BigInt) against exact least squares', () => {
  // Error sources: the final floor (2^−30 in scaled units) and one rounding per elimination step,
  // relative to the entries' actual size — which is the public bound (declared rows × range²)
  // when the data fill it, and smaller when they do not (fewer rows than declared, a narrow
  // spread), amplified by the problem's conditioning.
  it.each([
    ['declared rows = actual rows', 1, 1e-9],
    ['100,000 declared rows, 20–320 actual', 0, 1e-9],
  ])(
    `random regressions with 1-4 regressors, %s: within 2^-29 scaled units + relative %s (seed ${SEED})`,
    (_, exact, rel) => {
      const r = rng(SEED + (exact as number));
      let compared = 0;
      for (let t = 0; t < 60; t++) {
        const k = 1 + (t % 4);
        const c = randomCase(r, k, 20 + Math.floor(r() * 300));
        const G = gram(c);
        const sc = regressScaling(exact ? c.rows : 100_000, c.ranges);
        const exps = sc.exps;
        const got = decode(regressPlain(G, sc, true), exps);
        const want = exactOls(G)!;
        const ey = exps[k + 1]!;
        got.forEach((b, j) => {
          expect(b, `case ${t} coef ${j}`).not.toBeNull();
          const tol = 2 ** (exps[j]! - ey) * 2 ** -29 + (rel as number) * Math.abs(want[j]!);
          expect(
            Math.abs(b! - want[j]!),
            `case ${t} coef ${j}: ${b} vs ${want[j]}`,
          ).toBeLessThanOrEqual(tol);
          compared++;
        });
      }
      expect(compared).toBeGreaterThan(150);
    },
  );

  it('collinear regressors, too few rows, an empty group and a suppressed group give null', () => {
    const r = rng(SEED + 1);
    const base = randomCase(r, 2, 50);
    // x2 = x1 exactly
    const col = { ...base, data: base.data.map(([x1, , y]) => [x1!, x1!, y!]) };
    const exps = regressScaling(100_000, base.ranges);
    expect(regressPlain(gram(col), exps, true).every((c) => !c.ok && c.q === 0n)).toBe(true);
    // 3 rows for 3 unknowns is exactly determined (fine); 2 rows is not
    const two = { ...base, data: base.data.slice(0, 2) };
    expect(regressPlain(gram(two), exps, true).every((c) => !c.ok)).toBe(true);
    const none = { ...base, data: [] };
    expect(regressPlain(gram(none), exps, true).every((c) => !c.ok)).toBe(true);
    expect(regressPlain(gram(base), exps, false).every((c) => !c.ok && !c.negative)).toBe(true);
    expect(regressPlain(gram(base), exps, true).every((c) => c.ok)).toBe(true);
  });
});

describe('REGRESS inside MPC equals its definition bit for bit', () => {
  it.each([
    [3, 1],
    [5, 2],
  ])(
    `n=%i t=%i: 3 groups (one collinear, one suppressed), 3 regressors (seed ${SEED})`,
    async (n, t) => {
      const r = rng(SEED + 2 + n);
      const k = 3;
      const good = randomCase(r, k, 400);
      const ranges = good.ranges;
      const colData = good.data.map((row) => [row[0]!, row[1]!, row[0]!, row[3]!]);
      const groups = [gram(good), gram({ ...good, data: colData }), gram(randomCase(r, k, 30))].map(
        (G) => G,
      );
      const passed = [1n, 1n, 0n];
      const exps = regressScaling(100_000, ranges);
      const V = k + 2;
      const t0 = performance.now();
      const { results } = await runParties(n, { t, rngSeed: SEED }, async (s, p) => {
        const flat: bigint[] = [];
        for (let a = 0; a < V; a++)
          for (let b = 0; b < V; b++) for (const G of groups) flat.push(G[a]![b]!);
        const all = await s.input(
          0,
          p.self === 0 ? BigUint64Array.from(flat) : undefined,
          flat.length,
        );
        const L = groups.length;
        const gramOf = (a: number, b: number): Shared =>
          s.slice(all, (a * V + b) * L, (a * V + b + 1) * L);
        const pass = await s.input(0, p.self === 0 ? BigUint64Array.from(passed) : undefined, L);
        const out = await regressShared(s, gramOf, exps, pass);
        return Array.from(await s.open(s.concat(out.flatMap((c) => [c.q, c.ok, c.negative]))));
      });
      const ms = performance.now() - t0;
      const opened = (results[0] as { ok: true; value: bigint[] }).value;
      for (const res of results) expect(res.ok).toBe(true);
      groups.forEach((G, g) => {
        const want = regressPlain(G, exps, passed[g] === 1n);
        want.forEach((c, j) => {
          const at = j * 3 * groups.length;
          const what = `group ${g} coef ${j}`;
          expect(opened[at + g], `${what} q`).toBe(c.q);
          expect(opened[at + groups.length + g], `${what} ok`).toBe(c.ok ? 1n : 0n);
          expect(opened[at + 2 * groups.length + g], `${what} negative`).toBe(c.negative ? 1n : 0n);
        });
        expect(
          want.every((c) => c.ok),
          `group ${g} ok`,
        ).toBe(g === 0);
      });
      console.log(`regressShared n=${n}: ${ms.toFixed(0)} ms`);
    },
  );
});

describe('what REGRESS opens', () => {
  const SCHEMA = AGE_BMI_SEX;
  const NONE: Policy = { minCohort: 0 };
  /** Exact OLS of bmi on age (natural units) over the rows of one sex. */
  const ols = (data: bigint[][], sex: bigint): [number, number] | null => {
    const idx = data[2]!.flatMap((s, i) => (s === sex ? [i] : []));
    const x = idx.map((i) => data[0]![i]!);
    const y = idx.map((i) => data[1]![i]!); // tenths
    const n = BigInt(x.length);
    const sx = x.reduce((a, b) => a + b, 0n);
    const sy = y.reduce((a, b) => a + b, 0n);
    const sxx = x.reduce((a, b) => a + b * b, 0n);
    const sxy = x.reduce((a, b, i) => a + b * y[i]!, 0n);
    const sol = solveExact(
      [
        [n, sx],
        [sx, sxx],
      ],
      [sy, sxy],
    );
    return sol
      ? [Number(sol[0]![0]) / Number(sol[0]![1]) / 10, Number(sol[1]![0]) / Number(sol[1]![1]) / 10]
      : null;
  };

  it('only the coefficients and their status: no count, sum or cross-product slot is opened', async () => {
    const plan = planQuery(
      compileQueryText('SELECT REGRESS(bmi, age) FROM patients GROUP BY sex', SCHEMA),
    );
    expect(plan.fixed.map((f) => f.kind)).toEqual(['regress', 'regress']);
    const r = rng(SEED + 9);
    const rows = 300;
    const age = Array.from({ length: rows }, () => BigInt(Math.floor(r() * 121)));
    const bmi = age.map((a) => BigInt(Math.min(700, 100 + Math.round(Number(a) * 2.5 + r() * 80))));
    // M: only two rows, both of age 40 — a single distinct x, so the slope is undefined (null)
    const sex = age.map((_, i) => (i < rows - 2 ? 0n : 1n));
    age[rows - 1] = 40n;
    age[rows - 2] = 40n;
    const data = [age, bmi, sex];
    const run = await runPlanInMemory(plan, data, { n: 3, t: 1, policy: NONE });
    expect(run.opened).toEqual(evaluatePlain(plan, data, NONE));
    for (let g = 0; g < 2; g++)
      plan.rowVecs.forEach((_, v) =>
        expect(run.opened[layout.stat(plan, g, v)], `group ${g} stat ${v}`).toBe(0n),
      );
    const [F, M] = run.result.rows;
    const want = ols(data, 0n)!;
    const [icpt, slope] = F!.values[0] as number[];
    // scaled units 2^-30 · 2^(e_j − e_y), in natural units well below 1e-6 here
    expect(Math.abs(icpt! - want[0])).toBeLessThan(1e-6);
    expect(Math.abs(slope! - want[1])).toBeLessThan(1e-8);
    expect(ols(data, 1n)).toBeNull();
    expect(M!.values[0]).toEqual([null, null]);
  });

  it('with DP noise, REGRESS comes from the noisy statistics (status 2)', async () => {
    const plan = planQuery(compileQueryText('SELECT REGRESS(bmi, age) FROM patients', SCHEMA));
    const data = [
      Array.from({ length: 80 }, (_, i) => BigInt(i % 60)),
      Array.from({ length: 80 }, (_, i) => BigInt(150 + 3 * (i % 60))),
      Array.from({ length: 80 }, () => 0n),
    ];
    const policy: Policy = { minCohort: 0, noise: { mechanism: 'laplace', epsilon: 2 } };
    const run = await runPlanInMemory(plan, data, { n: 3, t: 1, policy });
    const at = layout.fixed(plan, 0, 0);
    expect(run.opened.slice(at, at + 6)).toEqual([0n, 2n, 0n, 0n, 2n, 0n]);
    expect(run.opened[layout.stat(plan, 0, 0)]).not.toBe(0n);
    const v = run.result.rows[0]!.values[0] as (number | null)[];
    expect(v.every((b) => typeof b === 'number')).toBe(true);
  });
});
