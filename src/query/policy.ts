/**
 * The data owner's policy (from the grant) and its enforcement before any computation. The parts
 * enforced inside MPC (minimum cohort, noise) are in the plan and the compiler; this module
 * refuses disallowed query kinds up front and computes the noise scales.
 */
import type { CheckedQuery } from './check';
import { QueryError } from './errors';
import type { Plan } from './plan';

/** Query kinds a policy can allow: one per aggregate, plus the constructs below. */
export const QUERY_KINDS = [
  'count',
  'sum',
  'avg',
  'var',
  'stddev',
  'min',
  'max',
  'histogram',
  'corr',
  'regress',
  'filter',
  'group_by',
  'compare_columns',
] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export interface Policy {
  /** Query kinds allowed; undefined allows all. */
  allowedKinds?: readonly QueryKind[];
  /** Groups (and histogram bins) with fewer rows are suppressed inside MPC. 0 or 1: no suppression. */
  minCohort: number;
  /**
   * Optional differentially private noise, generated jointly inside MPC: two-sided geometric
   * (discrete Laplace) noise on every released statistic, ε split evenly over them.
   */
  noise?: { mechanism: 'laplace'; epsilon: number };
}

export const DEFAULT_POLICY: Policy = { minCohort: 0 };

/** Checks the policy itself (it comes from a grant on chain: untrusted shape). */
export function validatePolicy(p: Policy): Policy {
  if (!p || typeof p !== 'object') throw new QueryError('BAD_INPUT', 'policy: expected an object');
  if (!Number.isSafeInteger(p.minCohort) || p.minCohort < 0 || p.minCohort > 1_000_000) {
    throw new QueryError(
      'BAD_INPUT',
      `policy.minCohort: expected an integer 0..1000000, got ${String(p.minCohort)}`,
    );
  }
  if (p.allowedKinds !== undefined) {
    if (!Array.isArray(p.allowedKinds))
      throw new QueryError('BAD_INPUT', 'policy.allowedKinds: expected an array');
    for (const k of p.allowedKinds) {
      if (!(QUERY_KINDS as readonly string[]).includes(k))
        throw new QueryError(
          'BAD_INPUT',
          `policy.allowedKinds: unknown kind ${String(k).slice(0, 30)}`,
        );
    }
  }
  if (p.noise !== undefined) {
    const e = p.noise.epsilon;
    if (p.noise.mechanism !== 'laplace' || !(typeof e === 'number' && e >= 0.001 && e <= 100)) {
      throw new QueryError(
        'BAD_INPUT',
        `policy.noise: expected { mechanism: 'laplace', epsilon in [0.001, 100] }, got ε=${String(e)}`,
      );
    }
  }
  return p;
}

/**
 * Refuses a query the policy does not allow — before any computation, naming the first kind
 * that is not allowed.
 */
export function enforcePolicy(q: CheckedQuery, policy: Policy): void {
  validatePolicy(policy);
  if (policy.allowedKinds) {
    const allowed = new Set<string>(policy.allowedKinds);
    const bad = q.kinds.filter((k) => !allowed.has(k));
    if (bad.length) {
      throw new QueryError(
        'POLICY_REFUSED',
        `the data owner's policy does not allow ${bad.map((k) => k.toUpperCase()).join(', ')} on this dataset (allowed: ${policy.allowedKinds.join(', ') || 'nothing'})`,
      );
    }
  }
  if (policy.noise && (q.kinds.includes('min') || q.kinds.includes('max'))) {
    throw new QueryError(
      'POLICY_REFUSED',
      'MIN and MAX cannot be released with differentially private noise (their sensitivity is the whole range); use HISTOGRAM',
    );
  }
}

/**
 * Noise scale b (in stored, shifted units) for each released statistic of one group, indexed by
 * rowVec; 0 where no noise is added. The statistic gets discrete Laplace noise with
 * P(k) ∝ exp(−|k| / b), b = sensitivity / ε_i. Sensitivities: count and bin counts 1, Σx' the
 * range, Σx'y' the product of ranges. Histogram bins are disjoint (parallel composition) and so
 * are groups; the budget ε is split evenly over the count, each other row vector and each histogram.
 */
export function noiseScales(plan: Plan, policy: Policy): number[] {
  const scales = plan.rowVecs.map(() => 0);
  if (!policy.noise) return scales;
  const units =
    1 +
    plan.rowVecs.filter((v) => v.kind === 'col' || v.kind === 'prod').length +
    plan.histograms.length;
  const eps = policy.noise.epsilon / units;
  plan.rowVecs.forEach((v, i) => {
    const range = (c: { hi: bigint; lo: bigint }) => Number(c.hi - c.lo);
    const sens =
      v.kind === 'one' || v.kind === 'bin'
        ? 1
        : v.kind === 'col'
          ? range(v.col)
          : range(v.a) * range(v.b);
    scales[i] = Math.max(sens, 1) / eps;
  });
  return scales;
}
