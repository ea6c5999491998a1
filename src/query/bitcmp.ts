/**
 * Comparisons of bit-decomposed columns with public constants (columns dealt with the engine's
 * `inputBits`, whose bits are checked at dealing): no random bits, no openings, and fewer products
 * than the polynomial atoms for most columns.
 *
 * With bits x_{k−1} … x_0 of x' (shifted value, LSB first) and a public c, let e_j = [x_j = c_j]
 * (x_j or 1 − x_j: linear) and the suffix products E_j = e_j·E_{j+1}, E_k = 1 (E_j says that x'
 * and c agree on bits j and above). Then
 *   [x' = c] = E_0,
 *   [x' < c] = Σ_{j : c_j = 1} (E_{j+1} − E_j)      (the first bit from the top where they differ
 *                                                     has c_j = 1 and x_j = 0),
 * so x' < c needs the products E_{k−2} … E_{j0} (j0 the lowest set bit of c): k − 1 − j0 products
 * per row, in k − 1 − j0 rounds (batched over all atoms, one `mulBare` per bit position). Summed
 * over rows (COUNT with a single comparison), the last product becomes a dot product.
 */
import { P, type Operand, type Session, type Shared } from '../mpc/index';

export interface BitJob {
  /**
   * Bits of x' (least significant first); k = bits.length. They need no MACs (stored bits are
   * adopted without): the chain runs on bare products, which need none on either operand.
   */
  bits: readonly Operand[];
  c: bigint;
  kind: 'lt' | 'eq';
}

/** Lowest suffix product a job needs: j0 for lt (lowest set bit of c), 0 for eq. */
function lowest(j: BitJob): number {
  if (j.kind === 'eq') return 0;
  let i = 0;
  while (((j.c >> BigInt(i)) & 1n) === 0n) i++;
  return i;
}

/** Products per row of one comparison. */
export function bitCost(k: number, c: bigint, kind: 'lt' | 'eq'): number {
  return Math.max(0, k - 1 - lowest({ bits: new Array<Shared>(k), c, kind }));
}

/** Products per row of the polynomial atoms on a column of D values (Paterson–Stockmeyer). */
export function polyCost(D: number, atoms: number): number {
  const k = Math.min(D, Math.max(1, Math.ceil(Math.sqrt(D * (atoms + 1)))));
  const m = Math.ceil(D / k);
  const powers = Math.max(0, (m > 1 ? k : k - 1) - 1);
  const giants = Math.max(0, m - 2);
  return powers + giants + atoms * (m - 1);
}

/** Products per row of the polynomial COUNT fast path (outer step as one dot product). */
export function polySumCost(D: number): number {
  const k = Math.max(1, Math.ceil(Math.sqrt(D)));
  const m = Math.ceil(D / k);
  return Math.max(0, (m > 1 ? k : k - 1) - 1) + Math.max(0, m - 2);
}

/** e_i = [x_i = c_i] of a job: bit i where c_i = 1, else 1 − bit i. */
function eBit(s: Session, j: BitJob, i: number): Operand {
  const b = j.bits[i]!;
  return ((j.c >> BigInt(i)) & 1n) === 1n ? b : s.affine(b, P - 1n, 1n);
}

/**
 * Suffix products E_j for j = k−1 … stop (stop ≥ lowest) of every job, batched by position:
 * E[job][j] (undefined above k − 1, meaning 1). Bare products (`Session.mulBare`): no MACs, one
 * Damgård–Nielsen element per product, checked by the engine's compressed product check at the
 * next `verify`. E_{k−1} = e_{k−1} is linear in a stored bit.
 */
async function suffixProducts(
  s: Session,
  jobs: readonly BitJob[],
  stops: readonly number[],
): Promise<Operand[][]> {
  const E: Operand[][] = jobs.map((j) => {
    const k = j.bits.length;
    const out = new Array<Operand>(k);
    out[k - 1] = eBit(s, j, k - 1);
    return out;
  });
  const cur = jobs.map((j) => j.bits.length - 1);
  for (;;) {
    const pairs: [Operand, Operand][] = [];
    const who: number[] = [];
    jobs.forEach((j, ji) => {
      const i = cur[ji]!;
      if (i - 1 >= stops[ji]!) {
        pairs.push([E[ji]![i]!, eBit(s, j, i - 1)]);
        who.push(ji);
      }
    });
    if (!pairs.length) return E;
    const prods = await s.mulBare(pairs);
    who.forEach((ji, q) => {
      cur[ji]!--;
      E[ji]![cur[ji]!] = prods[q]!;
    });
  }
}

/**
 * The 0/1 vectors [x' < c] / [x' = c] of every job, without MACs (`authenticate` them where one
 * must be a left operand of a MAC'd product).
 */
export async function compareBits(
  s: Session,
  n: number,
  jobs: readonly BitJob[],
): Promise<Operand[]> {
  const E = await suffixProducts(s, jobs, jobs.map(lowest));
  const ones = s.constant(new BigUint64Array(n).fill(1n));
  return jobs.map((j, ji) => {
    const k = j.bits.length;
    const at = (i: number): Operand => (i >= k ? ones : E[ji]![i]!);
    if (j.kind === 'eq') return at(0);
    let acc: Operand = s.constant(new BigUint64Array(n));
    for (let i = 0; i < k; i++)
      if ((j.c >> BigInt(i)) & 1n) acc = s.add(acc, s.sub(at(i + 1), at(i)));
    return acc;
  });
}

/**
 * Σ over rows of [x' < c] or [x' = c] (or of 1 − it when `negated`) for one job: as
 * `compareBits`, but the lowest suffix product is only summed, by a dot product, and only the
 * total is authenticated.
 */
export async function sumCompareBits(
  s: Session,
  n: number,
  job: BitJob,
  negated: boolean,
): Promise<Shared> {
  const k = job.bits.length;
  const low = lowest(job);
  const E = (await suffixProducts(s, [job], [Math.min(k - 1, low + 1)]))[0]!;
  // Σ E_i for every needed i; Σ E_low = dot(e_low, E_{low+1}) unless low = k − 1 (no product)
  const sum = (i: number): Operand => {
    if (i >= k) return s.constant(BigUint64Array.of(BigInt(n)));
    return s.sumAll(E[i]!);
  };
  const lowSum =
    low === k - 1 ? s.sumAll(E[low]!) : (await s.dotBare([[E[low + 1]!, eBit(s, job, low)]]))[0]!;
  const S = (i: number) => (i === low ? lowSum : sum(i));
  let total: Operand;
  if (job.kind === 'eq') total = S(0);
  else {
    total = s.constant(BigUint64Array.of(0n));
    for (let i = 0; i < k; i++)
      if ((job.c >> BigInt(i)) & 1n) total = s.add(total, s.sub(S(i + 1), S(i)));
  }
  const [authed] = await s.authenticate([negated ? s.affine(total, P - 1n, BigInt(n)) : total]);
  return authed!;
}
