/**
 * The protocol suite, malicious-secure with abort for t < n/2 (honest majority).
 *
 * Every shared value is a `Shared` pair: this party's share of x and of r·x, where r is a secret
 * random MAC key generated at session start (Chida, Genkin, Hamada, Ikarashi, Kikuchi, Lindell, Nof,
 * "Fast large-scale honest-majority MPC for malicious adversaries", CRYPTO 2018). Linear operations
 * act on both halves; every multiplication runs Damgård–Nielsen twice (x·y and (r·x)·y) in one batch
 * and records the pair (z, r·z). Before any output is revealed, `verify()` checks all recorded pairs
 * at once with random public coefficients: any additive error a cheating party injected into a
 * multiplication (wrong share to the king, wrong king broadcast, inconsistent double sharing)
 * survives the check with probability about 2·L/p per repetition (L = values checked); two
 * independent repetitions are run.
 *
 * Products whose results need no MAC (right operands, further products, sums) can be bare
 * (`mulBare`, `dotBare`): one Damgård–Nielsen run instead of two, logged and checked all at once
 * by `verify()` with the compressed inner-product check of Boneh et al. (CRYPTO 2019) and
 * Goyal–Song–Zhu (CRYPTO 2020) — see `checkProducts` and `src/mpc/prodcheck.ts`.
 *
 * Dealt sharings (inputs and every party's random contributions) are checked to lie on degree-t
 * polynomials with a masked random linear combination opened to all (Schwartz–Zippel: error <= L/p).
 * Openings are robust: with more than t+1 shares present, shares that do not lie on one degree-t
 * polynomial abort the computation, and Berlekamp–Welch names the deviating parties when it can.
 *
 * See docs/engine.md for each protocol's cost and security.
 */
import { MpcError } from './errors';
import { P, type Vec } from './field';
import { invRef, mulRef, powRef } from './field-ref';
import { concat, type Party } from './runtime';
import { prgExpand, prgKey, PRG_KEY_ELEMENTS, type PrgKey } from './prg';
import { foldAt, foldProducts, foldSchedule } from './prodcheck';
import {
  findInconsistent,
  lagrangeAt,
  lagrangeCoefficients,
  lagrangeWeights,
  robustReconstruct,
  shareDeg,
  xOf,
} from './shamir';

/** This party's shares of a secret vector x and of r·x (r: the session's MAC key). */
export interface Shared {
  readonly v: Vec;
  readonly m: Vec;
}

/**
 * A sharing whose MAC half may be missing: the right operand of a product (`mul`, `dot`, …) needs
 * none, since the product's MAC is (r·a)·b from the left operand's MAC. Only consistent degree-t
 * sharings of well-defined values are ever unauthenticated — adopted stored shares (`adoptRaw`,
 * degree-checked) and linear functions of them — so an error injected into a product with such an
 * operand is still caught by the MAC check (see `mul`). `authenticate` adds the MAC where a value
 * must be a left operand or be opened.
 */
export interface Operand {
  readonly v: Vec;
  readonly m?: Vec | undefined;
}

/** Default bit length of comparisons (values in [0, 2^32)). */
export const CMP_BITS = 32;
/** Largest bit length a comparison accepts: a − b + 2^bits must stay below p < 2^61. */
export const MAX_CMP_BITS = 59;
/** Bits of the masks used by bit decomposition: p < 2^61. */
const FIELD_BITS = 61;
const INV2 = invRef(2n);
/**
 * Largest input bound (bits) for which comparisons and truncation use the no-wrap path of
 * `modPow2`: an element is redone with probability 2^(bound − 61), at most 2^−13 here, so a redo
 * round is rare and the number of rounds stays independent of the number of elements in practice.
 */
const NO_WRAP_MAX_BOUND = 48;
/** Combines of Sklansky's prefix network over FIELD_BITS leaves. */
const SKLANSKY_COMBINES = sklanskyCombines(FIELD_BITS);
/**
 * Batches of at least this many elements get their degree reduction's return from the king as a
 * sharing with t pseudo-random shares (fewer bytes; see `reduceDegree`).
 */
const SEEDED_RETURN_MIN = 16384;
/** Most double sharings preprocessed ahead in one batch (bounds memory: 16 B per element). */
const POOL_MAX = 1 << 22;
/**
 * Double sharings dealt on top of the per-element estimate at the start of each comparison or
 * power chain, for the steps whose size does not grow with N (the bit test, MAC products, carry
 * roots). Those protocols always deal once on entry (see `refillFor`), even when the pool would
 * have sufficed, so that the number of steps depends on the program and not on N.
 */
const POOL_FIXED = 1024;

export interface VerifyOptions {
  /**
   * Final verification opens the MAC key instead of multiplying by it, so it needs only t+1 live
   * parties; afterwards the session can open values but not multiply any more.
   */
  final?: boolean;
  /**
   * Leave the bare products (`mulBare`, …) for a later full verify: for checks that must come
   * before opening a masked value (`randomBits`), where an additive error in an unchecked product
   * is hidden by the mask and is still caught before any output. Not with `final`.
   */
  deferProducts?: boolean;
}

export interface OpenResult {
  values: Vec;
  /** Element indices whose shares were inconsistent. */
  bad: number[];
  /** Parties Berlekamp–Welch found to have sent wrong shares (when decodable). */
  faulty: number[];
}

export class Session {
  readonly party: Party;
  /** This party's share of the MAC key r. */
  private rShare = 0n;
  private finalized = false;
  /** (z, r·z) pairs awaiting the multiplication check. */
  private macPending: [Vec, Vec][] = [];
  private macPendingCount = 0;
  /**
   * Products made without MACs (`mulBare`, `dotBare`), awaiting the compressed
   * product check. An entry claims z_i = Σ_g x_(g·L+i)·y_(g·L+i) for i < L = z.length, with
   * x.length = y.length = G·L: element-wise products (G = 1), sums of products (G pairs) and dot
   * products (L = 1) alike.
   */
  private productLog: { x: Vec; y: Vec; z: Vec }[] = [];
  private productLogCount = 0;
  /**
   * Shares (degree t) of values that must be 0, opened by the next `verify()` together with the MAC
   * check values — after the check has made sure that the products they come from are correct.
   */
  private zeroPending: { share: bigint; where: string }[] = [];
  /** Degree-t share vectors received from each dealer, awaiting the degree check (masks included). */
  private dealtPending = new Map<number, Vec[]>();
  /** AES keys for the shares this party deals to each peer, and for those each peer deals to it. */
  private readonly dealKeys: PrgKey[] = [];
  private readonly recvKeys: PrgKey[] = [];
  /** Preprocessed double sharings. */
  private pool: { rt: Vec; r2t: Vec; off: number } | undefined;
  readonly counters = { mulElements: 0, verifies: 0, openedElements: 0 };

  private constructor(party: Party) {
    this.party = party;
  }

  /** Starts a session: all parties generate the shared MAC key. */
  static async create(party: Party): Promise<Session> {
    const s = new Session(party);
    await s.setupKeys();
    const r = await s.randomRaw(1);
    s.rShare = r[0]!;
    return s;
  }

  get n(): number {
    return this.party.n;
  }
  get t(): number {
    return this.party.t;
  }
  private get F() {
    return this.party.F;
  }

  // ---------------------------------------------------------------- local (linear) operations

  // Each linear operation also accepts an `Operand` (a sharing that may lack its MAC) and then
  // returns one: the MAC half is carried only when every input has it.
  add(a: Shared, b: Shared): Shared;
  add(a: Operand, b: Operand): Operand;
  add(a: Operand, b: Operand): Operand {
    return withMac(this.F.add(a.v, b.v), a.m && b.m && this.F.add(a.m, b.m));
  }
  sub(a: Shared, b: Shared): Shared;
  sub(a: Operand, b: Operand): Operand;
  sub(a: Operand, b: Operand): Operand {
    return withMac(this.F.sub(a.v, b.v), a.m && b.m && this.F.sub(a.m, b.m));
  }
  neg(a: Shared): Shared;
  neg(a: Operand): Operand;
  neg(a: Operand): Operand {
    return withMac(this.F.neg(a.v), a.m && this.F.neg(a.m));
  }
  /** k·a for a public scalar k. */
  mulConst(a: Shared, k: bigint): Shared;
  mulConst(a: Operand, k: bigint): Operand;
  mulConst(a: Operand, k: bigint): Operand {
    const kk = mod(k);
    return withMac(this.F.scale(a.v, kk), a.m && this.F.scale(a.m, kk));
  }
  /** a + c for a public scalar c (the MAC of c is c·r). */
  addConst(a: Shared, c: bigint): Shared;
  addConst(a: Operand, c: bigint): Operand;
  addConst(a: Operand, c: bigint): Operand {
    const cc = mod(c);
    return withMac(this.F.addConst(a.v, cc), a.m && this.F.addConst(a.m, mulRef(cc, this.rShare)));
  }
  /** k·a + c for public scalars. */
  affine(a: Shared, k: bigint, c: bigint): Shared;
  affine(a: Operand, k: bigint, c: bigint): Operand;
  affine(a: Operand, k: bigint, c: bigint): Operand {
    const kk = mod(k);
    const cc = mod(c);
    return withMac(
      this.F.affine(a.v, kk, cc),
      a.m && this.F.affine(a.m, kk, mulRef(cc, this.rShare)),
    );
  }
  /** a + c element-wise for a public vector c. */
  addPublic(a: Shared, c: Vec): Shared;
  addPublic(a: Operand, c: Vec): Operand;
  addPublic(a: Operand, c: Vec): Operand {
    return withMac(this.F.add(a.v, c), a.m && this.F.axpy(c, this.rShare, a.m));
  }
  /** a ⊙ c element-wise for a public vector c. */
  mulPublic(a: Shared, c: Vec): Shared;
  mulPublic(a: Operand, c: Vec): Operand;
  mulPublic(a: Operand, c: Vec): Operand {
    return withMac(this.F.mul(a.v, c), a.m && this.F.mul(a.m, c));
  }
  /** A public vector as a (trivial) sharing: every share equals the value. */
  constant(c: Vec): Shared {
    return { v: c.slice(), m: this.F.scale(c, this.rShare) };
  }
  /** Sum of all elements as a length-1 sharing. */
  sumAll(a: Shared): Shared;
  sumAll(a: Operand): Operand;
  sumAll(a: Operand): Operand {
    return withMac(BigUint64Array.of(this.F.sum(a.v)), a.m && BigUint64Array.of(this.F.sum(a.m)));
  }
  /** Elements [start, end) (a view, no copy). */
  slice(a: Shared, start: number, end: number): Shared;
  slice(a: Operand, start: number, end: number): Operand;
  slice(a: Operand, start: number, end: number): Operand {
    return withMac(a.v.subarray(start, end), a.m?.subarray(start, end));
  }
  concat(parts: readonly Shared[]): Shared;
  concat(parts: readonly Operand[]): Operand;
  concat(parts: readonly Operand[]): Operand {
    const ms = parts.map((p) => p.m);
    return withMac(
      concat(parts.map((p) => p.v)),
      ms.every((m): m is Vec => m !== undefined) ? concat(ms) : undefined,
    );
  }
  /** Linear combination sum_j k_j · a_j of equal-length sharings (with a MAC if every part has one). */
  linComb(parts: readonly Shared[], ks: readonly bigint[]): Shared;
  linComb(parts: readonly Operand[], ks: readonly bigint[]): Operand;
  linComb(parts: readonly Operand[], ks: readonly bigint[]): Operand {
    const kk = ks.map(mod);
    const ms = parts.map((p) => p.m);
    return withMac(
      this.F.linComb(
        parts.map((p) => p.v),
        kk,
      ),
      ms.every((m): m is Vec => m !== undefined) ? this.F.linComb(ms, kk) : undefined,
    );
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Party `dealer` secret-shares `values` (length `len`; only the dealer passes values). Before the
   * shares are used, all parties check that they lie on degree-t polynomials: the dealer also shares
   * a random mask, everyone opens mask + sum_k rho^k x_k for a fresh public coin rho, and any
   * inconsistency aborts naming the dealer (error probability <= (len+1)/p).
   */
  async input(dealer: number, values: Vec | undefined, len: number): Promise<Shared> {
    const pa = this.party;
    if (dealer < 0 || dealer >= this.n)
      throw new MpcError('ERR_PARAM', `input: dealer ${dealer} outside 0..${this.n - 1}`);
    if (pa.self === dealer) {
      if (!values || values.length !== len)
        throw new MpcError(
          'ERR_PARAM',
          `input: dealer must pass ${len} values, got ${values?.length ?? 'none'}`,
        );
      const bad = this.F.firstInvalid(values);
      if (bad >= 0)
        throw new MpcError('ERR_FIELD_RANGE', `input: value ${bad} is not a field element`);
    }
    const op = pa.nextOp();
    if (pa.self === dealer) {
      const withMask = concat([values!, this.F.random(1, pa.rng)]);
      const shares = shareDeg(this.F, withMask, this.n, this.t, pa.rng);
      withMask.fill(0n);
      for (const j of pa.parties) pa.send(j, op, [shares[j]!]);
    }
    const got = (await pa.recv(op, [dealer], len + 1)).get(dealer)!;
    await this.checkDealt(new Map([[dealer, [got]]]));
    const v = got.subarray(0, len);
    return { v, m: await this.macOf(v) };
  }

  /**
   * Adopts shares this party already holds (e.g. loaded from storage), dealt by an external dealer:
   * `withMask` carries the column followed by one mask element the dealer shared with it. All
   * parties must call this together; the degree check runs at once, as for `input`.
   */
  async adopt(withMask: Vec, dealerLabel = -1): Promise<Shared> {
    const [x] = await this.authenticate([await this.adoptRaw(withMask, dealerLabel)]);
    return x!;
  }

  /**
   * As `adopt`, without the MAC (which costs one product per element): for stored columns that a
   * program uses only as right operands of products, or authenticates later where it needs to.
   */
  async adoptRaw(withMask: Vec, dealerLabel = -1): Promise<Operand> {
    await this.checkDealt(new Map([[dealerLabel, [withMask]]]));
    return { v: withMask.subarray(0, withMask.length - 1) };
  }

  /**
   * The MACs of values that lack them (one degree reduction for all, r·x per element); values
   * that have one are returned as they are.
   */
  async authenticate(xs: readonly Operand[]): Promise<Shared[]> {
    const missing = xs.filter((x) => !x.m);
    const macs = missing.length
      ? await this.macOf(missing.length === 1 ? missing[0]!.v : concat(missing.map((x) => x.v)))
      : new BigUint64Array(0);
    let off = 0;
    return xs.map((x) => {
      if (x.m) return { v: x.v, m: x.m };
      const m = macs.subarray(off, off + x.v.length);
      off += x.v.length;
      return { v: x.v, m };
    });
  }

  /**
   * Re-sharing without reconstruction (Herzberg et al. / Desmedt–Jajodia), checked: `dealers` are
   * parties that hold shares `values` (length `len`) of one degree-t sharing at their own x
   * (x = index + 1), e.g. a stored partition whose other holders left. Returns this party's share
   * of a fresh degree-t sharing of the same secrets; the other parties (new members) get theirs.
   *
   * 1. A joint random sharing R, unknown to all, masks the check: dealer d deals its shares
   *    followed by its share R_d, with a fresh random polynomial of degree t.
   * 2. For a public coin rho drawn after the dealing, every party opens, per dealer,
   *    c_d = horner(dealt_d, rho) + R_d. A dealer whose sharing is not of degree t is caught
   *    (as in `input`). With at least t+2 dealers the c_d must lie on one degree-t polynomial in
   *    the dealers' x: a dealer that dealt anything but its true share is caught with probability
   *    ≥ 1 − len/p (and named when there are enough dealers to correct it). The c_d reveal nothing:
   *    the sum of the data's and R's polynomials, whose constant R(0) is uniform.
   * 3. New share = sum_d lambda_d · dealt_d, lambda the Lagrange coefficients at 0 of the dealers.
   * Staying dealers' old shares are useless with the new ones (proactive refresh). The mask comes
   * from preprocessing whose degree check is deferred: call `verify()` before keeping the result.
   */
  async reshare(
    dealers: readonly number[],
    values: Vec | undefined,
    len: number,
    /** Degree of the old sharing when it differs from this session's t (changing the threshold). */
    oldT: number = this.t,
  ): Promise<Vec> {
    const pa = this.party;
    const ds = [...dealers];
    if (!Number.isInteger(oldT) || oldT < 1 || oldT >= this.n)
      throw new MpcError(
        'ERR_PARAM',
        `reshare: old threshold must be 1..${this.n - 1}, got ${oldT}`,
      );
    if (
      new Set(ds).size !== ds.length ||
      ds.some((d) => !Number.isInteger(d) || d < 0 || d >= this.n) ||
      ds.some((d, i) => i > 0 && d <= ds[i - 1]!)
    )
      throw new MpcError(
        'ERR_PARAM',
        `reshare: dealers must be increasing party indices in 0..${this.n - 1}, got ${ds.join(',')}`,
      );
    if (ds.length < oldT + 1)
      throw new MpcError(
        'ERR_PARAM',
        `reshare: ${ds.length} dealers, need t+1 = ${oldT + 1} holders of the old sharing`,
      );
    const dealing = ds.includes(pa.self);
    if (dealing) {
      if (!values || values.length !== len)
        throw new MpcError(
          'ERR_PARAM',
          `reshare: dealer must pass ${len} shares, got ${values?.length ?? 'none'}`,
        );
      const bad = this.F.firstInvalid(values);
      if (bad >= 0)
        throw new MpcError('ERR_FIELD_RANGE', `reshare: share ${bad} is not a field element`);
    }
    // The mask R must be a random sharing of the *old* degree at the dealers' x, so that it hides
    // every coefficient of the combined old polynomial in the consistency check below. With the
    // same threshold it comes from preprocessing; with a new one the dealers make it among
    // themselves (each deals a random degree-oldT polynomial to the others; R is their sum, uniform
    // if one dealer is honest; an inconsistent contribution only makes the check abort).
    let mask: Vec;
    if (oldT === this.t) mask = await this.randomRaw(1);
    else {
      const opR = pa.nextOp();
      if (dealing) {
        const g = shareDeg(this.F, this.F.random(1, pa.rng), this.n, oldT, pa.rng);
        for (const d of ds) pa.send(d, opR, [g[d]!]);
      }
      mask = new BigUint64Array(1);
      if (dealing) {
        const parts = await pa.recv(opR, ds, 1);
        mask = this.F.linComb(
          ds.map((d) => parts.get(d)!),
          ds.map(() => 1n),
        );
      }
    }
    const op = pa.nextOp();
    if (dealing) {
      const withMask = concat([values!, mask]);
      const shares = shareDeg(this.F, withMask, this.n, this.t, pa.rng);
      withMask.fill(0n);
      for (const j of pa.parties) pa.send(j, op, [shares[j]!]);
    }
    const got = await pa.recv(op, ds, len + 1);
    const [rho] = await this.coin(1);
    const ys = ds.map((d) => this.F.horner(got.get(d)!, rho!, 0n));
    const opened = await this.openRaw(BigUint64Array.from(ys));
    if (opened.bad.length) {
      const bad = opened.bad.map((i) => ds[i]!);
      throw pa.abort(
        new MpcError(
          'ERR_CHEATING',
          `reshare: shares dealt by party ${bad.join(', ')} do not lie on a degree-${this.t} polynomial`,
          { suspects: bad, details: { faultyShares: opened.faulty.join(',') } },
        ),
      );
    }
    if (ds.length >= oldT + 2) {
      const cols = ds.map((_, i) => opened.values.subarray(i, i + 1));
      if (findInconsistent(this.F, cols, ds, oldT).length) {
        let suspects: number[] = [];
        try {
          suspects = robustReconstruct(this.F, cols, ds, oldT).faulty;
        } catch {
          suspects = [];
        }
        throw pa.abort(
          new MpcError(
            'ERR_CHEATING',
            `reshare: the dealers' shares are not of one degree-${oldT} sharing (a dealer re-shared something other than its stored share${suspects.length ? `: party ${suspects.join(', ')}` : ''})`,
            { suspects },
          ),
        );
      }
    }
    const lambda = lagrangeCoefficients(ds);
    return this.F.linComb(
      ds.map((d) => got.get(d)!.subarray(0, len)),
      lambda,
    );
  }

  // ---------------------------------------------------------------- multiplication

  /**
   * Element-wise product; one Damgård–Nielsen batch for x·y and (r·x)·y together. Only `a` needs
   * its MAC: an error δ a cheater adds to x·y and δ' to (r·x)·y pass the MAC check only if
   * δ' = r·δ, which without r means δ = δ' = 0 (up to 1/p), whether or not b carries a MAC — b
   * just has to be a consistent sharing of a fixed value (see `Operand`).
   */
  async mul(a: Shared, b: Operand): Promise<Shared> {
    if (a.v.length !== b.v.length)
      throw new MpcError('ERR_PARAM', `mul: length mismatch ${a.v.length} vs ${b.v.length}`);
    const n = a.v.length;
    // local degree-2t products of x·y and (r·x)·y written side by side, then one reduction
    const d = new BigUint64Array(2 * n);
    this.F.mul(a.v, b.v, d.subarray(0, n));
    this.F.mul(a.m, b.v, d.subarray(n));
    if (this.finalized)
      throw new MpcError('ERR_PARAM', 'mul: the session is finalized (its MAC key was opened)');
    const z = await this.reduceDegree(d);
    const res = { v: z.subarray(0, n), m: z.subarray(n) };
    this.record(res);
    return res;
  }

  /** Several independent products in one batch (one set of rounds). */
  async mulMany(pairs: readonly (readonly [Shared, Operand])[]): Promise<Shared[]> {
    if (pairs.length === 0) return [];
    const lens = pairs.map(([a, b]) => {
      if (a.v.length !== b.v.length)
        throw new MpcError('ERR_PARAM', `mulMany: length mismatch ${a.v.length} vs ${b.v.length}`);
      return a.v.length;
    });
    const res = await this.mul(
      this.concat(pairs.map((p) => p[0])),
      this.concat(pairs.map((p) => p[1])),
    );
    const out: Shared[] = [];
    let off = 0;
    for (const l of lens) {
      out.push(this.slice(res, off, off + l));
      off += l;
    }
    return out;
  }

  /**
   * Element-wise products without MACs: one Damgård–Nielsen element per product instead of two.
   * The results carry no MAC (use them as right operands, in further bare products, or
   * `authenticate` them); instead every bare product is logged, and the next `verify()` checks
   * them all at once with the compressed product check (`src/mpc/prodcheck.ts`): an additive error
   * a cheater injects into any of them passes with probability below 2^−50 (see `checkProducts`). Neither
   * operand needs a MAC, but each must be a consistent sharing of a fixed value (see `Operand`).
   */
  async mulBare(pairs: readonly (readonly [Operand, Operand])[]): Promise<Operand[]> {
    if (pairs.length === 0) return [];
    const lens = pairs.map(([a, b]) => {
      if (a.v.length !== b.v.length)
        throw new MpcError('ERR_PARAM', `mulBare: length mismatch ${a.v.length} vs ${b.v.length}`);
      return a.v.length;
    });
    if (this.finalized)
      throw new MpcError('ERR_PARAM', 'mulBare: the session is finalized (its MAC key was opened)');
    // (concat copies: the log must not see later changes to the operands)
    const x = concat(pairs.map((p) => p[0].v));
    const y = concat(pairs.map((p) => p[1].v));
    const z = await this.reduceDegree(this.F.mul(x, y));
    this.logProducts({ x, y, z: z.slice() });
    const out: Operand[] = [];
    let off = 0;
    for (const l of lens) {
      out.push({ v: z.subarray(off, off + l) });
      off += l;
    }
    return out;
  }

  /** Several dot products without MACs in one reduction (one element each), logged as `mulBare`. */
  async dotBare(pairs: readonly (readonly [Operand, Operand])[]): Promise<Operand[]> {
    if (pairs.length === 0) return [];
    if (this.finalized)
      throw new MpcError('ERR_PARAM', 'dotBare: the session is finalized (its MAC key was opened)');
    const local = new BigUint64Array(pairs.length);
    pairs.forEach(([a, b], i) => {
      if (a.v.length !== b.v.length)
        throw new MpcError(
          'ERR_PARAM',
          `dotBare: pair ${i} length mismatch ${a.v.length} vs ${b.v.length}`,
        );
      local[i] = this.F.dot(a.v, b.v);
    });
    const z = await this.reduceDegree(local);
    return pairs.map(([a, b], i) => {
      const zi = z.subarray(i, i + 1);
      this.logProducts({ x: a.v.slice(), y: b.v.slice(), z: zi.slice() });
      return { v: zi };
    });
  }

  private logProducts(e: { x: Vec; y: Vec; z: Vec }): void {
    this.productLog.push(e);
    this.productLogCount += e.x.length;
  }

  /** sum_k a[k]·b[k] with a single degree reduction (2 elements cross the network, not 2·len). */
  async dot(a: Shared, b: Operand): Promise<Shared> {
    if (a.v.length !== b.v.length)
      throw new MpcError('ERR_PARAM', `dot: length mismatch ${a.v.length} vs ${b.v.length}`);
    const local = BigUint64Array.of(this.F.dot(a.v, b.v), this.F.dot(a.m, b.v));
    const z = await this.reduceDegree(local);
    const res = { v: z.subarray(0, 1), m: z.subarray(1, 2) };
    this.record(res);
    return res;
  }

  /** Several dot products against the same right-hand side, in one reduction. */
  async dotMany(as: readonly Shared[], b: Operand): Promise<Shared> {
    const k = as.length;
    const local = new BigUint64Array(2 * k);
    as.forEach((a, i) => {
      if (a.v.length !== b.v.length)
        throw new MpcError('ERR_PARAM', `dotMany: row ${i} length ${a.v.length} vs ${b.v.length}`);
      local[i] = this.F.dot(a.v, b.v);
      local[k + i] = this.F.dot(a.m, b.v);
    });
    const z = await this.reduceDegree(local);
    const res = { v: z.subarray(0, k), m: z.subarray(k) };
    this.record(res);
    return res;
  }

  // ---------------------------------------------------------------- randomness

  /** Uniformly random shared values nobody knows. */
  async random(len: number): Promise<Shared> {
    const v = await this.randomRaw(len);
    return { v, m: await this.macOf(v) };
  }

  /**
   * Uniformly random shared bits: a random a (no MAC yet), A = a² opened (a is uniform, so A reveals
   * nothing about the bit), b = (a / sqrt(A) + 1) / 2 in {0, 1} with sqrt(A) = A^((p+1)/4) =
   * A^(2^59); then b gets its MAC (one checked product). The unchecked a² is covered by a batched
   * bit test instead: a wrong A makes b leave {0, 1}, so for a public coin rho the value
   * tau = sum_k rho^k (b_k² − b_k) must be 0. The products b_k² are computed as one checked inner
   * product (MAC'd, one degree reduction), and tau is opened by the `verify()` this method ends
   * with, after the MAC check: an additive error that a corrupted king adds to A is then caught with
   * probability ≥ 1 − len/p. (Were the test's own reduction unchecked, an adversary whose wrong A
   * happens to be a square — probability 1/2 — could cancel tau, since b² − b = −δ/(4A) is then a
   * value it knows.) Cost: 2 multiplications per bit, plus one verification per call.
   */
  async randomBits(len: number): Promise<Shared> {
    if (len === 0) return { v: new BigUint64Array(0), m: new BigUint64Array(0) };
    const F = this.F;
    const a = await this.randomRaw(len);
    const A = await this.openRawChecked(await this.reduceDegree(F.mul(a, a)), 'randomBits');
    if (A.indexOf(0n) >= 0) {
      // probability len/p: redraw everything rather than leak which position was zero
      return this.randomBits(len);
    }
    const inv = F.batchInv(F.pow2k(A, 59));
    const v = F.affine(F.mul(a, inv), INV2, INV2);
    a.fill(0n);
    const bits = { v, m: await this.macOf(v) };
    // batched bit test: tau = sum rho^k (b_k^2 - b_k) = 0, the squares as one checked inner product
    const [rho] = await this.coin(1);
    const sq = F.mul(v, v); // degree-2t shares of b_k^2
    const sqm = F.mul(bits.m, v); // and of r·b_k^2
    const local = BigUint64Array.of(F.horner(sq, rho!), F.horner(sqm, rho!));
    sq.fill(0n);
    sqm.fill(0n);
    const z = await this.reduceDegree(local);
    this.record({ v: z.subarray(0, 1), m: z.subarray(1, 2) });
    this.zeroPending.push({
      share: mod(z[0]! - F.horner(v, rho!)),
      where: 'randomBits: the bit test failed — some party deviated while squaring or opening',
    });
    // the bits must be right before a value masked with them is opened; bare products made so far
    // need not be (an error in them stays under the mask) and wait for the next full check
    await this.verify({ deferProducts: true });
    return bits;
  }

  /** Robust opening of raw shares that aborts on inconsistency. */
  private async openRawChecked(shares: Vec, where: string): Promise<Vec> {
    const r = await this.openRaw(shares);
    this.throwIfBad(r, where);
    return r.values;
  }

  // ---------------------------------------------------------------- comparison and fixed point

  /**
   * [x mod 2^k] for each element's representative in [0, p), 1 <= k <= 60. Masks x with a random r
   * of known bits (r uniform in [0, 2^61): statistically 2^-61 from uniform mod p), opens c = x + r,
   * and computes x = c - r with a carry network over the 61 bits: e = [c >= r], C_k = carry into
   * bit k; then x mod 2^k = (c mod 2^k) + (~r mod 2^k) + e - 2^k·C_k.
   * Cost: 61 random bits and about 2·61 multiplications per element, ~10 rounds of multiplication.
   */
  async modPow2(x: Shared, k: number, bound?: number): Promise<Shared> {
    if (!Number.isInteger(k) || k < 1 || k > 60)
      throw new MpcError('ERR_PARAM', `modPow2: k must be in 1..60, got ${k}`);
    if (bound !== undefined) {
      if (!Number.isInteger(bound) || bound < k || bound > 60)
        throw new MpcError('ERR_PARAM', `modPow2: bound must be in ${k}..60, got ${bound}`);
      return this.modPow2Bounded(x, k, bound);
    }
    const N = x.v.length;
    // DN elements ahead: random bits (2 per bit), two carry trees (4 per combine, ~1 combine per
    // bit), the final products, with slack for the fixed-size steps (bit test, refills), so that the
    // number of preprocessing steps does not depend on N
    await this.refillFor(Math.min(POOL_MAX, N * (3 * FIELD_BITS + 4 * FIELD_BITS) + POOL_FIXED));
    const { bits, bit, cu32 } = await this.maskAndOpen(x);
    // per-bit public c_i and shared s_i = 1 - r_i (bits of ~r): g_i = c_i·s_i, p_i = c_i xor s_i
    const leaves = this.subtractionLeaves(bits, N, cu32);
    const [lo, hi] = await this.carryTrees([leaves.slice(0, k), leaves.slice(k)]);
    // e = carry out with carry-in 1 = G_hi + P_hi·(G_lo + P_lo);  C_k = G_lo + P_lo·e
    const [phT] = await this.mulMany([[hi!.p, this.add(lo!.g, lo!.p)]]);
    const e = this.add(hi!.g, phT!);
    const [plE] = await this.mulMany([[lo!.p, e]]);
    const Ck = this.add(lo!.g, plE!);
    // x mod 2^k = c_low + s_low + e - 2^k C_k
    const cLow = lowBits(cu32, N, k);
    // sum_{i<k} 2^i (1 - r_i) = (2^k - 1) - sum_{i<k} 2^i r_i
    const sLow = this.affine(
      this.binaryCompose(Array.from({ length: k }, (_, i) => bit(i))),
      P - 1n,
      (1n << BigInt(k)) - 1n,
    );
    const res = this.addPublic(this.add(sLow, e), cLow);
    return this.sub(res, this.mulConst(Ck, 1n << BigInt(k)));
  }

  /**
   * [x mod 2^k] for every k in `ks` (each in 1..60), for each element's representative in [0, p):
   * the splits of one value at several bit positions (e.g. into digits or chunks) in the rounds of
   * a single `modPow2`. One mask r of known bits and one opening c = x + r serve every k; the carry
   * network of c − r then gives every prefix [0, k) at once
   * (Sklansky's parallel prefix, log2(61) levels), and C_k = G_[0,k) + P_[0,k)·e gives the carry
   * into bit k for each k in one more product round. Cost per element: 61 random bits, 183 carry
   * combines and |ks| products; rounds do not depend on |ks| or on the number of elements.
   */
  async modPow2Multi(x: Shared, ks: readonly number[]): Promise<Shared[]> {
    for (const k of ks)
      if (!Number.isInteger(k) || k < 1 || k > 60)
        throw new MpcError('ERR_PARAM', `modPow2Multi: every k must be in 1..60, got ${k}`);
    const N = x.v.length;
    if (ks.length === 0) return [];
    if (N === 0) return ks.map(() => ({ v: new BigUint64Array(0), m: new BigUint64Array(0) }));
    await this.refillFor(
      Math.min(POOL_MAX, N * (2 * FIELD_BITS + 4 * SKLANSKY_COMBINES + 2 * ks.length) + POOL_FIXED),
    );
    const { bits, bit, cu32 } = await this.maskAndOpen(x);
    const pre = await this.prefixCarries(this.subtractionLeaves(bits, N, cu32));
    // e = carry out of the whole width with carry-in 1 (end-around carry of c − r mod 2^61 − 1)
    const all = pre[FIELD_BITS - 1]!;
    const e = this.add(all.g, all.p);
    const pe = await this.mulMany(ks.map((k) => [pre[k - 1]!.p, e] as const));
    return ks.map((k, q) => {
      const Ck = this.add(pre[k - 1]!.g, pe[q]!);
      const sLow = this.affine(
        this.binaryCompose(Array.from({ length: k }, (_, i) => bit(i))),
        P - 1n,
        (1n << BigInt(k)) - 1n,
      );
      const res = this.addPublic(this.add(sLow, e), lowBits(cu32, N, k));
      return this.sub(res, this.mulConst(Ck, 1n << BigInt(k)));
    });
  }

  /**
   * (G, P) of every prefix [0, i] of a carry network (Sklansky's parallel prefix): level l combines
   * each position whose bit l is set with the last position of the half-block below it, so
   * ceil(log2(n)) rounds and about (n/2)·log2(n) combines (183 for 61 leaves, against 61 + Σk
   * for one tree per prefix).
   */
  private async prefixCarries(
    leaves: readonly { g: Shared; p: Shared }[],
  ): Promise<{ g: Shared; p: Shared }[]> {
    return sklansky(leaves, async (pairs) => {
      const prods = await this.mulMany(
        pairs.flatMap(([hi, lo]) => [[hi.p, lo.g] as const, [hi.p, lo.p] as const]),
      );
      return pairs.map(([hi], q) => ({ g: this.add(hi.g, prods[2 * q]!), p: prods[2 * q + 1]! }));
    });
  }

  /**
   * The mask of every bit decomposition here: 61 shared random bits r_i per element of x, and
   * c = x + Σ 2^i r_i opened (r is uniform on [0, 2^61), so c hides x up to 2^−61), as u32 pairs.
   */
  private async maskAndOpen(
    x: Shared,
  ): Promise<{ bits: Shared; bit: (i: number) => Shared; cu32: Uint32Array }> {
    const N = x.v.length;
    const bits = await this.randomBits(FIELD_BITS * N);
    const bit = (i: number): Shared => this.slice(bits, i * N, (i + 1) * N);
    const r = this.binaryCompose(Array.from({ length: FIELD_BITS }, (_, i) => bit(i)));
    const c = await this.openMasked(this.add(x, r));
    return { bits, bit, cu32: new Uint32Array(c.buffer, c.byteOffset, 2 * N) };
  }

  /**
   * Carry-network leaves of c + ~r (c public as u32 pairs, r shared bits): g_i = c_i·(1 − r_i),
   * p_i = c_i xor (1 − r_i), both linear in r_i.
   */
  private subtractionLeaves(
    bits: Shared,
    N: number,
    cu32: Uint32Array,
  ): { g: Shared; p: Shared }[] {
    const leaves: { g: Shared; p: Shared }[] = [];
    for (let i = 0; i < FIELD_BITS; i++) {
      const ci = bitOf(cu32, N, i);
      const s = this.affine(this.slice(bits, i * N, (i + 1) * N), P - 1n, 1n);
      const g = this.mulPublic(s, ci);
      leaves.push({ g, p: this.addPublic(this.sub(s, this.mulConst(g, 2n)), ci) });
    }
    return leaves;
  }

  /**
   * [x mod 2^k] for x known to lie in [0, 2^bound) (bound <= 60; a value outside gives a wrong
   * result, not an error). Masks x with r uniform in [0, 2^61) of known bits and opens c = x + r mod p
   * (uniform, independent of x up to 2^-61). Where c >= 2^bound the sum cannot have wrapped mod p
   * (a wrap gives c < x), so x = c − r over the integers and x mod 2^k = c_low − r_low + 2^k·[c_low < r_low]
   * with one k-bit comparison of a public and a shared number; elements with c < 2^bound
   * (probability 2^(bound−61), decided by the uniform c alone, so independent of the data) are
   * redone with a fresh mask. Cost per element: 61 random bits (2 products each) and about k + 5
   * products (`gtProducts`, see `greaterThanPublic`); sqrt(k)/2 + log2(2·sqrt(k)) rounds instead
   * of the full 61-bit subtraction.
   */
  private async modPow2Bounded(x: Shared, k: number, bound: number): Promise<Shared> {
    const N = x.v.length;
    if (N === 0) return { v: new BigUint64Array(0), m: new BigUint64Array(0) };
    await this.refillFor(
      Math.min(POOL_MAX, N * (2 * FIELD_BITS + 2 * gtProducts(k) + 8) + POOL_FIXED),
    );
    const { bits, bit, cu32 } = await this.maskAndOpen(x);
    // elements whose c < 2^bound may have wrapped: redo them (public, data-independent choice)
    const retry: number[] = [];
    const hiLim = bound >= 32 ? 2 ** (bound - 32) : 0;
    const loLim = bound >= 32 ? 0 : 2 ** bound;
    for (let e = 0; e < N; e++) {
      const hi = cu32[2 * e + 1]!;
      if (hi < hiLim || (hi === 0 && cu32[2 * e]! < loLim)) retry.push(e);
    }
    const u = await this.greaterThanPublic(bits, k, cu32);
    // c mod 2^k as a public vector
    const cLow = lowBits(cu32, N, k);
    const rLow = this.binaryCompose(Array.from({ length: k }, (_, i) => bit(i)));
    const res = this.addPublic(this.sub(this.mulConst(u, 1n << BigInt(k)), rLow), cLow);
    if (retry.length > 0) {
      const idx = Uint32Array.from(retry);
      const again = await this.modPow2Bounded(this.gather(x, idx), k, bound);
      for (let q = 0; q < idx.length; q++) {
        res.v[idx[q]!] = again.v[q]!;
        res.m[idx[q]!] = again.m[q]!;
      }
    }
    return res;
  }

  /** Elements at the given indices (a copy). */
  private gather(x: Shared, idx: Uint32Array): Shared {
    const v = new BigUint64Array(idx.length);
    const m = new BigUint64Array(idx.length);
    for (let q = 0; q < idx.length; q++) {
      v[q] = x.v[idx[q]!]!;
      m[q] = x.m[idx[q]!]!;
    }
    return { v, m };
  }

  /**
   * [r > c] per element for shared bits r (bits[i] = bit i, each with its MAC) and a public c given
   * as little-endian u32 pairs (bits at and above bits.length ignored). With e_i = [r_i = c_i]
   * (linear in r_i for public c_i) and E_i = prod_{j>i} e_j, the first differing bit from the top
   * decides: [r > c] = sum_{i: c_i = 0} E_i·r_i = sum_{i: c_i = 0} (E_i − E_{i−1}), linear in the
   * suffix products E. These are computed in blocks of b ≈ sqrt(k)/2 bits: chains inside the
   * blocks in parallel (b − 1 rounds), the products of all blocks above each block by a parallel
   * prefix (Sklansky, log2(k/b) rounds), and one inner product (a single degree reduction) that
   * weights each block's partial answer by that product. For k = 47: 8 rounds and about 52
   * checked products per element (a chain over the blocks took 12 rounds and 46 products; in
   * latency-bound programs such as REGRESS a round costs more than a few products).
   */
  private async greaterThanPublic(bits: Shared, k: number, cu32: Uint32Array): Promise<Shared> {
    const N = cu32.length / 2;
    // Blocks from the top: block j holds bits k−1−j·b, k−2−j·b, … (the last may be shorter). Every
    // local step below works on all blocks at once, in a layout by position: row (s, j) holds bit
    // k−1−j·b−s, rows ordered by s then j, so the blocks still active at position s (those longer
    // than s, a prefix of them) are one contiguous range.
    const b = gtBlock(k);
    const nb = Math.ceil(k / b);
    const active = (s: number) => Math.floor((k - 1 - s) / b) + 1; // blocks longer than s
    const rowStart: number[] = [];
    const src: number[] = [];
    for (let s = 0; s < b; s++) {
      rowStart.push(src.length);
      for (let j = 0; j < active(s); j++) src.push(k - 1 - j * b - s);
    }
    const rv = new BigUint64Array(k * N);
    const rm = new BigUint64Array(k * N);
    const cv = new BigUint64Array(k * N);
    src.forEach((i, row) => {
      rv.set(bits.v.subarray(i * N, (i + 1) * N), row * N);
      rm.set(bits.m.subarray(i * N, (i + 1) * N), row * N);
      bitOf(cu32, N, i, cv.subarray(row * N, (row + 1) * N));
    });
    // per bit: e_i = [r_i = c_i] = (1 − c_i) + (2c_i − 1)·r_i, and the weight 1 − c_i
    const notC = this.F.affine(cv, P - 1n, 1n);
    const eq = this.addPublic(
      this.mulPublic({ v: rv, m: rm }, this.F.affine(cv, 2n, P - 1n)),
      notC,
    );
    const row = (x: Shared, s: number) =>
      this.slice(x, rowStart[s]! * N, (rowStart[s]! + active(s)) * N);
    const rowC = (s: number) => notC.subarray(rowStart[s]! * N, (rowStart[s]! + active(s)) * N);
    // within each block: D_0 = 1, D_{s+1} = D_s · e_s; gt = Σ_s (1 − c_s)·(D_s − D_{s+1})
    let D = row(eq, 0);
    let gt = this.mulPublic(this.affine(D, P - 1n, 1n), rowC(0));
    for (let s = 1; s < b; s++) {
      const A = active(s) * N;
      const Dact = this.slice(D, 0, A);
      const [next] = await this.mulMany([[Dact, row(eq, s)]]);
      const inc = this.mulPublic(this.sub(Dact, next!), rowC(s));
      gt =
        A === gt.v.length
          ? this.add(gt, inc)
          : this.concat([this.add(this.slice(gt, 0, A), inc), this.slice(gt, A, gt.v.length)]);
      D = A === D.v.length ? next! : this.concat([next!, this.slice(D, A, D.v.length)]);
    }
    // block j's answer counts only if all blocks above agree: S_j = D_0 · … · D_{j−1}, the
    // prefix products of the block products, by Sklansky's network (as `prefixCarries`)
    const block = (x: Shared, j: number) => this.slice(x, j * N, (j + 1) * N);
    if (nb === 1) return gt;
    // S[i] = D_0 · … · D_i, which weights block i + 1
    const S = await sklansky(
      Array.from({ length: nb - 1 }, (_, j) => block(D, j)),
      (pairs) => this.mulMany(pairs),
    );
    const rest = await this.mulSum(S.map((Sj, j) => [Sj, block(gt, j + 1)] as const));
    return this.add(block(gt, 0), rest);
  }

  /** sum_j a_j ⊙ b_j element-wise with a single degree reduction (checked like one product). */
  private async mulSum(pairs: readonly (readonly [Shared, Operand])[]): Promise<Shared> {
    const n = pairs[0]![0].v.length;
    const d = new BigUint64Array(2 * n);
    const dv = d.subarray(0, n);
    const dm = d.subarray(n);
    for (const [a, b] of pairs) {
      this.F.mulAdd(a.v, b.v, dv, dv);
      this.F.mulAdd(a.m, b.v, dm, dm);
    }
    if (this.finalized)
      throw new MpcError('ERR_PARAM', 'mul: the session is finalized (its MAC key was opened)');
    const z = await this.reduceDegree(d);
    const res = { v: z.subarray(0, n), m: z.subarray(n) };
    this.record(res);
    return res;
  }

  /** sum_i 2^i · bits[i], by Horner with the small multiplier 2 (no full products). */
  private binaryCompose(bits: readonly Shared[]): Shared {
    return {
      v: this.F.polyEval(
        bits.map((b) => b.v),
        2n,
      ),
      m: this.F.polyEval(
        bits.map((b) => b.m),
        2n,
      ),
    };
  }

  /** Combines (generate, propagate) leaves of several ranges into one (G, P) per range, batching each level. */
  private async carryTrees(
    ranges: { g: Shared; p: Shared }[][],
  ): Promise<({ g: Shared; p: Shared } | undefined)[]> {
    let levels = ranges.map((r) => r.slice());
    while (levels.some((l) => l.length > 1)) {
      const pairs: (readonly [Shared, Shared])[] = [];
      const plan: { range: number; hi: { g: Shared; p: Shared } }[] = [];
      for (let ri = 0; ri < levels.length; ri++) {
        const l = levels[ri]!;
        for (let i = 0; i + 1 < l.length; i += 2) {
          const low = l[i]!;
          const high = l[i + 1]!;
          pairs.push([high.p, low.g], [high.p, low.p]);
          plan.push({ range: ri, hi: high });
        }
      }
      const prods = await this.mulMany(pairs);
      const next: { g: Shared; p: Shared }[][] = levels.map(() => []);
      let q = 0;
      for (let ri = 0; ri < levels.length; ri++) {
        const l = levels[ri]!;
        for (let i = 0; i + 1 < l.length; i += 2) {
          const { hi } = plan[q]!;
          next[ri]!.push({ g: this.add(hi.g, prods[2 * q]!), p: prods[2 * q + 1]! });
          q++;
        }
        if (l.length % 2 === 1) next[ri]!.push(l[l.length - 1]!);
      }
      levels = next;
    }
    return levels.map((l) => l[0]);
  }

  /**
   * A column whose dealer also shares its bit decomposition (e.g. a stored column kept beside its
   * bits): returns x and bits[k] (bit k of every element, k < bits). Checked before use, besides
   * the degree check of every dealt sharing: sum_k 2^k bits[k] = x and every bit in {0, 1}, each as
   * one random linear combination opened to be 0 (error <= len·bits/p). Comparisons with public
   * constants then need no random bits and no openings (`ltConstBits`).
   */
  async inputBits(
    dealer: number,
    values: Vec | undefined,
    len: number,
    bits = CMP_BITS,
  ): Promise<{ x: Shared; bits: Shared[] }> {
    if (!Number.isInteger(bits) || bits < 1 || bits > 60)
      throw new MpcError('ERR_PARAM', `inputBits: bits must be in 1..60, got ${bits}`);
    let all: Vec | undefined;
    if (this.party.self === dealer) {
      if (!values || values.length !== len)
        throw new MpcError(
          'ERR_PARAM',
          `inputBits: dealer must pass ${len} values, got ${values?.length ?? 'none'}`,
        );
      all = new BigUint64Array((bits + 1) * len);
      all.set(values);
      const lim = 1n << BigInt(bits);
      for (let i = 0; i < len; i++) {
        const v = values[i]!;
        if (v >= lim)
          throw new MpcError('ERR_PARAM', `inputBits: value ${i} does not fit in ${bits} bits`);
        for (let k = 0; k < bits; k++) all[(k + 1) * len + i] = (v >> BigInt(k)) & 1n;
      }
    }
    const dealt = await this.input(dealer, all, (bits + 1) * len);
    all?.fill(0n);
    const x = this.slice(dealt, 0, len);
    const bitVecs = Array.from({ length: bits }, (_, k) =>
      this.slice(dealt, (k + 1) * len, (k + 2) * len),
    );
    const F = this.F;
    const [rho, sigma] = await this.coin(2);
    // recomposition: x - sum 2^k b_k is 0 everywhere (linear, local)
    const diff = F.sub(x.v, this.binaryCompose(bitVecs).v);
    // bits: sum rho^j (b_j^2 - b_j) over all bits of all elements, one degree reduction
    const b = this.slice(dealt, len, (bits + 1) * len).v;
    const sq = F.mul(b, b);
    const local = BigUint64Array.of(mod(F.horner(sq, sigma!) - F.horner(b, sigma!)));
    sq.fill(0n);
    const reduced = await this.reduceDegree(local);
    const opened = await this.openRawChecked(
      concat([BigUint64Array.of(F.horner(diff, rho!)), reduced]),
      'inputBits',
    );
    if (opened[0] !== 0n || opened[1] !== 0n) {
      throw this.party.abort(
        new MpcError(
          'ERR_CHEATING',
          `inputBits: the bits dealt by ${dealer < 0 ? 'the dealer' : `party ${dealer}`} are not a bit decomposition of its values`,
          {
            suspects: dealer >= 0 ? [dealer] : [],
          },
        ),
      );
    }
    return { x, bits: bitVecs };
  }

  /**
   * [x < c] for a public c in [0, 2^bits) from shared bits of x: the carry out of x + ~c + 1 over
   * `bits` positions (a carry network with public c: generate and propagate are linear), so
   * (bits − 1) combines, 4 DN elements each with the MAC, and log2(bits) rounds; no openings.
   */
  async ltConstBits(bits: readonly Shared[], c: bigint): Promise<Shared> {
    const k = bits.length;
    if (k < 1 || c < 0n || c >= 1n << BigInt(k))
      throw new MpcError('ERR_PARAM', `ltConstBits: c must be in [0, 2^${k}), got ${c}`);
    const leaves = bits.map((x, i) => {
      const d = ((c >> BigInt(i)) & 1n) === 0n; // bit i of ~c
      const zero = this.mulConst(x, 0n);
      return d ? { g: x, p: this.affine(x, P - 1n, 1n) } : { g: zero, p: x };
    });
    const [root] = await this.carryTrees([leaves]);
    // carry out with carry-in 1 is G + P (exclusive); x < c exactly when there is none
    return this.affine(this.add(root!.g, root!.p), P - 1n, 1n);
  }

  /** [a < b] for a, b in [0, 2^bits), bits <= 59 (default 32). */
  async lt(a: Shared, b: Shared, bits = CMP_BITS): Promise<Shared> {
    return this.ltDiff(this.sub(a, b), bits);
  }

  /** [a < c] for a public c, a and c in [0, 2^bits). */
  async ltConst(a: Shared, c: bigint, bits = CMP_BITS): Promise<Shared> {
    return this.ltDiff(this.addConst(a, P - mod(c)), bits);
  }

  /** [a > c] for a public c, a and c in [0, 2^bits). */
  async gtConst(a: Shared, c: bigint, bits = CMP_BITS): Promise<Shared> {
    // a > c  <=>  c - a < 0
    return this.ltDiff(this.addConst(this.neg(a), c), bits);
  }

  /**
   * [d < 0] for d = a - b with a, b in [0, 2^bits): 1 - bit `bits` of d + 2^bits (which lies in
   * [1, 2^(bits+1)), below p for bits <= 59). The cost does not depend on `bits`.
   */
  private async ltDiff(d: Shared, bits: number): Promise<Shared> {
    if (!Number.isInteger(bits) || bits < 1 || bits > MAX_CMP_BITS) {
      throw new MpcError(
        'ERR_PARAM',
        `comparison: bits must be in 1..${MAX_CMP_BITS}, got ${bits}`,
      );
    }
    const shifted = this.addConst(d, 1n << BigInt(bits));
    // shifted < 2^(bits+1): the no-wrap path while a redo stays rare (probability 2^(bits−60))
    const low = await this.modPow2(
      shifted,
      bits,
      bits + 1 <= NO_WRAP_MAX_BOUND ? bits + 1 : undefined,
    );
    const bit = this.mulConst(this.sub(shifted, low), invRef(1n << BigInt(bits)));
    return this.affine(bit, P - 1n, 1n);
  }

  /**
   * Exact integer division of shared values: floor(x / y) for x in [0, 2^xBits) and y in
   * [1, 2^yBits), xBits + yBits <= 59. Restoring long division, one quotient bit per step: the
   * remainder is compared with y·2^i (one comparison and one product per bit, all elements in one
   * batch), so it costs xBits comparisons and its rounds do not depend on the number of elements.
   * For a fixed-point quotient with f fractional bits, pass x·2^f (and count f in xBits).
   * Values outside the stated ranges give a wrong result, not an error (they are secret).
   */
  async div(x: Shared, y: Shared, xBits: number, yBits: number): Promise<{ q: Shared; r: Shared }> {
    if (
      !Number.isInteger(xBits) ||
      !Number.isInteger(yBits) ||
      xBits < 1 ||
      yBits < 1 ||
      xBits + yBits > MAX_CMP_BITS
    ) {
      throw new MpcError(
        'ERR_PARAM',
        `div: need integer xBits, yBits >= 1 with xBits + yBits <= ${MAX_CMP_BITS}, got ${xBits} and ${yBits}`,
      );
    }
    if (x.v.length !== y.v.length)
      throw new MpcError('ERR_PARAM', `div: length mismatch ${x.v.length} vs ${y.v.length}`);
    const L = xBits + yBits;
    let r = x;
    let q = this.constant(new BigUint64Array(x.v.length));
    for (let i = xBits - 1; i >= 0; i--) {
      const shifted = this.mulConst(y, 1n << BigInt(i)); // y·2^i < 2^L
      const below = await this.lt(r, shifted, L); // r < y·2^i
      const take = this.affine(below, P - 1n, 1n); // r >= y·2^i
      const [sub] = await this.mulMany([[take, shifted]]);
      r = this.sub(r, sub!);
      q = this.add(q, this.mulConst(take, 1n << BigInt(i)));
    }
    return { q, r };
  }

  /**
   * [a == b] by Fermat: 1 - (a-b)^(p-1), with an addition chain of 60 squarings and 8 products
   * (68 bare multiplications and one to authenticate the result, no opening, perfectly secure).
   */
  async eq(a: Shared, b: Shared): Promise<Shared> {
    return this.isZero(this.sub(a, b));
  }

  async eqConst(a: Shared, c: bigint): Promise<Shared> {
    return this.isZero(this.addConst(a, P - mod(c)));
  }

  async isZero(d: Shared): Promise<Shared> {
    const mul = async (x: Operand, y: Operand): Promise<Operand> =>
      (await this.mulBare([[x, y]]))[0]!;
    const sq = async (
      x: Operand,
      times: number,
      tap?: { at: number; mulBy: Operand },
    ): Promise<{ out: Operand; tapped?: Operand }> => {
      let cur = x;
      let tapped: Operand | undefined;
      for (let i = 1; i <= times; i++) {
        if (tap && i === tap.at + 1) {
          // square and the tap product in one batch
          const [s, tp] = await this.mulBare([
            [cur, cur],
            [cur, tap.mulBy],
          ]);
          cur = s!;
          tapped = tp;
        } else {
          cur = await mul(cur, cur);
        }
      }
      if (tap && tap.at === times) tapped = await mul(cur, tap.mulBy);
      return tapped ? { out: cur, tapped } : { out: cur };
    };
    // bare products (one DN element each), the result authenticated
    await this.refillFor(Math.min(POOL_MAX, d.v.length * 69 + POOL_FIXED));
    // a_k = d^(2^k - 1)
    const a1 = d;
    const a2 = await mul((await sq(a1, 1)).out, a1);
    const a4 = await mul((await sq(a2, 2)).out, a2);
    // a8 = a4^(2^4)·a4
    const a8 = await mul((await sq(a4, 4)).out, a4);
    // a16 = a8^(2^8)·a8, tapping a8^(2^4)·a4 = a12 on the way
    const s8 = await sq(a8, 8, { at: 4, mulBy: a4 });
    const a12 = s8.tapped!;
    const a16 = await mul(s8.out, a8);
    // a32 = a16^(2^16)·a16, tapping a16^(2^12)·a12 = a28
    const s16 = await sq(a16, 16, { at: 12, mulBy: a12 });
    const a28 = s16.tapped!;
    const a32 = await mul(s16.out, a16);
    // a60 = a32^(2^28)·a28 ; d^(p-1) = a60^2
    const a60 = await mul((await sq(a32, 28)).out, a28);
    const f = await mul(a60, a60);
    const [res] = await this.authenticate([this.affine(f, P - 1n, 1n)]);
    return res!;
  }

  /**
   * Fixed-point truncation: floor(x / 2^k) for signed x with |x| < 2^(bits-1), bits <= 60, k < bits.
   * Exact (not probabilistic): computed from x mod 2^k.
   */
  async trunc(x: Shared, k: number, bits = 48): Promise<Shared> {
    if (!Number.isInteger(bits) || bits < 2 || bits > 60)
      throw new MpcError('ERR_PARAM', `trunc: bits must be in 2..60, got ${bits}`);
    if (!Number.isInteger(k) || k < 1 || k >= bits)
      throw new MpcError('ERR_PARAM', `trunc: k must be in 1..${bits - 1}, got ${k}`);
    const off = 1n << BigInt(bits - 1);
    const xp = this.addConst(x, off); // in [0, 2^bits)
    const low = await this.modPow2(xp, k, bits <= NO_WRAP_MAX_BOUND ? bits : undefined);
    const q = this.mulConst(this.sub(xp, low), invRef(1n << BigInt(k)));
    return this.addConst(q, P - (off >> BigInt(k)));
  }

  /**
   * Division by a public integer d in [1, 2^31): floor(x / d) for x in [0, 2^bits), bits <= 29.
   * q0 = floor(x·m / 2^bits) with m = ceil(2^bits / d) is floor(x/d) or one more (x·m < 2^58 fits
   * the field); one comparison of the remainder fixes it, so the result is exact.
   */
  async divConst(x: Shared, d: bigint, bits = 29): Promise<Shared> {
    if (d <= 0n || d >= 1n << 31n)
      throw new MpcError('ERR_PARAM', `divConst: divisor must be in 1..2^31-1, got ${d}`);
    if (!Number.isInteger(bits) || bits < 1 || bits > 29)
      throw new MpcError('ERR_PARAM', `divConst: bits must be in 1..29, got ${bits}`);
    const s = BigInt(bits);
    const m = ((1n << s) + d - 1n) / d;
    const q0 = await this.truncUnsigned(this.mulConst(x, m), bits);
    const rem = this.sub(x, this.mulConst(q0, d)); // in [-d, d)
    const neg = await this.ltConst(this.addConst(rem, d), d);
    return this.sub(q0, neg);
  }

  private async truncUnsigned(x: Shared, k: number): Promise<Shared> {
    const low = await this.modPow2(x, k);
    return this.mulConst(this.sub(x, low), invRef(1n << BigInt(k)));
  }

  // ---------------------------------------------------------------- opening

  /**
   * Opens x to everyone after verifying every multiplication and dealt sharing so far. Throws
   * ERR_CHEATING (with suspects when they can be identified) instead of returning a wrong value.
   */
  async open(x: Shared, opts: VerifyOptions = {}): Promise<Vec> {
    await this.verify(opts);
    const r = await this.openRaw(x.v);
    this.throwIfBad(r, 'open');
    this.counters.openedElements += x.v.length;
    return r.values;
  }

  /** Opens x only to party `to` (after verification); the others get null. */
  async openTo(to: number, x: Shared, opts: VerifyOptions = {}): Promise<Vec | null> {
    await this.verify(opts);
    const r = await this.openImpl(x.v, to);
    if (!r) return null;
    this.throwIfBad(r, 'openTo');
    this.counters.openedElements += x.v.length;
    return r.values;
  }

  /**
   * Opens a value that is perfectly masked by fresh randomness (used inside protocols), without the
   * full verification. Still robust: inconsistent shares abort.
   */
  async openMasked(x: Shared): Promise<Vec> {
    return this.openRawChecked(x.v, 'openMasked');
  }

  private throwIfBad(r: OpenResult, where: string): void {
    if (r.bad.length === 0) return;
    const err = new MpcError(
      'ERR_CHEATING',
      `${where}: shares of ${r.bad.length} element(s) are inconsistent${r.faulty.length ? `; wrong shares from part${r.faulty.length > 1 ? 'ies' : 'y'} ${r.faulty.join(', ')}` : ''}`,
      { suspects: r.faulty, details: { firstBadElement: r.bad[0]! } },
    );
    throw this.party.abort(err);
  }

  /** Robust opening of raw shares to all. Needs t+1 live parties; detects cheating with t+2. */
  async openRaw(shares: Vec): Promise<OpenResult> {
    return (await this.openImpl(shares, undefined))!;
  }

  private async openImpl(shares: Vec, to: number | undefined): Promise<OpenResult | null> {
    const pa = this.party;
    const op = pa.nextOp();
    const targets = to === undefined ? pa.parties : [to];
    for (const j of targets) pa.send(j, op, [shares]);
    if (to !== undefined && pa.self !== to) return null;
    const got = await pa.recv(op, pa.parties, shares.length, true);
    if (got.size < this.t + 1) {
      throw pa.abort(
        new MpcError(
          'ERR_PEER_GONE',
          `open: only ${got.size} parties present, need t+1 = ${this.t + 1}`,
        ),
      );
    }
    const parties = [...got.keys()].sort((a, b) => a - b);
    const cols = parties.map((p) => got.get(p)!);
    const bad = findInconsistent(this.F, cols, parties, this.t);
    if (bad.length === 0) {
      return {
        values: this.F.linComb(
          cols.slice(0, this.t + 1),
          lagrangeCoefficients(parties.slice(0, this.t + 1)),
        ),
        bad,
        faulty: [],
      };
    }
    let faulty: number[] = [];
    try {
      faulty = robustReconstruct(this.F, cols, parties, this.t).faulty;
    } catch {
      faulty = [];
    }
    return { values: new BigUint64Array(0), bad, faulty };
  }

  // ---------------------------------------------------------------- verification

  /**
   * Checks, at once, every multiplication since the last check (MAC relation z' = r·z under random
   * public coefficients, two repetitions) and every dealt degree-t sharing (masked random linear
   * combination per dealer). Aborts with ERR_CHEATING on failure. `final` opens the MAC key instead
   * of multiplying by it.
   */
  async verify(opts: VerifyOptions = {}): Promise<void> {
    if (opts.final && opts.deferProducts)
      throw new MpcError('ERR_PARAM', 'verify: a final verification cannot defer the products');
    if (this.finalized) {
      if (this.macPending.length || this.productLog.length || this.dealtPending.size) {
        throw new MpcError(
          'ERR_PARAM',
          'verify: session already finalized but new multiplications were made',
        );
      }
      return;
    }
    const products = this.productLog.length > 0 && !opts.deferProducts;
    if (
      this.macPending.length === 0 &&
      !products &&
      this.dealtPending.size === 0 &&
      this.zeroPending.length === 0 &&
      !opts.final
    )
      return;
    this.counters.verifies++;
    // bare products first: the zero checks below may depend on them
    if (products) await this.checkProducts();
    const F = this.F;
    const [rho1, rho2] = await this.coin(2);
    let acc = [0n, 0n, 0n, 0n];
    for (const [z, rz] of this.macPending) acc = F.horner4(z, rz, rho1!, rho2!, acc);
    const [w1, u1, w2, u2] = acc as [bigint, bigint, bigint, bigint];
    this.macPending = [];
    this.macPendingCount = 0;
    const dealers = [...this.dealtPending.keys()].sort((a, b) => a - b);
    const ys = dealers.map((d) =>
      this.dealtPending.get(d)!.reduce((acc, v) => F.horner(v, rho1!, acc), 0n),
    );
    this.dealtPending.clear();
    const zeros = this.zeroPending;
    this.zeroPending = [];
    let T: bigint[];
    if (opts.final) {
      const rOpen = await this.openRaw(BigUint64Array.of(this.rShare));
      this.throwIfBad(rOpen, 'verify (MAC key)');
      const r = rOpen.values[0]!;
      T = [mod(u1 - mulRef(r, w1)), mod(u2 - mulRef(r, w2))];
      this.finalized = true;
    } else {
      const rw = await this.mulRaw(
        BigUint64Array.of(this.rShare, this.rShare),
        BigUint64Array.of(w1, w2),
      );
      T = [mod(u1 - rw[0]!), mod(u2 - rw[1]!)];
    }
    const opened = await this.openRaw(
      BigUint64Array.from([...T, ...ys, ...zeros.map((z) => z.share)]),
    );
    if (opened.bad.length) {
      const badDealers = opened.bad
        .filter((i) => i >= 2 && i < 2 + ys.length)
        .map((i) => dealers[i - 2]!);
      const err = new MpcError(
        'ERR_CHEATING',
        badDealers.length
          ? `verify: sharings dealt by ${badDealers.map((d) => (d < 0 ? 'an external dealer' : `party ${d}`)).join(', ')} are not of degree ${this.t}`
          : `verify: inconsistent shares in the check values`,
        { suspects: badDealers.length ? badDealers.filter((d) => d >= 0) : opened.faulty },
      );
      throw this.party.abort(err);
    }
    if (opened.values[0] !== 0n || opened.values[1] !== 0n) {
      throw this.party.abort(
        new MpcError(
          'ERR_CHEATING',
          'verify: the multiplication check failed — some party deviated (wrong share, wrong king value or inconsistent double sharing)',
        ),
      );
    }
    const nonzero = zeros.findIndex((_, i) => opened.values[2 + ys.length + i] !== 0n);
    if (nonzero >= 0) throw this.party.abort(new MpcError('ERR_CHEATING', zeros[nonzero]!.where));
  }

  /**
   * The compressed product check of every logged bare product (see `src/mpc/prodcheck.ts`):
   * 1. independent public coefficients ρ (one per element-wise product, one per dot product, from a
   *    coin-keyed PRG) turn the log into one claim ⟨a, b⟩ = c;
   * 2. FOLDS folds of K parts (K from the length, `foldSchedule`) shorten it to at most
   *    FOLD_FINAL_LEN elements, in a fixed number of rounds: one degree reduction of 2K − 2
   *    elements and one coin per fold;
   * 3. the short claim is checked in the open behind random masks: with f(X) = (1 − X)·a0 + X·a and
   *    g likewise (a0, b0 fresh random sharings), h(0) = ⟨a0, b0⟩ and h(2) = ⟨f(2), g(2)⟩ are
   *    reduced, and at a public random r the parties open f(r), g(r) (uniform, independent of a and
   *    b) and h(r) interpolated through h(0), c, h(2), and compare ⟨f(r), g(r)⟩ with h(r).
   * A false claim survives the coefficients with probability 1/p (plus the PRG's advantage), a fold
   * with at most (2K − 2)/p and the final check with 2/p: with K ≤ 127, below 2^−50 in all.
   * Only the masked f(r), g(r) and h(r) are opened. Aborts with ERR_CHEATING.
   */
  private async checkProducts(): Promise<void> {
    const log = this.productLog;
    this.productLog = [];
    this.productLogCount = 0;
    const F = this.F;
    let N = 0;
    let claims = 0;
    for (const e of log) {
      N += e.x.length;
      claims += e.z.length;
    }
    const seed = await this.coin(PRG_KEY_ELEMENTS);
    const rho = await prgExpand(await prgKey(BigUint64Array.from(seed)), 0, 0, claims);
    let a: Vec = new BigUint64Array(N);
    let b: Vec = new BigUint64Array(N);
    let c = 0n;
    let off = 0;
    let ci = 0;
    for (const e of log) {
      const L = e.z.length;
      const r = rho.subarray(ci, ci + L);
      c = mod(c + F.dot(r, e.z));
      if (L === 1) F.scale(e.x, r[0]!, a.subarray(off, off + e.x.length));
      else
        for (let g = 0; g < e.x.length; g += L)
          F.mul(e.x.subarray(g, g + L), r, a.subarray(off + g, off + g + L));
      b.set(e.y, off);
      off += e.x.length;
      ci += L;
    }
    // a fixed number of folds (the rounds do not depend on the number of products)
    for (const parts of foldSchedule(N)) {
      const st = foldProducts(F, a, b, parts);
      const reduced = await this.reduceDegree(st.local);
      const [r] = await this.coin(1);
      ({ a, b, c } = foldAt(F, st, reduced, c, r!));
    }
    const len = a.length;
    const mask = await this.randomRaw(2 * len);
    const a0 = mask.subarray(0, len);
    const b0 = mask.subarray(len);
    const a2 = F.sub(F.scale(a, 2n), a0);
    const b2 = F.sub(F.scale(b, 2n), b0);
    const h = await this.reduceDegree(BigUint64Array.of(F.dot(a0, b0), F.dot(a2, b2)));
    const [r] = await this.coin(1);
    const lam = lagrangeWeights([0n, 1n], r!);
    const mu = lagrangeWeights([0n, 1n, 2n], r!);
    const hr = mod(mulRef(mu[0]!, h[0]!) + mulRef(mu[1]!, c) + mulRef(mu[2]!, h[1]!));
    const opened = await this.openRaw(
      concat([F.linComb([a0, a], lam), F.linComb([b0, b], lam), BigUint64Array.of(hr)]),
    );
    mask.fill(0n);
    if (opened.bad.length)
      throw this.party.abort(
        new MpcError(
          'ERR_CHEATING',
          'verify: inconsistent shares in the product check values (some party deviated)',
          { suspects: opened.faulty },
        ),
      );
    const v = opened.values;
    if (F.dot(v.subarray(0, len), v.subarray(len, 2 * len)) !== v[2 * len]!)
      throw this.party.abort(
        new MpcError(
          'ERR_CHEATING',
          'verify: the product check failed — some party deviated in a multiplication (wrong share, wrong king value or inconsistent double sharing)',
        ),
      );
  }

  /** Checks dealt degree-t sharings right away (inputs): coin, masked combination, robust open. */
  private async checkDealt(vecs: Map<number, Vec[]>): Promise<void> {
    const [rho] = await this.coin(1);
    const dealers = [...vecs.keys()];
    const ys = dealers.map((d) => vecs.get(d)!.reduce((acc, v) => this.F.horner(v, rho!, acc), 0n));
    const opened = await this.openRaw(BigUint64Array.from(ys));
    if (opened.bad.length) {
      const bad = opened.bad.map((i) => dealers[i]!);
      throw this.party.abort(
        new MpcError(
          'ERR_CHEATING',
          `input: shares dealt by ${bad.map((d) => (d < 0 ? 'the external dealer' : `party ${d}`)).join(', ')} do not lie on a degree-${this.t} polynomial`,
          {
            suspects: bad.filter((d) => d >= 0),
            details: { faultyShares: opened.faulty.join(',') },
          },
        ),
      );
    }
  }

  /** Public random field elements: every party deals a random value, the sum is opened robustly. */
  async coin(k: number): Promise<bigint[]> {
    const pa = this.party;
    const op = pa.nextOp();
    const mine = shareDeg(this.F, this.F.random(k, pa.rng), this.n, this.t, pa.rng);
    for (const j of pa.parties) pa.send(j, op, [mine[j]!]);
    const got = await pa.recv(op, pa.parties, k, true);
    if (got.size < this.t + 1)
      throw pa.abort(
        new MpcError('ERR_PEER_GONE', `coin: only ${got.size} parties present, need ${this.t + 1}`),
      );
    const sum = new BigUint64Array(k);
    for (const v of got.values()) this.F.add(sum, v, sum);
    const r = await this.openRaw(sum);
    if (r.bad.length) {
      throw pa.abort(
        new MpcError(
          'ERR_CHEATING',
          'coin: the opened coin shares are inconsistent (a dealer or an opener deviated)',
        ),
      );
    }
    return Array.from(r.values);
  }

  private record(x: Shared): void {
    this.macPending.push([x.v, x.m]);
    this.macPendingCount += x.v.length;
  }

  /** Pending checked values; protocols may call verify() when it grows large. */
  get pendingChecks(): number {
    return this.macPendingCount + this.productLogCount;
  }

  /** Double sharings preprocessed and not yet used (memory held ahead: 16 B each). */
  get pooledDoubles(): number {
    return this.pool ? this.pool.rt.length - this.pool.off : 0;
  }

  private async macOf(v: Vec): Promise<Vec> {
    const m = await this.mulRaw(new BigUint64Array(v.length).fill(this.rShare), v);
    this.record({ v, m });
    return m;
  }

  // ---------------------------------------------------------------- Damgård–Nielsen core

  /** Vandermonde extraction matrix (n-t) x n: row a, column i = (i+1)^a (any n-t columns invertible). */
  private vandermonde(): bigint[][] {
    return Array.from({ length: this.n - this.t }, (_, a) =>
      Array.from({ length: this.n }, (_, i) => powRef(xOf(i), BigInt(a))),
    );
  }

  /**
   * One step of preprocessing: every party deals `count` random secrets at degree t (plus one mask
   * element, recorded for the deferred degree check) and, for double sharings, the same secrets at
   * degree 2t; each receiver extracts (n-t)·count sharings with the Vandermonde matrix.
   *
   * Shares a receiver can derive from the key it shares with the dealer are not sent. The secrets
   * are random, so the dealer lets the pseudo-random shares of the t + 1 lowest-numbered other
   * parties fix the whole degree-t polynomial (its secret s included) and sends only the other
   * n − t − 2 shares; the degree-2t polynomial is fixed by s and the pseudo-random shares of the 2t
   * lowest-numbered other parties, and n − 1 − 2t shares are sent. With n = 2t + 1 a double sharing
   * costs the dealer one message, not two (and with n = 3 none). Privacy as before: an honest
   * dealer's s depends on the key of at least one honest party among the t + 1, and t corrupt
   * parties see at most t shares of each polynomial.
   */
  private async dealAndExtract(count: number, double: boolean): Promise<Vec[]> {
    const pa = this.party;
    const F = this.F;
    const { t } = this;
    const self = pa.self;
    const op = pa.nextOp();
    const T1 = (d: number) => this.seededBy(d, t + 1);
    const T2 = (d: number) => this.seededBy(d, 2 * t);
    const tLen = count + 1;
    // ---- deal: the degree-t polynomial, and for doubles its secrets at degree 2t
    const deg1 = await this.dealSeeded(op, 1, tLen, T1(self), []);
    const out1 = deg1.shares;
    let out2 = new Map<number, Vec>();
    if (double) {
      const secrets = deg1.at(0n); // count secrets and the mask's
      out2 = (await this.dealSeeded(op, 2, count, T2(self), [[0n, secrets.subarray(0, count)]]))
        .shares;
      secrets.fill(0n);
    }
    const my1 = out1.get(self);
    const my2 = out2.get(self);
    for (const j of pa.parties) {
      if (j === self) continue;
      const parts = [out1.get(j), out2.get(j)].filter((v): v is Vec => v !== undefined);
      if (parts.length) pa.send(j, op, parts);
    }
    // ---- receive
    const expectLen = (d: number) =>
      (T1(d).includes(self) ? 0 : tLen) + (double && !T2(d).includes(self) ? count : 0);
    const senders = pa.parties.filter((d) => d !== self && expectLen(d) > 0);
    const got = await pa.recv(op, senders, expectLen);
    const col1: Vec[] = [];
    const col2: Vec[] = [];
    await Promise.all(
      pa.parties.map(async (d) => {
        if (d === self) {
          col1[d] = my1!;
          if (double) col2[d] = my2!;
          return;
        }
        const msg = got.get(d);
        let off = 0;
        if (T1(d).includes(self)) col1[d] = await prgExpand(this.recvKeys[d]!, op, 1, tLen);
        else {
          col1[d] = msg!.subarray(0, tLen);
          off = tLen;
        }
        if (double)
          col2[d] = T2(d).includes(self)
            ? await prgExpand(this.recvKeys[d]!, op, 2, count)
            : msg!.subarray(off, off + count);
      }),
    );
    for (const d of pa.parties) {
      const list = this.dealtPending.get(d) ?? [];
      list.push(col1[d]!);
      this.dealtPending.set(d, list);
    }
    const extract = (cols: Vec[]): Vec => {
      // the n − t extracted rows back to back in one vector, written in place
      const len = cols[0]!.length;
      const rows = this.n - t;
      const out = new BigUint64Array(rows * len);
      // small points 1..n: the kernel multiplies by j+1 <= 7 instead of full products
      if (this.n <= 7 && rows <= 4) F.vandermonde(cols, rows, out);
      else
        F.linCombMany(
          cols,
          this.vandermonde(),
          Array.from({ length: rows }, (_, q) => out.subarray(q * len, (q + 1) * len)),
        );
      return out;
    };
    const out = [extract(col1.map((c) => c.subarray(0, count)))];
    if (double) out.push(extract(col2));
    return out;
  }

  /**
   * The m lowest-numbered parties other than `dealer`: those whose shares of the dealer's
   * sharings come from the PRG key they share with it instead of a message.
   */
  private seededBy(dealer: number, m: number): number[] {
    return this.party.parties.filter((j) => j !== dealer).slice(0, m);
  }

  /**
   * This party's side as the dealer of a sharing with pseudo-random shares at `seeded` (from the
   * keys it shares with them: stream `stream` of step `op`, `len` elements each): those shares and
   * the `fixed` points (e.g. (0, secret)) determine the polynomial. Returns its value for every
   * other party (own share included) and an evaluator at any other point.
   */
  private async dealSeeded(
    op: number,
    stream: number,
    len: number,
    seeded: readonly number[],
    fixed: readonly (readonly [bigint, Vec])[],
  ): Promise<{ shares: Map<number, Vec>; at: (x: bigint) => Vec }> {
    const prg = await Promise.all(seeded.map((j) => prgExpand(this.dealKeys[j]!, op, stream, len)));
    const xs = [...fixed.map(([x]) => x), ...seeded.map(xOf)];
    const pts = [...fixed.map(([, v]) => v), ...prg];
    const at = (x: bigint): Vec => this.F.linComb(pts, lagrangeAt(xs, x));
    const shares = new Map<number, Vec>();
    for (const j of this.party.parties) if (!seeded.includes(j)) shares.set(j, at(xOf(j)));
    return { shares, at };
  }

  /** One step: every pair of parties agrees on PRG keys (each party picks the key of its own dealings). */
  private async setupKeys(): Promise<void> {
    const pa = this.party;
    const op = pa.nextOp();
    const others = pa.parties.filter((j) => j !== pa.self);
    const mine = new Map<number, Vec>();
    for (const j of others) {
      const m = this.F.random(PRG_KEY_ELEMENTS, pa.rng);
      mine.set(j, m);
      pa.send(j, op, [m]);
    }
    const got = await pa.recv(op, others, PRG_KEY_ELEMENTS);
    await Promise.all(
      others.map(async (j) => {
        this.dealKeys[j] = await prgKey(mine.get(j)!);
        this.recvKeys[j] = await prgKey(got.get(j)!);
        mine.get(j)!.fill(0n);
      }),
    );
  }

  /** `len` random degree-t sharings (no MAC). */
  private async randomRaw(len: number): Promise<Vec> {
    const per = Math.ceil(len / (this.n - this.t));
    const [r] = await this.dealAndExtract(per, false);
    return r!.subarray(0, len);
  }

  /** Makes sure at least `len` double sharings are preprocessed. */
  async prepareDoubles(len: number): Promise<void> {
    const have = this.pool ? this.pool.rt.length - this.pool.off : 0;
    if (have >= len) return;
    await this.addDoubles(len - have);
  }

  /**
   * Deals once, unconditionally: tops the pool up to `len` (dealing nothing but the step's mask
   * when the pool already holds that many). Whether a leftover pool would have sufficed depends on
   * the sizes of earlier batches, so a conditional refill at this point would make the step count
   * vary with N; one dealing step per call does not. (Topping up rather than adding a fixed amount
   * keeps the pool bounded: adding `POOL_FIXED` on every call let it grow by the difference
   * between that and what small calls use, and each refill copied the whole leftover — at one
   * element per comparison, 400 comparisons took 14 ms each, 41% of it in that copy.)
   */
  private async refillFor(len: number): Promise<void> {
    const have = this.pool ? this.pool.rt.length - this.pool.off : 0;
    await this.addDoubles(Math.max(len - have, 0));
  }

  private async addDoubles(count: number): Promise<void> {
    const have = this.pool ? this.pool.rt.length - this.pool.off : 0;
    const per = Math.ceil(count / (this.n - this.t));
    const [rt, r2t] = await this.dealAndExtract(per, true);
    if (rt!.length === 0) return;
    if (this.pool && have > 0) {
      this.pool = {
        rt: concat([this.pool.rt.subarray(this.pool.off), rt!]),
        r2t: concat([this.pool.r2t.subarray(this.pool.off), r2t!]),
        off: 0,
      };
    } else {
      this.pool = { rt: rt!, r2t: r2t!, off: 0 };
    }
  }

  private async takeDoubles(len: number): Promise<{ rt: Vec; r2t: Vec }> {
    await this.prepareDoubles(len);
    const p = this.pool!;
    const rt = p.rt.subarray(p.off, p.off + len);
    const r2t = p.r2t.subarray(p.off, p.off + len);
    p.off += len;
    if (p.off === p.rt.length) this.pool = undefined;
    return { rt, r2t };
  }

  /** Damgård–Nielsen: element-wise product of degree-t sharings, king per contiguous block. */
  private async mulRaw(x: Vec, y: Vec): Promise<Vec> {
    if (this.finalized)
      throw new MpcError('ERR_PARAM', 'mul: the session is finalized (its MAC key was opened)');
    const F = this.F;
    const d = F.mul(x, y);
    return this.reduceDegree(d);
  }

  /**
   * Turns degree-2t shares `d` of values into degree-t shares of the same values (Damgård–Nielsen):
   * every party sends d − R_2t to the king of each block, the king opens e = x − R from all n
   * shares and hands it back, and z = e + R_t.
   *
   * For batches of at least `SEEDED_RETURN_MIN` elements the king hands e back as a fresh
   * degree-t sharing instead of in the clear, and the shares of t parties come from the PRG keys it
   * shares with them, so it sends n − 1 − t messages instead of n − 1 (with n = 5, t = 2: 48 instead
   * of 64 bytes per element on the wire, with the exchange towards the king). A king that deviates
   * can only give each honest party an offset of its choice, which it can already do by sending
   * different values of e: the same additive errors, caught by the MAC check. Small batches keep
   * the clear return, which needs no PRG work in the round.
   */
  private async reduceDegree(d: Vec): Promise<Vec> {
    const pa = this.party;
    const F = this.F;
    const N = d.length;
    // every party has the same length, so skipping the steps keeps the step ids in agreement
    if (N === 0) return new BigUint64Array(0);
    this.counters.mulElements += N;
    const { rt, r2t } = await this.takeDoubles(N);
    F.sub(d, r2t, d); // d - r_2t, masked
    const n = this.n;
    const block = Math.ceil(N / n);
    const start = (k: number) => Math.min(N, k * block);
    const len = (k: number) => start(k + 1) - start(k);
    const op1 = pa.nextOp();
    for (const k of pa.parties) pa.send(k, op1, [d.subarray(start(k), start(k + 1))]);
    const got = await pa.recv(op1, pa.parties, len(pa.self));
    // this party is the king of its block: open e = d - r_2t from all n shares (degree 2t)
    const parties = pa.parties;
    const e = F.linComb(
      parties.map((p) => got.get(p)!),
      lagrangeCoefficients(parties),
    );
    const op2 = pa.nextOp();
    const z = new BigUint64Array(N);
    if (N < SEEDED_RETURN_MIN) {
      for (const j of parties) pa.send(j, op2, [e]);
      const es = await pa.recv(op2, parties, len);
      for (const k of parties) z.set(es.get(k)!, start(k));
      return F.add(z, rt, z);
    }
    // the king's degree-t sharing of e: pseudo-random at the t parties after it, interpolated
    // through (0, e) for the others
    const { t } = this;
    const self = pa.self;
    const seededBy = (k: number) => this.seededBy(k, t);
    if (len(self) > 0)
      for (const [j, v] of (await this.dealSeeded(op2, 0, len(self), seededBy(self), [[0n, e]]))
        .shares) {
        if (j === self) z.set(v, start(self));
        else pa.send(j, op2, [v]);
      }
    // (a king with an empty block sends nothing and is expected to send nothing)
    const fromKing = (k: number) => (k === self || seededBy(k).includes(self) ? 0 : len(k));
    const senders = parties.filter((k) => fromKing(k) > 0);
    const es = await pa.recv(op2, senders, fromKing);
    await Promise.all(
      parties.map(async (k) => {
        if (k === self || len(k) === 0) return;
        const share = seededBy(k).includes(self)
          ? await prgExpand(this.recvKeys[k]!, op2, 0, len(k))
          : es.get(k)!;
        z.set(share, start(k));
      }),
    );
    return F.add(z, rt, z);
  }
}

/**
 * Sklansky's parallel prefix: out[i] = xs[i] ∘ xs[i − 1] ∘ … ∘ xs[0] for an associative ∘, in
 * ceil(log2(n)) levels. At level `half` every position i with that bit set takes in the last
 * position of the half-block below it; `combine` gets all of a level's (higher, lower) pairs at
 * once (one batch of products per level) and returns the combined values in order.
 */
export async function sklansky<T>(
  xs: readonly T[],
  combine: (pairs: (readonly [T, T])[]) => Promise<T[]>,
): Promise<T[]> {
  const pre = xs.slice();
  for (let half = 1; half < pre.length; half *= 2) {
    const at: number[] = [];
    const pairs: (readonly [T, T])[] = [];
    for (let i = 0; i < pre.length; i++) {
      if ((i & half) === 0) continue;
      pairs.push([pre[i]!, pre[(i & ~(2 * half - 1)) + half - 1]!]);
      at.push(i);
    }
    const out = await combine(pairs);
    at.forEach((i, q) => (pre[i] = out[q]!));
  }
  return pre;
}

/** Combines `sklansky` makes over n values: at each level, the positions with that bit set. */
function sklanskyCombines(n: number): number {
  let combines = 0;
  for (let half = 1; half < n; half *= 2) for (let i = 0; i < n; i++) if (i & half) combines++;
  return combines;
}

/** Bits per block of `greaterThanPublic` for k bits. */
function gtBlock(k: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(k) / 2));
}

/**
 * Checked products per element of `greaterThanPublic` for k bits: the chains inside the blocks
 * (k − nb), Sklansky's prefix over nb − 1 block products, and the final inner product.
 */
function gtProducts(k: number): number {
  const nb = Math.ceil(k / gtBlock(k));
  return k - nb + sklanskyCombines(nb - 1) + (nb > 1 ? 1 : 0);
}

/** A sharing from its value half and, when present, its MAC half. */
function withMac(v: Vec, m: Vec | undefined): Operand {
  return m ? { v, m } : { v };
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/**
 * Bit i of every element of a vector given as little-endian u32 pairs, as a 0/1 vector (written
 * into `out`, length N and zero, when given).
 */
function bitOf(cu32: Uint32Array, N: number, i: number, out = new BigUint64Array(N)): Vec {
  const o32 = new Uint32Array(out.buffer, out.byteOffset, 2 * N);
  const word = i >= 32 ? 1 : 0;
  const sh = i & 31;
  for (let e = 0; e < N; e++) o32[2 * e] = (cu32[2 * e + word]! >>> sh) & 1;
  return out;
}

/** The low k bits of every element of a vector given as little-endian u32 pairs. */
function lowBits(cu32: Uint32Array, N: number, k: number): Vec {
  const out = new BigUint64Array(N);
  const l32 = new Uint32Array(out.buffer);
  const loMask = k >= 32 ? 0xffffffff : (2 ** k - 1) >>> 0;
  const hiMask = k > 32 ? (2 ** (k - 32) - 1) >>> 0 : 0;
  for (let j = 0; j < N; j++) {
    l32[2 * j] = (cu32[2 * j]! & loMask) >>> 0;
    l32[2 * j + 1] = (cu32[2 * j + 1]! & hiMask) >>> 0;
  }
  return out;
}
