/**
 * Differentially private noise generated jointly inside MPC: nobody — no party, no requester —
 * learns the noise, only the noisy released statistic.
 *
 * Discrete Laplace (two-sided geometric) noise with P(k) ∝ q^|k|, q = exp(−1/b), as the difference
 * of two independent geometric variables G1 − G2 (P(G = g) = (1 − q) q^g). A geometric variable's
 * binary digits are independent Bernoulli variables: digit j is 1 with probability
 * q^(2^j) / (1 + q^(2^j)). Each digit is drawn inside MPC as [u < T_j] for a fresh shared uniform
 * u in [0, 2^32) built from 32 shared random bits and the public threshold T_j = round(p_j·2^32).
 * Digits beyond J (chosen so that P(G ≥ 2^J) < 2^−40) are dropped.
 *
 * Deviation from the ideal distribution: at most 2^−40 (truncation) plus 2^−32 per digit (rounding
 * of the thresholds) in total variation. Cost per noisy value: 2J comparisons of 32-bit values
 * and 64J random bits, a constant number of rounds for any number of values.
 */
import type { Session, Shared } from '../mpc/index';
import { P } from '../mpc/index';

/** Bits of the uniform used for each Bernoulli digit (the engine compares values < 2^32). */
const U_BITS = 32;
/** Truncation: P(G ≥ 2^J) < 2^−TAIL_BITS. */
const TAIL_BITS = 40;

/** Number of binary digits drawn for scale b. */
export function geometricDigits(b: number): number {
  // q^(2^J) < 2^−40  ⟺  2^J > 40·ln2·b
  return Math.max(1, Math.ceil(Math.log2(TAIL_BITS * Math.LN2 * b + 1)));
}

/** Public thresholds T_j (Bernoulli digit j is [u < T_j]) for scale b. */
export function digitThresholds(b: number): bigint[] {
  const J = geometricDigits(b);
  const out: bigint[] = [];
  for (let j = 0; j < J; j++) {
    // p_j = q^(2^j) / (1 + q^(2^j)) = 1 / (1 + exp(2^j / b))
    const pj = 1 / (1 + Math.exp(2 ** j / b));
    out.push(BigInt(Math.round(pj * 2 ** U_BITS)));
  }
  return out;
}

/** Exact probability of noise value k under ideal discrete Laplace with scale b. */
export function discreteLaplacePmf(b: number, k: number): number {
  const q = Math.exp(-1 / b);
  return ((1 - q) / (1 + q)) * q ** Math.abs(k);
}

/** The same sampler in the clear (tests and the plaintext reference only). */
export function sampleDiscreteLaplacePlain(b: number, rand: () => number): bigint {
  const T = digitThresholds(b);
  const geo = () =>
    T.reduce((g, t, j) => g + (rand() * 2 ** U_BITS < Number(t) ? 1n << BigInt(j) : 0n), 0n);
  return geo() - geo();
}

/**
 * Jointly generated discrete Laplace noise, one value per entry of `scales` (0 → no noise). All
 * parties call it together with the same scales (they are public: they follow from the policy).
 */
export async function jointDiscreteLaplace(s: Session, scales: readonly number[]): Promise<Shared> {
  const len = scales.length;
  // Digit plan: for every value and each of its two geometrics, J thresholds.
  const thresholds: bigint[] = [];
  const owner: { value: number; sign: 1 | -1; weight: bigint }[] = [];
  scales.forEach((b, i) => {
    if (!(b > 0)) return;
    const T = digitThresholds(b);
    for (const sign of [1, -1] as const) {
      T.forEach((t, j) => {
        thresholds.push(t);
        owner.push({ value: i, sign, weight: 1n << BigInt(j) });
      });
    }
  });
  const zero = s.constant(new BigUint64Array(len));
  if (thresholds.length === 0) return zero;
  const D = thresholds.length;
  const bits = await s.randomBits(U_BITS * D);
  const u = s.linComb(
    Array.from({ length: U_BITS }, (_, k) => s.slice(bits, k * D, (k + 1) * D)),
    Array.from({ length: U_BITS }, (_, k) => 1n << BigInt(k)),
  );
  const digits = await s.lt(u, s.constant(BigUint64Array.from(thresholds)));
  // noise_i = Σ_j 2^j (d1_j − d2_j): a public sparse linear map from digits to values.
  const weights = new BigUint64Array(D);
  owner.forEach((o, d) => (weights[d] = o.sign === 1 ? o.weight : P - o.weight));
  const weighted = s.mulPublic(digits, weights);
  // Sum the digits of each value (contiguous ranges).
  const parts: Shared[] = [];
  let d = 0;
  for (let i = 0; i < len; i++) {
    const start = d;
    while (d < D && owner[d]!.value === i) d++;
    parts.push(
      d > start ? s.sumAll(s.slice(weighted, start, d)) : s.constant(BigUint64Array.of(0n)),
    );
  }
  return s.concat(parts);
}
