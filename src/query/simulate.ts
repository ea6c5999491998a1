/**
 * Runs a query end to end over the engine's in-memory network: the data owner deals the columns
 * the plan reads (and their bits) as the upload does, every party adopts its shares as a node
 * does (`adoptStored`) and runs the same MPC program, and the requester finalizes the opened
 * vector. For tests, benchmarks and the terminal demo; the
 * product runs `runPlan` inside each node instead.
 */
import { Field, runParties, seededRng } from '../mpc/index';
import { finalize, type QueryResult } from './finalize';
import { runPlan } from './mpc';
import { bitColumns, type Plan } from './plan';
import { enforcePolicy, type Policy } from './policy';
import { adoptStored, dealStored } from './stored';

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
   * Deal the bit decomposition of every column compared with a constant (as the upload stores
   * it) and pass it to `runPlan` (default true); false deals values only.
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
  // The owner's upload: Shamir shares of each column (and of its bits), dealt outside the
  // session; each party then adopts its partition as a node does.
  const rng = opts.rngSeed !== undefined ? seededRng(opts.rngSeed * 7919 + 1) : undefined;
  const stored = dealStored(
    new Field(),
    opts.n,
    opts.t,
    data,
    cols,
    opts.bits !== false ? bitColumns(plan) : [],
    rng,
  );
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
      const { columns, bits } = await adoptStored(s, rows, stored[p.self]!);
      // COUNT(*) without a filter reads no column: a public vector of the row count's length.
      if (!cols.length) columns.set(-1, s.constant(new BigUint64Array(rows)));
      return runPlan(s, plan, columns, {
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
