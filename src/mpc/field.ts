/**
 * Vectorised arithmetic in the field p = 2^61 - 1 over `BigUint64Array` columns, backed by the
 * hand-written WebAssembly kernels in ./wasm/field.wat.
 *
 * Columns live in ordinary typed arrays (so they move to and from workers with transfer lists); each
 * kernel call copies its inputs into fixed scratch slots of the module's memory CHUNK elements at a
 * time, runs, and copies the result out. Memory never grows, so views stay valid and the working set
 * stays in cache.
 *
 * All inputs must be reduced field elements (< p). Values arriving from outside are checked with
 * `firstInvalid` at the boundary (the codec does this); internal values are reduced by construction.
 */
import { MpcError } from './errors';
import { P, invRef, mod, powRef } from './field-ref';
import { cryptoRng, type Rng } from './rng';
import { FIELD_WASM_BASE64 } from './wasm/field.wasm';

export { P } from './field-ref';

/** A column of field elements (or of one party's shares of them). */
export type Vec = BigUint64Array;

/** Elements per scratch slot: 64 KiB slots keep a kernel's operands in L2 cache. */
const CHUNK = 8192;
const SLOT_BYTES = CHUNK * 8;
/** The module has 129 pages = 132 slots; the last slots hold coefficient tables. */
const DATA_SLOTS = 128;
const COEF_SLOT = 128;
/** Most columns a single polyEval / linComb call may combine. */
export const MAX_COLUMNS = DATA_SLOTS - 2;

interface Kernels {
  memory: WebAssembly.Memory;
  mulmod(a: bigint, b: bigint): bigint;
  add(a: number, b: number, o: number, n: number): void;
  sub(a: number, b: number, o: number, n: number): void;
  mul(a: number, b: number, o: number, n: number): void;
  muladd(a: number, b: number, c: number, o: number, n: number): void;
  mulsub(a: number, b: number, c: number, o: number, n: number): void;
  axpy(a: number, k: bigint, c: number, o: number, n: number): void;
  affine(a: number, k: bigint, c: bigint, o: number, n: number): void;
  dot(a: number, b: number, n: number, acc: bigint): bigint;
  sum(a: number, n: number, acc: bigint): bigint;
  horner(a: number, n: number, rho: bigint, acc: bigint): bigint;
  sharesmall(
    coef: number,
    stride: number,
    deg: number,
    npts: number,
    o: number,
    ostride: number,
    n: number,
  ): void;
  horner4(z: number, rz: number, n: number, rho1: bigint, rho2: bigint, st: number): void;
  polyeval(coef: number, stride: number, deg: number, x: bigint, o: number, n: number): void;
  lincomb(cols: number, stride: number, k: number, lam: number, o: number, n: number): void;
  lincomb3(
    cols: number,
    stride: number,
    l0: bigint,
    l1: bigint,
    l2: bigint,
    o: number,
    n: number,
  ): void;
  lincomb5(
    cols: number,
    stride: number,
    l0: bigint,
    l1: bigint,
    l2: bigint,
    l3: bigint,
    l4: bigint,
    o: number,
    n: number,
  ): void;
  pow2k(a: number, k: number, o: number, n: number): void;
  vandermonde(
    cols: number,
    stride: number,
    k: number,
    rows: number,
    o: number,
    ostride: number,
    n: number,
  ): void;
  firstinvalid(a: number, n: number): number;
  prefixprod(a: number, o: number, n: number): void;
}

let wasmModule: WebAssembly.Module | undefined;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function instantiate(): Kernels {
  wasmModule ??= new WebAssembly.Module(decodeBase64(FIELD_WASM_BASE64));
  const inst = new WebAssembly.Instance(wasmModule, {});
  return inst.exports as unknown as Kernels;
}

const slot = (i: number): number => i * SLOT_BYTES;

function checkLen(fn: string, a: Vec, b: Vec): void {
  if (a.length !== b.length) {
    throw new MpcError('ERR_PARAM', `Field.${fn}: length mismatch ${a.length} vs ${b.length}`);
  }
}

function checkScalar(fn: string, k: bigint): void {
  if (k < 0n || k >= P) throw new MpcError('ERR_PARAM', `Field.${fn}: scalar out of range`);
}

/**
 * One instance per thread (it owns a WASM instance and its scratch memory). Not re-entrant, which
 * JavaScript's single thread guarantees.
 */
export class Field {
  readonly p = P;
  private readonly k: Kernels;
  private readonly m64: BigUint64Array;

  constructor() {
    this.k = instantiate();
    this.m64 = new BigUint64Array(this.k.memory.buffer);
  }

  /** Scalar product a*b mod p through the kernel (control code; vectors use the methods below). */
  mulScalar(a: bigint, b: bigint): bigint {
    return this.k.mulmod(a, b);
  }

  private binary(
    fn: 'add' | 'sub' | 'mul',
    a: Vec,
    b: Vec,
    out: Vec = new BigUint64Array(a.length),
  ): Vec {
    checkLen(fn, a, b);
    checkLen(fn, a, out);
    const m = this.m64;
    const kern = this.k[fn];
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      m.set(b.subarray(i, i + len), CHUNK);
      kern(0, slot(1), slot(2), len);
      out.set(m.subarray(2 * CHUNK, 2 * CHUNK + len), i);
    }
    return out;
  }

  /**
   * The values at the next `count` integer points of the vector polynomial of degree k − 1 through
   * `vals` (its values at k consecutive integer points), by finite differences in the module's
   * memory: additions only. The differences that end at the last point, e_l = Δ^l v_(k−1−l), take
   * k(k − 1)/2 subtractions; each next point then takes k − 1 additions (e_l += e_(l+1), from the
   * top, since Δ^(k−1) is constant). Lagrange weights would take k full products per element and
   * point.
   */
  extrapolate(vals: readonly Vec[], count: number): Vec[] {
    const k = vals.length;
    if (k === 0 || k > DATA_SLOTS)
      throw new MpcError('ERR_PARAM', `Field.extrapolate: ${k} points (1..${DATA_SLOTS})`);
    const n = vals[0]!.length;
    for (const v of vals) checkLen('extrapolate', vals[0]!, v);
    const m = this.m64;
    const outs = Array.from({ length: count }, () => new BigUint64Array(n));
    // slot j holds e_(k−1−j) once the differences are taken; e_0 is in slot k − 1
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      for (let j = 0; j < k; j++) m.set(vals[j]!.subarray(i, i + len), j * CHUNK);
      for (let l = 1; l < k; l++)
        for (let j = 0; j + l < k; j++) this.k.sub(slot(j + 1), slot(j), slot(j), len);
      for (let c = 0; c < count; c++) {
        for (let j = 1; j < k; j++) this.k.add(slot(j), slot(j - 1), slot(j), len);
        outs[c]!.set(m.subarray((k - 1) * CHUNK, (k - 1) * CHUNK + len), i);
      }
    }
    return outs;
  }

  private ternary(fn: 'muladd' | 'mulsub', a: Vec, b: Vec, c: Vec, out: Vec): Vec {
    checkLen(fn, a, b);
    checkLen(fn, a, c);
    checkLen(fn, a, out);
    const m = this.m64;
    const kern = this.k[fn];
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      m.set(b.subarray(i, i + len), CHUNK);
      m.set(c.subarray(i, i + len), 2 * CHUNK);
      kern(0, slot(1), slot(2), slot(3), len);
      out.set(m.subarray(3 * CHUNK, 3 * CHUNK + len), i);
    }
    return out;
  }

  add(a: Vec, b: Vec, out?: Vec): Vec {
    return this.binary('add', a, b, out);
  }
  sub(a: Vec, b: Vec, out?: Vec): Vec {
    return this.binary('sub', a, b, out);
  }
  mul(a: Vec, b: Vec, out?: Vec): Vec {
    return this.binary('mul', a, b, out);
  }
  /** a*b + c */
  mulAdd(a: Vec, b: Vec, c: Vec, out: Vec = new BigUint64Array(a.length)): Vec {
    return this.ternary('muladd', a, b, c, out);
  }
  /** a*b - c */
  mulSub(a: Vec, b: Vec, c: Vec, out: Vec = new BigUint64Array(a.length)): Vec {
    return this.ternary('mulsub', a, b, c, out);
  }

  /** k*a + c (vector c); with out === c this accumulates. */
  axpy(a: Vec, k: bigint, c: Vec, out: Vec = new BigUint64Array(a.length)): Vec {
    checkLen('axpy', a, c);
    checkLen('axpy', a, out);
    checkScalar('axpy', k);
    const m = this.m64;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      m.set(c.subarray(i, i + len), CHUNK);
      this.k.axpy(0, k, slot(1), slot(2), len);
      out.set(m.subarray(2 * CHUNK, 2 * CHUNK + len), i);
    }
    return out;
  }

  /** k*a + c with public scalars k and c. */
  affine(a: Vec, k: bigint, c: bigint, out: Vec = new BigUint64Array(a.length)): Vec {
    checkLen('affine', a, out);
    checkScalar('affine', k);
    checkScalar('affine', c);
    const m = this.m64;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      this.k.affine(0, k, c, slot(1), len);
      out.set(m.subarray(CHUNK, CHUNK + len), i);
    }
    return out;
  }

  scale(a: Vec, k: bigint, out?: Vec): Vec {
    return this.affine(a, k, 0n, out);
  }
  addConst(a: Vec, c: bigint, out?: Vec): Vec {
    return this.affine(a, 1n, c, out);
  }
  neg(a: Vec, out?: Vec): Vec {
    return this.affine(a, P - 1n, 0n, out);
  }

  /** sum_i a[i]*b[i] */
  dot(a: Vec, b: Vec): bigint {
    checkLen('dot', a, b);
    const m = this.m64;
    let acc = 0n;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      m.set(b.subarray(i, i + len), CHUNK);
      acc = this.k.dot(0, slot(1), len, acc);
    }
    return acc;
  }

  sum(a: Vec): bigint {
    const m = this.m64;
    let acc = 0n;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      acc = this.k.sum(0, len, acc);
    }
    return acc;
  }

  /** Horner fold: acc := acc*rho + a[i] for every i in order; returns acc. */
  horner(a: Vec, rho: bigint, acc = 0n): bigint {
    checkScalar('horner', rho);
    const m = this.m64;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      acc = this.k.horner(0, len, rho, acc);
    }
    return acc;
  }

  /**
   * The MAC check's folds in one pass: with acc = [w1, u1, w2, u2], for every i in order
   * w_k = w_k·rho_k + z[i] and u_k = u_k·rho_k + rz[i]. Returns the new accumulators.
   */
  horner4(z: Vec, rz: Vec, rho1: bigint, rho2: bigint, acc: readonly bigint[]): bigint[] {
    checkLen('horner4', z, rz);
    checkScalar('horner4', rho1);
    checkScalar('horner4', rho2);
    const m = this.m64;
    const st = COEF_SLOT * CHUNK;
    for (let q = 0; q < 4; q++) m[st + q] = acc[q]!;
    for (let i = 0; i < z.length; i += CHUNK) {
      const len = Math.min(CHUNK, z.length - i);
      m.set(z.subarray(i, i + len), 0);
      m.set(rz.subarray(i, i + len), CHUNK);
      this.k.horner4(0, slot(1), len, rho1, rho2, st * 8);
    }
    return [m[st]!, m[st + 1]!, m[st + 2]!, m[st + 3]!];
  }

  /**
   * Evaluates, element-wise, the polynomials whose coefficient columns are `coefs` (coefs[0] is the
   * constant term) at the public point x: out[i] = sum_j coefs[j][i] * x^j.
   */
  polyEval(coefs: readonly Vec[], x: bigint, out?: Vec): Vec {
    return this.polyEvalMany(coefs, [x], out ? [out] : undefined)[0]!;
  }

  /** polyEval at several points, sharing the copy-in of the coefficient columns. */
  polyEvalMany(coefs: readonly Vec[], xs: readonly bigint[], outs?: Vec[]): Vec[] {
    const deg = coefs.length - 1;
    if (deg < 0 || coefs.length + 1 > DATA_SLOTS) {
      throw new MpcError(
        'ERR_PARAM',
        `Field.polyEval: ${coefs.length} coefficient columns (1..${DATA_SLOTS - 1})`,
      );
    }
    const n = coefs[0]!.length;
    for (const c of coefs) checkLen('polyEval', coefs[0]!, c);
    for (const x of xs) checkScalar('polyEval', x);
    const res = outs ?? xs.map(() => new BigUint64Array(n));
    const m = this.m64;
    const outSlot = coefs.length;
    // the points 1..q with q <= 7 (Shamir share generation): one pass, small multipliers
    if (
      xs.length <= 7 &&
      xs.every((x, i) => x === BigInt(i + 1)) &&
      outSlot + xs.length <= DATA_SLOTS
    ) {
      for (let i = 0; i < n; i += CHUNK) {
        const len = Math.min(CHUNK, n - i);
        for (let j = 0; j <= deg; j++) m.set(coefs[j]!.subarray(i, i + len), j * CHUNK);
        this.k.sharesmall(0, SLOT_BYTES, deg, xs.length, slot(outSlot), SLOT_BYTES, len);
        for (let q = 0; q < xs.length; q++)
          res[q]!.set(m.subarray((outSlot + q) * CHUNK, (outSlot + q) * CHUNK + len), i);
      }
      return res;
    }
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      for (let j = 0; j <= deg; j++) m.set(coefs[j]!.subarray(i, i + len), j * CHUNK);
      for (let q = 0; q < xs.length; q++) {
        this.k.polyeval(0, SLOT_BYTES, deg, xs[q]!, slot(outSlot), len);
        res[q]!.set(m.subarray(outSlot * CHUNK, outSlot * CHUNK + len), i);
      }
    }
    return res;
  }

  /** out[i] = sum_j lams[j] * cols[j][i] (Lagrange reconstruction, Vandermonde extraction). */
  linComb(cols: readonly Vec[], lams: readonly bigint[], out?: Vec): Vec {
    return this.linCombMany(cols, [lams], out ? [out] : undefined)[0]!;
  }

  /** Several linear combinations of the same columns: out[r][i] = sum_j mat[r][j] * cols[j][i]. */
  linCombMany(cols: readonly Vec[], mat: readonly (readonly bigint[])[], outs?: Vec[]): Vec[] {
    const k = cols.length;
    if (k === 0 || k + 1 > DATA_SLOTS) {
      throw new MpcError('ERR_PARAM', `Field.linComb: ${k} columns (1..${DATA_SLOTS - 1})`);
    }
    const n = cols[0]!.length;
    for (const c of cols) checkLen('linComb', cols[0]!, c);
    const m = this.m64;
    const coefBase = COEF_SLOT * CHUNK;
    if (mat.length * k > 4 * CHUNK)
      throw new MpcError('ERR_PARAM', 'Field.linComb: coefficient table too large');
    for (let r = 0; r < mat.length; r++) {
      const row = mat[r]!;
      if (row.length !== k)
        throw new MpcError(
          'ERR_PARAM',
          `Field.linComb: row ${r} has ${row.length} coefficients, expected ${k}`,
        );
      for (let j = 0; j < k; j++) {
        checkScalar('linComb', row[j]!);
        m[coefBase + r * k + j] = row[j]!;
      }
    }
    const res = outs ?? mat.map(() => new BigUint64Array(n));
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      for (let j = 0; j < k; j++) m.set(cols[j]!.subarray(i, i + len), j * CHUNK);
      for (let r = 0; r < mat.length; r++) {
        const row = mat[r]!;
        if (k === 3) this.k.lincomb3(0, SLOT_BYTES, row[0]!, row[1]!, row[2]!, slot(k), len);
        else if (k === 5)
          this.k.lincomb5(0, SLOT_BYTES, row[0]!, row[1]!, row[2]!, row[3]!, row[4]!, slot(k), len);
        else this.k.lincomb(0, SLOT_BYTES, k, (coefBase + r * k) * 8, slot(k), len);
        res[r]!.set(m.subarray(k * CHUNK, k * CHUNK + len), i);
      }
    }
    return res;
  }

  /**
   * Vandermonde extraction with the points 1..k (k <= 7, rows <= 4): out[q][i] = sum_j (j+1)^q * cols[j][i] for
   * q < rows. Same result as linCombMany with that matrix, with small multipliers instead of full
   * products. With `out` (length rows·n) the rows are written into it back to back (row q at q·n)
   * and returned as views of it, so a caller that wants them concatenated needs no copy.
   */
  vandermonde(cols: readonly Vec[], rows: number, out?: Vec): Vec[] {
    const k = cols.length;
    if (k < 1 || k > 7 || rows < 1 || rows > Math.min(k, 4)) {
      throw new MpcError(
        'ERR_PARAM',
        `Field.vandermonde: ${k} columns (1..7) and ${rows} rows (1..${Math.min(k, 4)})`,
      );
    }
    const n = cols[0]!.length;
    for (const c of cols) checkLen('vandermonde', cols[0]!, c);
    if (out && out.length !== rows * n)
      throw new MpcError(
        'ERR_PARAM',
        `Field.vandermonde: out has ${out.length} elements, expected ${rows} × ${n}`,
      );
    const res = Array.from({ length: rows }, (_, q) =>
      out ? out.subarray(q * n, (q + 1) * n) : new BigUint64Array(n),
    );
    const m = this.m64;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      for (let j = 0; j < k; j++) m.set(cols[j]!.subarray(i, i + len), j * CHUNK);
      this.k.vandermonde(0, SLOT_BYTES, k, rows, slot(k), SLOT_BYTES, len);
      for (let q = 0; q < rows; q++)
        res[q]!.set(m.subarray((k + q) * CHUNK, (k + q) * CHUNK + len), i);
    }
    return res;
  }

  /** out[i] = a[i]^(2^k). */
  pow2k(a: Vec, k: number, out: Vec = new BigUint64Array(a.length)): Vec {
    checkLen('pow2k', a, out);
    const m = this.m64;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      this.k.pow2k(0, k, slot(1), len);
      out.set(m.subarray(CHUNK, CHUNK + len), i);
    }
    return out;
  }

  /** Element-wise inverse (Montgomery's trick: 3 multiplications per element + one exponentiation). */
  batchInv(a: Vec): Vec {
    const n = a.length;
    const pre = new BigUint64Array(n);
    // prefix products, chunk by chunk, carrying the running product
    let carry = 1n;
    const m = this.m64;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      m.set(a.subarray(i, i + len), 0);
      this.k.prefixprod(0, slot(1), len);
      const part = m.subarray(CHUNK, CHUNK + len);
      if (carry !== 1n) this.k.affine(slot(1), carry, 0n, slot(1), len);
      pre.set(part, i);
      carry = pre[i + len - 1]!;
    }
    if (n === 0) return pre;
    if (carry === 0n) {
      const z = a.indexOf(0n);
      throw new MpcError('ERR_PARAM', `Field.batchInv: element ${z} is zero`);
    }
    let inv = invRef(carry);
    const out = new BigUint64Array(n);
    const k = this.k;
    for (let i = n - 1; i > 0; i--) {
      out[i] = k.mulmod(inv, pre[i - 1]!);
      inv = k.mulmod(inv, a[i]!);
    }
    out[0] = inv;
    return out;
  }

  /** Index of the first element that is not a field element (>= p), or -1. */
  firstInvalid(a: Vec): number {
    const m = this.m64;
    for (let i = 0; i < a.length; i += CHUNK) {
      const len = Math.min(CHUNK, a.length - i);
      m.set(a.subarray(i, i + len), 0);
      const j = this.k.firstinvalid(0, len);
      if (j >= 0) return i + j;
    }
    return -1;
  }

  /** n uniform field elements: 61 random bits each, rejecting the single non-element 2^61 - 1. */
  random(n: number, rng: Rng = cryptoRng): Vec {
    const out = new BigUint64Array(n);
    if (n === 0) return out;
    rng.fill(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    const u32 = new Uint32Array(out.buffer, out.byteOffset, n * 2);
    const one = new BigUint64Array(1);
    const oneBytes = new Uint8Array(one.buffer);
    for (let i = 1; i < u32.length; i += 2) {
      u32[i]! &= 0x1fffffff;
      while (u32[i] === 0x1fffffff && u32[i - 1] === 0xffffffff) {
        rng.fill(oneBytes);
        out[(i - 1) >> 1] = one[0]! & P;
      }
    }
    return out;
  }

  /** One uniform field element. */
  randomScalar(rng: Rng = cryptoRng): bigint {
    return this.random(1, rng)[0]!;
  }

  inv(a: bigint): bigint {
    if (mod(a) === 0n) throw new MpcError('ERR_PARAM', 'Field.inv: zero has no inverse');
    return invRef(a);
  }

  pow(a: bigint, e: bigint): bigint {
    return powRef(a, e);
  }
}

/** Lifts a JS integer (possibly negative) into the field: -x maps to p - x. */
export function toField(x: number | bigint): bigint {
  return mod(BigInt(x));
}

/** Interprets a field element as a signed integer in (-p/2, p/2). */
export function fromFieldSigned(x: bigint): bigint {
  return x > P >> 1n ? x - P : x;
}

/** A column from JS integers (negative allowed). */
export function vecFrom(values: ArrayLike<number | bigint>): Vec {
  const v = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) v[i] = toField(values[i]!);
  return v;
}
