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
import {
  Field,
  berlekampWelch,
  lagrangeCoefficients,
  shareDeg,
  cryptoRng,
  type Rng,
  type Vec,
} from '../mpc/index';
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

// ─── Checked re-sharing: catching a dealer who deals garbage, without revealing data ───
//
// 1. Each dealer appends one mask element to the vector it deals (`reshareDealMasked`). If the old
//    committee first made a joint random sharing R (the engine's shared random value), dealer i uses
//    its share R_i as the mask ("shared masks"); otherwise any uniform random value.
// 2. After all sub-shares are delivered, the new committee draws a public challenge rho (a joint coin
//    toss, or a hash of every sealed sub-share bundle: it must not be known while dealing).
// 3. New member j publishes, per dealer i, y_ij = horner(sub_ij[0..L), rho) + sub_ij[L]
//    (`reshareCheckValue`). For each dealer the y_ij lie on a polynomial of degree t' whose constant
//    is the same combination of the dealer's old shares plus its mask: uniformly random, so nothing
//    about the data is revealed.
// 4. `reshareVerify` decodes every dealer's polynomial with Berlekamp–Welch: a dealer whose
//    sub-shares are not on one degree-t' polynomial is caught (soundness error ~ L/p per check), a
//    new member that publishes wrong check values for more than t dealers is caught. With shared
//    masks and at least t+2 dealers, the dealers' constants must lie on one degree-t polynomial in
//    the old x-coordinates: a dealer who dealt something other than its true share is detected, and
//    identified when there are enough dealers for Berlekamp–Welch to correct it.
// 5. New members combine only the good dealers (at least t+1), with `reshareCombine` on
//    `withoutMask(sub)`.

/** Dealer: deal `myShares` with `mask` appended as one extra element (see the steps above). */
export function reshareDealMasked(
  F: Field,
  myShares: Vec,
  mask: bigint,
  plan: ResharePlan,
  rng: Rng = cryptoRng,
): Vec[] {
  if (mask < 0n || mask >= F.p)
    throw new StorageError('STORE_BAD_INPUT', 'reshareDealMasked: mask must be a field element');
  const v = new BigUint64Array(myShares.length + 1);
  v.set(myShares);
  v[myShares.length] = mask;
  const out = shareDeg(F, v, plan.newSize, plan.newThreshold, rng);
  v.fill(0n);
  return out;
}

/** The data part of a masked sub-share vector (a view, no copy). */
export function withoutMask(sub: Vec): Vec {
  return sub.subarray(0, sub.length - 1);
}

/** New member: its published check value for one dealer's masked sub-share vector. */
export function reshareCheckValue(F: Field, sub: Vec, rho: bigint): bigint {
  if (sub.length < 2)
    throw new StorageError(
      'STORE_BAD_INPUT',
      'reshareCheckValue: expected data plus one mask element',
    );
  const y = F.horner(withoutMask(sub), rho) + sub[sub.length - 1]!;
  return y >= F.p ? y - F.p : y;
}

export interface ReshareVerdict {
  /** True when every dealer and every new member checked out. */
  ok: boolean;
  /** Member indices (old committee) of dealers caught dealing inconsistently or a wrong share. */
  badDealers: number[];
  /** New member indices caught publishing wrong check values. */
  badNewMembers: number[];
  /** Dealers to combine (plan.dealers minus badDealers); at least t+1 or the step must be redone. */
  goodDealers: number[];
  /** Constants inconsistent but too few dealers to say who lied (shared masks only). */
  unattributed: boolean;
}

/**
 * `checks[k][j]` is new member j's check value for dealer `plan.dealers[k]`. Set `sharedMasks` when
 * the masks were shares of one joint random value R (enables the constant check).
 */
export function reshareVerify(
  checks: readonly (readonly bigint[])[],
  plan: ResharePlan,
  oldThreshold: number,
  sharedMasks: boolean,
): ReshareVerdict {
  const { dealers, newSize, newThreshold } = plan;
  if (checks.length !== dealers.length || checks.some((row) => row.length !== newSize)) {
    throw new StorageError(
      'STORE_BAD_INPUT',
      `reshareVerify: expected ${dealers.length} x ${newSize} check values`,
    );
  }
  const xs = Array.from({ length: newSize }, (_, j) => BigInt(j + 1));
  const flagged = new Map<number, number>(); // new member -> number of dealers flagging it
  const perDealer = checks.map((row) => {
    const dec = berlekampWelch(
      row.map((y, j) => ({ x: xs[j]!, y })),
      newThreshold,
    );
    const errs = dec ? dec.errorXs.map((x) => Number(x) - 1) : null;
    for (const j of errs ?? []) flagged.set(j, (flagged.get(j) ?? 0) + 1);
    return { constant: dec?.coeffs[0], errs };
  });
  const badNew = [...flagged].filter(([, n]) => n > oldThreshold).map(([j]) => j);
  const bad = new Set<number>();
  perDealer.forEach((d, k) => {
    if (d.errs === null || d.errs.some((j) => !badNew.includes(j))) bad.add(dealers[k]!);
  });
  let unattributed = false;
  if (sharedMasks) {
    const pts = perDealer
      .map((d, k) => ({ k, d }))
      .filter(({ k }) => !bad.has(dealers[k]!))
      .map(({ k, d }) => ({ x: BigInt(dealers[k]! + 1), y: d.constant! }));
    if (pts.length >= oldThreshold + 2) {
      const dec = berlekampWelch(pts, oldThreshold);
      if (dec === null) unattributed = true;
      else for (const x of dec.errorXs) bad.add(Number(x) - 1);
    }
  }
  const badDealers = [...bad].sort((a, b) => a - b);
  return {
    ok: badDealers.length === 0 && badNew.length === 0 && !unattributed,
    badDealers,
    badNewMembers: badNew.sort((a, b) => a - b),
    goodDealers: dealers.filter((d) => !bad.has(d)),
    unattributed,
  };
}
