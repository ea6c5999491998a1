/**
 * Runs a query end to end over the engine's in-memory network: party 0 deals the columns the plan
 * reads (as the data owner's upload would), every party runs the same MPC program, and the
 * requester finalizes the opened vector. For tests, benchmarks and the terminal demo; the
 * product runs `runPlan` inside each node instead.
 */
import { runParties, toField, type Shared } from '../mpc/index';
import { finalize, type QueryResult } from './finalize';
import { runPlan } from './mpc';
import { bitColumns, type Plan } from './plan';
import { enforcePolicy, type Policy } from './policy';

export interface InMemoryOptions {
  n: number;
  t: number;
  policy: Policy;
  /** Party that receives the result (default 0); the others learn nothing. */
  requester?: number;
  /** Seeded randomness (tests only); default: crypto randomness. */
  rngSeed?: number;
  /** Network scheduler seed and chaos (random delays, reordering). */
  seed?: number;
  maxDelayMs?: number;
  reorder?: boolean;
  /**
   * Deal the bit decomposition of every column compared with a constant (the engine's checked
   * `inputBits`) and pass it to `runPlan` (default true); false deals values only.
   */
  bits?: boolean;
}

export interface InMemoryRun {
  result: QueryResult;
  opened: bigint[];
  /** Protocol steps (communication rounds) of the requester's party, dealing included. */
  steps: number;
  /** Bytes sent by all parties. */
  bytes: number;
}

export async function runPlanInMemory(
  plan: Plan,
  data: readonly (ArrayLike<bigint> | undefined)[],
  opts: InMemoryOptions,
): Promise<InMemoryRun> {
  const requester = opts.requester ?? 0;
  // Refused before any computation (and before any share is dealt).
  enforcePolicy(plan.checked, opts.policy);
  const cols = plan.columns;
  const rows = cols.length
    ? data[cols[0]!.index]!.length
    : (data.find((d) => d !== undefined)?.length ?? 0);
  const { results, parties, net } = await runParties(
    opts.n,
    {
      t: opts.t,
      ...(opts.rngSeed !== undefined ? { rngSeed: opts.rngSeed } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.maxDelayMs !== undefined ? { maxDelayMs: opts.maxDelayMs } : {}),
      ...(opts.reorder !== undefined ? { reorder: opts.reorder } : {}),
    },
    async (s, p) => {
      const len = rows * Math.max(1, cols.length);
      let values: BigUint64Array | undefined;
      if (p.self === 0) {
        values = new BigUint64Array(len);
        cols.forEach((c, j) => {
          const x = data[c.index]!;
          for (let i = 0; i < rows; i++) values![j * rows + i] = toField(x[i]!);
        });
      }
      // (An empty dataset deals nothing: the engine's vectors are never empty.)
      const all = len ? await s.input(0, values, len) : s.constant(new BigUint64Array(0));
      const shared = new Map<number, Shared>();
      cols.forEach((c, j) => shared.set(c.index, s.slice(all, j * rows, (j + 1) * rows)));
      // Bit-decomposed columns: dealt again with their bits (x − lo), checked by the engine.
      const bits = new Map<number, readonly Shared[]>();
      if (opts.bits !== false && rows > 0) {
        for (const c of bitColumns(plan)) {
          let shiftedVals: BigUint64Array | undefined;
          if (p.self === 0) {
            const x = data[c.index]!;
            shiftedVals = new BigUint64Array(rows);
            for (let i = 0; i < rows; i++) shiftedVals[i] = toField(x[i]! - c.lo);
          }
          const d = await s.inputBits(0, shiftedVals, rows, c.bits);
          shared.set(c.index, s.addConst(d.x, toField(c.lo)));
          bits.set(c.index, d.bits);
        }
      }
      if (!cols.length) {
        // COUNT(*) without a filter reads no column: a public vector of the row count's length.
        shared.set(-1, s.constant(new BigUint64Array(rows)));
      }
      return runPlan(s, plan, shared, {
        policy: opts.policy,
        output: { kind: 'party', party: requester },
        ...(bits.size ? { bits } : {}),
      });
    },
  );
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
  const mine = results[requester]!;
  if (!mine.ok || !mine.value.opened)
    throw new Error('runPlanInMemory: requester received no output');
  results.forEach((r, i) => {
    if (i !== requester && r.ok && r.value.opened)
      throw new Error(`runPlanInMemory: party ${i} received the output`);
  });
  return {
    result: finalize(plan, mine.value.opened),
    opened: mine.value.opened,
    steps: parties[requester]!.stats.steps,
    bytes: net.stats.bytes,
  };
}
