/**
 * Engine benchmarks (shared/BENCH.md). All five parties run in this one Node process over the
 * in-memory network, so they share one core: figures are for the whole committee, not per party.
 */
import {
  Field,
  P,
  reconstruct,
  runParties,
  seededRng,
  share,
  vecFrom,
  type Session,
  type Shared,
  type Vec,
} from '../src/mpc/index';
import { medianSeconds, type Benchmark, type BenchRecord } from './harness';

const F = new Field();

function plainBaselines(size: number, reps: number) {
  const a = new Float64Array(size).map((_, i) => (i * 7919) % 65536);
  const b = new Float64Array(size).map((_, i) => (i * 104729) % 65536);
  const c = new Float64Array(size);
  let sink = 0;
  return {
    sum: async () =>
      size /
      (await medianSeconds(reps, () => {
        let s = 0;
        for (let i = 0; i < size; i++) s += a[i]!;
        sink += s;
      })),
    mul: async () =>
      size /
      (await medianSeconds(reps, () => {
        for (let i = 0; i < size; i++) c[i] = a[i]! * b[i]! + c[i]!;
        sink += c[0]!;
      })),
    countFilter: async (rows: number, th: number) =>
      rows /
      (await medianSeconds(reps, () => {
        let k = 0;
        for (let i = 0; i < rows; i++) if (a[i]! > th) k++;
        sink += k;
      })),
    sink: () => sink,
  };
}

/**
 * Runs `body` at all 5 parties on random 32-bit data that party 0 dealt beforehand with `deal`;
 * returns party 0's seconds for `body` alone and the bytes all parties sent during it.
 */
async function timeDealt<D>(
  rows: number,
  seed: number,
  deal: (s: Session, data: Vec | undefined) => Promise<D>,
  body: (s: Session, dealt: D) => Promise<unknown>,
): Promise<{ secs: number; bytes: number }> {
  const xs = new Uint32Array(rows);
  seededRng(seed).fill(new Uint8Array(xs.buffer));
  const data = vecFrom(xs);
  let secs = 0;
  let bytesBefore = 0;
  const { results, net } = await runParties(5, { t: 2 }, async (s, p, n) => {
    const dealt = await deal(s, p.self === 0 ? data : undefined);
    await s.verify();
    if (p.self === 0) bytesBefore = n.stats.bytes;
    const t0 = performance.now();
    await body(s, dealt);
    if (p.self === 0) secs = (performance.now() - t0) / 1000;
  });
  const bad = results.find((r) => !r.ok);
  if (bad && !bad.ok) throw bad.error;
  return { secs, bytes: net.stats.bytes - bytesBefore };
}

/** An op/s record against its baseline and the bytes per operation of the same run. */
function opsAndBytes(
  name: string,
  size: number,
  run: { secs: number; bytes: number },
  baseline: string,
  baseOps: number,
  target: number,
): BenchRecord[] {
  const common = { n: 5, t: 2, size, reps: 1 };
  return [
    {
      name,
      value: size / run.secs,
      unit: 'op/s',
      ...common,
      baseline,
      ratio: size / run.secs / baseOps,
      target,
    },
    { name: `${name}.bytes`, value: run.bytes / size, unit: 'B/op', ...common },
  ];
}

/** The column dealt as plain shares. */
const timeMpc = (rows: number, body: (s: Session, x: Shared) => Promise<unknown>) =>
  timeDealt(rows, 1, (s, data) => s.input(0, data, rows), body);

/** The column dealt together with its bit decomposition (as a stored column would be). */
const timeMpcBits = (rows: number, body: (s: Session, bits: Shared[]) => Promise<unknown>) =>
  timeDealt(rows, 2, async (s, data) => (await s.inputBits(0, data, rows)).bits, body);

export const benchmarks: Benchmark[] = [
  {
    name: 'plain',
    async run({ quick }) {
      const size = 1 << 20;
      const base = plainBaselines(size, quick ? 3 : 7);
      const rows = 100_000;
      return [
        { name: 'plain.sum', value: await base.sum(), unit: 'op/s', size, reps: quick ? 3 : 7 },
        { name: 'plain.mul', value: await base.mul(), unit: 'op/s', size, reps: quick ? 3 : 7 },
        {
          name: 'plain.count_filter',
          value: await base.countFilter(rows, 30000),
          unit: 'op/s',
          rows,
          reps: quick ? 3 : 7,
        },
      ];
    },
  },
  {
    name: 'field',
    async run({ quick }) {
      const size = 1 << 20;
      const reps = quick ? 3 : 7;
      const base = await plainBaselines(size, reps).mul();
      const a = F.random(size);
      const b = F.random(size);
      const c = F.random(size);
      const out = new BigUint64Array(size);
      const mul = size / (await medianSeconds(reps, () => F.mulAdd(a, b, c, out)));
      const secrets = F.random(size);
      const shareRate = size / (await medianSeconds(reps, () => share(F, secrets, 5, 2)));
      const shares = share(F, secrets, 5, 2);
      const rec =
        size /
        (await medianSeconds(reps, () =>
          reconstruct(F, [shares[0]!, shares[2]!, shares[4]!], [0, 2, 4]),
        ));
      return [
        {
          name: 'field.mul',
          value: mul,
          unit: 'op/s',
          size,
          baseline: 'plain.mul',
          ratio: mul / base,
          reps,
          target: 250e6,
        },
        {
          name: 'shamir.share',
          value: shareRate,
          unit: 'secrets/s',
          n: 5,
          t: 2,
          size,
          baseline: 'plain.mul',
          ratio: shareRate / base,
          reps,
          target: 30e6,
        },
        {
          name: 'shamir.reconstruct',
          value: rec,
          unit: 'secrets/s',
          n: 5,
          t: 2,
          size,
          from: 3,
          baseline: 'plain.mul',
          ratio: rec / base,
          reps,
        },
      ];
    },
  },
  {
    name: 'mpc',
    async run({ quick, log }) {
      const out: BenchRecord[] = [];
      const base = plainBaselines(1 << 20, 3);
      const plainMul = await base.mul();
      const plainCount = await base.countFilter(100_000, 30000);
      const mulSize = quick ? 50_000 : 1_000_000;
      log(`[bench] mpc.mul over ${mulSize} products (multiplication + verification)`);
      const mul = await timeMpc(mulSize, async (s, x) => {
        await s.mul(x, x);
        await s.verify();
      });
      out.push(...opsAndBytes('mpc.mul', mulSize, mul, 'plain.mul', plainMul, 2e6));
      log(`[bench] mpc.mul.bare over ${mulSize} products without MACs (+ the product check)`);
      const bare = await timeMpc(mulSize, async (s, x) => {
        await s.mulBare([[x, x]]);
        await s.verify();
      });
      out.push(...opsAndBytes('mpc.mul.bare', mulSize, bare, 'plain.mul', plainMul, 2e6));
      const cmpSize = quick ? 1_000 : 20_000;
      log(`[bench] mpc.lt over ${cmpSize} comparisons`);
      const lt = await timeMpc(cmpSize, async (s, x) => {
        await s.lt(x, s.constant(new BigUint64Array(cmpSize).fill(1n << 31n)));
        await s.verify();
      });
      out.push(...opsAndBytes('mpc.lt', cmpSize, lt, 'plain.count_filter', plainCount, 100e3));
      log(`[bench] mpc.eq over ${cmpSize} equality tests`);
      const eq = await timeMpc(cmpSize, async (s, x) => {
        await s.eqConst(x, 12345n);
        await s.verify();
      });
      out.push({
        name: 'mpc.eq',
        value: cmpSize / eq.secs,
        unit: 'op/s',
        n: 5,
        t: 2,
        size: cmpSize,
        baseline: 'plain.count_filter',
        ratio: cmpSize / eq.secs / plainCount,
        reps: 1,
        target: 200e3,
      });
      log(`[bench] mpc.lt_const_bits over ${cmpSize} comparisons with dealt bit decompositions`);
      const ltb = await timeMpcBits(cmpSize, async (s, bits) => {
        await s.ltConstBits(bits, 1n << 31n);
        await s.verify();
      });
      out.push({
        name: 'mpc.lt_const_bits',
        value: cmpSize / ltb.secs,
        unit: 'op/s',
        n: 5,
        t: 2,
        size: cmpSize,
        baseline: 'mpc.lt',
        ratio: cmpSize / ltb.secs / (cmpSize / lt.secs),
        reps: 1,
      });
      const rows = quick ? 2_000 : 100_000;
      log(`[bench] mpc.query.count_filter over ${rows} rows`);
      const q = await timeMpc(rows, async (s, x) => {
        const f = await s.gtConst(x, 1n << 31n);
        await s.open(s.sumAll(f));
      });
      log(`[bench] mpc.query.count_filter_bits over ${rows} rows (column stored with its bits)`);
      const qb = await timeMpcBits(rows, async (s, bits) => {
        const f = await s.ltConstBits(bits, (1n << 31n) + 1n);
        await s.open(s.sumAll(s.affine(f, P - 1n, 1n)));
      });
      const plainSecs = rows / plainCount;
      out.push({
        name: 'mpc.query.count_filter_bits',
        value: qb.secs,
        unit: 's',
        n: 5,
        t: 2,
        rows,
        baseline: 'plain.count_filter',
        ratio: qb.secs / plainSecs,
        reps: 1,
        target: 1,
        lower_is_better: 'yes',
      });
      out.push({
        name: 'mpc.query.count_filter',
        value: q.secs,
        unit: 's',
        n: 5,
        t: 2,
        rows,
        baseline: 'plain.count_filter',
        ratio: q.secs / plainSecs,
        reps: 1,
        target: 1,
        lower_is_better: 'yes',
      });
      return out;
    },
  },
];
