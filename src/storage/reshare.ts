/**
 * Re-sharing a committee's data to a new committee without reconstructing it (the standard
 * protocol, e.g. Herzberg et al. / Desmedt–Jajodia):
 *
 *   1. each dealer i of a set S of at least t+1 current holders shares its own share s_i with a
 *      fresh random polynomial of degree t' to the new committee: sub-share s_ij for new member j;
 *   2. each new member j combines what it received: s'_j = sum_{i in S} lambda_i * s_ij, where
 *      lambda_i are the Lagrange coefficients at 0 for S (x = i + 1).
 *
 * The new shares lie on a fresh degree-t' polynomial with the same constant term (the secret),
 * and every cell stays hidden from any t' new members and any t old ones. Staying members get new
 * shares too (proactive refresh), so a departed member's old share is useless with the new ones.
 * The same two steps change t or c on the owner's request (deal with t', to c' members).
 *
 * These are the local steps. Moving sub-shares (encrypted, via the mesh), checking that every
 * dealer's sub-shares are consistent (the engine's verifiable-sharing checks: a batched random
 * linear combination must reconstruct the same value from every t'+1 subset), and recording the
 * new committee and commitments on chain belong to the node, engine and chain layers.
 */
import { Field, lagrangeCoefficients, shareDeg, cryptoRng, type Rng, type Vec } from '../mpc/index';
import { StorageError } from './errors';

export interface ResharePlan {
  /** Member indices of the current committee that deal (at least t+1, all distinct). */
  dealers: number[];
  /** Size of the new committee; new member j holds x = j + 1. */
  newSize: number;
  /** Threshold of the new sharing. */
  newThreshold: number;
}

export function checkPlan(plan: ResharePlan, oldThreshold: number): ResharePlan {
  const { dealers, newSize, newThreshold } = plan;
  if (
    new Set(dealers).size !== dealers.length ||
    dealers.some((d) => !Number.isInteger(d) || d < 0 || d > 63)
  ) {
    throw new StorageError(
      'PLACEMENT_BAD_PARAMS',
      `reshare: dealers must be distinct member indices, got ${dealers.join(',')}`,
    );
  }
  if (dealers.length < oldThreshold + 1) {
    throw new StorageError(
      'PLACEMENT_NOT_ENOUGH_NODES',
      `reshare: ${dealers.length} dealers, need t+1 = ${oldThreshold + 1}`,
    );
  }
  if (
    !Number.isInteger(newSize) ||
    !Number.isInteger(newThreshold) ||
    newThreshold < 1 ||
    2 * newThreshold >= newSize ||
    newSize > 64
  ) {
    throw new StorageError(
      'PLACEMENT_BAD_PARAMS',
      `reshare: need 1 <= t' and 2t' < c' <= 64, got c'=${newSize} t'=${newThreshold}`,
    );
  }
  return plan;
}

/**
 * Step 1, run by one dealer per column (or chunk): its sub-shares for each new member.
 * `out[j]` goes to new member j (encrypted to its node key).
 */
export function reshareDeal(
  F: Field,
  myShares: Vec,
  plan: ResharePlan,
  rng: Rng = cryptoRng,
): Vec[] {
  return shareDeg(F, myShares, plan.newSize, plan.newThreshold, rng);
}

/**
 * Step 2, run by new member j per column (or chunk): `fromDealers[k]` is the vector received from
 * dealer `plan.dealers[k]`. Returns j's new share vector.
 */
export function reshareCombine(F: Field, fromDealers: readonly Vec[], plan: ResharePlan): Vec {
  if (fromDealers.length !== plan.dealers.length) {
    throw new StorageError(
      'STORE_BAD_INPUT',
      `reshareCombine: ${fromDealers.length} sub-share vectors for ${plan.dealers.length} dealers`,
    );
  }
  const n = fromDealers[0]!.length;
  for (const v of fromDealers) {
    if (v.length !== n)
      throw new StorageError(
        'STORE_BAD_INPUT',
        'reshareCombine: sub-share vectors differ in length',
      );
    const bad = F.firstInvalid(v);
    if (bad >= 0)
      throw new StorageError(
        'STORE_BAD_INPUT',
        `reshareCombine: sub-share ${bad} is not a field element`,
      );
  }
  return F.linComb(fromDealers, lagrangeCoefficients(plan.dealers));
}
