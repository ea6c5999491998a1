/**
 * VAR/STDDEV and CORR computed inside MPC by exact multi-limb division (src/query/fixdiv.ts): the
 * opened vector holds only q = floor(VAR·2^f) (or floor(r²·2^f) and the sign of r) and a status,
 * never the count, sums or sums of squares. Checked against the plaintext plan bit for bit and
 * against SQLite (sql.js) within the stated precision.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runParties, type Shared } from '../../src/mpc/index';
import {
  compileQueryText,
  CORR_FRAC_BITS,
  evaluatePlain,
  layout,
  planQuery,
  runPlanInMemory,
  VAR_FRAC_BITS,
  type Policy,
} from '../../src/query/index';
import {
  compose,
  divideChunks,
  normalizeColumns,
  toChunks,
  toDigits,
} from '../../src/query/fixdiv';
import { AGE_BMI_SEX } from './fixtures';
import { randomDataset, rng } from './gen';
import { initSqlite, loadSqlite } from './sqlite';

beforeAll(initSqlite);
const SEED = Number(process.env.QUERY_SEED ?? 20261125);
const NONE: Policy = { minCohort: 0 };

const SCHEMA = AGE_BMI_SEX;

describe('multi-limb division (fixdiv) against BigInt', () => {
  it('floor(X·2^f / d) for numerators far beyond the field, divisors up to 2^50', async () => {
    const r = rng(SEED + 40);
    const big = (bits: number) => {
      let v = 0n;
      for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(r() * 65536));
      return v & ((1n << BigInt(bits)) - 1n);
    };
    // x < 2^58 (a field element), squared into 116 bits, divided by d < 2^50, f = 20.
    const xs = Array.from({ length: 3 }, () => big(57));
    const ds = [1n, 3n, big(50) | 1n];
    const f = 20;
    const { results } = await runParties(3, { t: 1, rngSeed: SEED }, async (s, p) => {
      const x = await s.input(0, p.self === 0 ? BigUint64Array.from(xs) : undefined, 3);
      const d = await s.input(0, p.self === 0 ? BigUint64Array.from(ds) : undefined, 3);
      const digits = await toDigits(s, x, 57);
      // square by columns of 29-bit digits, as the CORR numerator
      const [a0, a1] = digits as [Shared, Shared];
      const [c0, c1, c2] = await s.mulMany([
        [a0, a0],
        [a0, a1],
        [a1, a1],
      ]);
      const sq = await normalizeColumns(s, [
        c0!,
        s.mulConst(c1!, 2n),
        c2!,
        s.constant(new BigUint64Array(3)),
      ]);
      const chunks = await toChunks(s, sq, 29, 59 - 50, 114, f);
      const q = await divideChunks(s, chunks, d, 50);
      // the quotient can exceed the field: open its chunks and recompose in the clear
      const opened = await s.open(s.concat(q.map((c) => c.x)));
      return { opened: Array.from(opened), pos: q.map((c) => c.pos) };
    });
    const v = (results[0] as { ok: true; value: { opened: bigint[]; pos: number[] } }).value;
    for (let i = 0; i < 3; i++) {
      let got = 0n;
      v.pos.forEach((pos, k) => (got += v.opened[k * 3 + i]! << BigInt(pos)));
      expect(got).toBe((xs[i]! * xs[i]! * (1n << BigInt(f))) / ds[i]!);
    }
  });

  it('a single chunk is the ordinary restoring division (radix 2^k), compose gives q', async () => {
    const xs = [0n, 1n, 12345n, (1n << 40n) - 1n];
    const ys = [1n, 7n, 1n, 1000n];
    const { results } = await runParties(3, { t: 1, rngSeed: SEED + 1 }, async (s, p) => {
      const x = await s.input(0, p.self === 0 ? BigUint64Array.from(xs) : undefined, 4);
      const y = await s.input(0, p.self === 0 ? BigUint64Array.from(ys) : undefined, 4);
      return s.open(compose(s, await divideChunks(s, [{ x, pos: 0, bits: 40 }], y, 19)));
    });
    const q = (results[0] as { ok: true; value: BigUint64Array }).value;
    expect(Array.from(q)).toEqual(xs.map((x, i) => x / ys[i]!));
  });
});

function sampleVar(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

describe(`VAR, STDDEV and CORR inside MPC agree with SQLite within the stated precision (seed ${SEED})`, () => {
  it('random datasets, n=3 t=1: opened vector = plaintext plan; answers within 2^−f', async () => {
    const r = rng(SEED + 41);
    let done = 0;
    while (done < 6) {
      const ds = randomDataset(r);
      if (ds.natural.length > 40) continue;
      const nums = ds.schema.columns.filter(
        (c) => c.type.kind === 'integer' || c.type.kind === 'decimal',
      );
      if (nums.length < 2) continue;
      const [a, b] = [nums[0]!, nums[1]!];
      const text = `SELECT VAR(${a.name}), STDDEV(${b.name}), CORR(${a.name}, ${b.name}) FROM ${ds.schema.name}`;
      const plan = planQuery(compileQueryText(text, ds.schema));
      expect(plan.fixed.map((f) => f.kind)).toEqual(['var', 'var', 'corr']);
      const run = await runPlanInMemory(plan, ds.stored, {
        n: 3,
        t: 1,
        policy: NONE,
        rngSeed: done,
      });
      expect(run.opened, text).toEqual(evaluatePlain(plan, ds.stored, NONE));
      // nothing but [passed] and the fixed slots carries data
      plan.rowVecs.forEach((_, v) => expect(run.opened[layout.stat(plan, 0, v)]).toBe(0n));
      // SQLite selects the rows (no filter here); statistics in the clear from its rows
      const db = loadSqlite(ds);
      try {
        const res = db.exec(`SELECT ${a.name}, ${b.name} FROM ${ds.schema.name}`);
        const rowsA = (res[0]?.values ?? []).map((x) => Number(x[0]));
        const rowsB = (res[0]?.values ?? []).map((x) => Number(x[1]));
        const [vA, sdB, corr] = run.result.rows[0]!.values as (number | null)[];
        const scaleOf = (c: typeof a) => (c.type.kind === 'decimal' ? c.type.scale : 0);
        const refA = sampleVar(rowsA);
        const refB = sampleVar(rowsB);
        const f0 = plan.fixed[0]!;
        const f = f0.kind === 'var' ? f0.fracBits : NaN;
        if (refA === null) expect(vA).toBeNull();
        else {
          // 0 ≤ exact − ours < 2^−f stored units² (plus float rounding of the reference)
          const eps = 2 ** -f / 10 ** (2 * scaleOf(a));
          expect(vA!).toBeLessThanOrEqual(refA + 1e-9 * Math.max(1, refA));
          expect(refA - vA!).toBeLessThan(eps + 1e-9 * Math.max(1, refA));
        }
        if (refB === null) expect(sdB).toBeNull();
        else {
          const eps = 2 ** -f / 10 ** (2 * scaleOf(b));
          const lo = Math.sqrt(Math.max(0, refB - eps));
          expect(sdB!).toBeLessThanOrEqual(Math.sqrt(refB) + 1e-9 * Math.max(1, refB));
          expect(sdB!).toBeGreaterThanOrEqual(lo - 1e-9 * Math.max(1, refB));
        }
        if (refA === null || refB === null || refA === 0 || refB === 0) expect(corr).toBeNull();
        else {
          const ma = rowsA.reduce((t, x) => t + x, 0) / rowsA.length;
          const mb = rowsB.reduce((t, x) => t + x, 0) / rowsB.length;
          const cov = rowsA.reduce((t, x, i) => t + (x - ma) * (rowsB[i]! - mb), 0);
          const ref = cov / Math.sqrt(refA * refB) / (rowsA.length - 1);
          // |r − ours| ≤ 2^−(f/2) (q = floor(r²·2^f), r = ±sqrt(q/2^f))
          expect(Math.abs(corr! - ref)).toBeLessThanOrEqual(2 ** -(CORR_FRAC_BITS / 2) + 1e-9);
        }
      } finally {
        db.close();
      }
      done++;
    }
  });
});

describe('what VAR and CORR reveal', () => {
  it('datasets with different counts and sums but equal VAR and CORR open identical vectors', async () => {
    const plan = planQuery(
      compileQueryText('SELECT VAR(age), STDDEV(age), CORR(age, bmi) FROM patients', SCHEMA),
    );
    expect(plan.fixed.map((f) => f.kind)).toEqual(['var', 'corr']);
    const v0 = plan.fixed[0]!;
    expect(v0.kind === 'var' && v0.fracBits).toBe(VAR_FRAC_BITS);
    // ages {0, 1} (n = 2) and {0, 1, 1, 1, 2} (n = 5): sample variance 1/2 both;
    // bmi a positive affine function of age in both, so r = 1.
    const a = [
      [0n, 1n],
      [100n, 110n],
      [0n, 1n],
    ];
    const b = [
      [0n, 1n, 1n, 1n, 2n],
      [200n, 203n, 203n, 203n, 206n],
      [0n, 0n, 1n, 1n, 0n],
    ];
    const ra = await runPlanInMemory(plan, a, { n: 3, t: 1, policy: NONE });
    const rb = await runPlanInMemory(plan, b, { n: 3, t: 1, policy: NONE });
    expect(ra.opened).toEqual(evaluatePlain(plan, a, NONE));
    expect(ra.opened).toEqual(rb.opened);
    expect(ra.result.rows[0]!.values).toEqual([0.5, Math.sqrt(0.5), 1]);
    // the COUNT of the same data differs (sanity check)
    const count = planQuery(compileQueryText('SELECT COUNT(*) FROM patients', SCHEMA));
    expect(evaluatePlain(count, a, NONE)).not.toEqual(evaluatePlain(count, b, NONE));
  });

  it('negative correlation, too few rows and zero variance', async () => {
    const plan = planQuery(
      compileQueryText('SELECT VAR(bmi), CORR(age, bmi) FROM patients GROUP BY sex', SCHEMA),
    );
    // F: 3 rows, bmi falls with age; M: 1 row (VAR and CORR null)
    const data = [
      [20n, 40n, 60n, 33n],
      [300n, 250n, 150n, 222n],
      [0n, 0n, 0n, 1n],
    ];
    const run = await runPlanInMemory(plan, data, { n: 3, t: 1, policy: NONE });
    expect(run.opened).toEqual(evaluatePlain(plan, data, NONE));
    const [F, M] = run.result.rows;
    const ref = sampleVar([30, 25, 15])!;
    expect(ref - (F!.values[0] as number)).toBeLessThan(2 ** -VAR_FRAC_BITS / 100 + 1e-12);
    // r of (20,30), (40,25), (60,15): −0.9933
    const r = F!.values[1] as number;
    const [ax, bx] = [
      [20, 40, 60],
      [30, 25, 15],
    ];
    const cov = ax.reduce((t, x, i) => t + (x - 40) * (bx[i]! - 70 / 3), 0);
    const exact = cov / 2 / Math.sqrt(sampleVar(ax)! * sampleVar(bx)!);
    expect(r).toBeLessThan(0);
    expect(Math.abs(r - exact)).toBeLessThanOrEqual(2 ** -(CORR_FRAC_BITS / 2));
    expect(M!.values).toEqual([null, null]);
    // zero variance: CORR null, VAR 0
    const flat = [
      [20n, 40n, 60n],
      [300n, 300n, 300n],
      [0n, 0n, 0n],
    ];
    const f = await runPlanInMemory(plan, flat, { n: 3, t: 1, policy: NONE });
    expect(f.result.rows[0]!.values).toEqual([0, null]);
  });

  it('with DP noise, VAR and CORR come from the noisy statistics (status 2)', async () => {
    const plan = planQuery(compileQueryText('SELECT VAR(age) FROM patients', SCHEMA));
    const data = [
      Array.from({ length: 60 }, (_, i) => BigInt(i % 50)),
      Array.from({ length: 60 }, () => 200n),
      Array.from({ length: 60 }, () => 0n),
    ];
    const policy: Policy = { minCohort: 0, noise: { mechanism: 'laplace', epsilon: 2 } };
    const run = await runPlanInMemory(plan, data, { n: 3, t: 1, policy });
    const at = layout.fixed(plan, 0, 0);
    expect(run.opened.slice(at, at + 3)).toEqual([0n, 2n, 0n]);
    expect(run.opened[layout.stat(plan, 0, 0)]).not.toBe(0n);
    expect(typeof run.result.rows[0]!.values[0]).toBe('number');
  });
});
