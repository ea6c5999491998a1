/**
 * Share bundles: a committee member's shares of a dataset, encrypted to its node key.
 *
 * ECIES over secp256k1: the dealer makes a fresh ephemeral key per bundle;
 *   shared = x-coordinate of ECDH(ephemeral, recipient)          (32 bytes)
 *   key    = HKDF-SHA256(ikm = shared, salt = ephPub || recipientPub, info = "confide/share-bundle/v1")
 * and AES-256-GCM (WebCrypto) seals the bundle frame by frame: frame i has nonce 0^4 || u64le(i)
 * (unique per key: the key is unique per bundle) and associated data = header || u32le(i).
 * The header carries, in the clear but authenticated by every frame, the dataset id, version,
 * member index and frame count: a frame moved to another bundle, member or version, reordered,
 * dropped or truncated fails authentication; the opener also checks the header against what it
 * expects (BUNDLE_CONTEXT).
 *
 *   header  'CFS1' | ephPub (33) | datasetId (32) | version u32le | memberIndex u16le | frames u32le
 *   frame   u32le length | AES-GCM ciphertext with 16-byte tag
 *   frame 0 plaintext: JSON {"chunkSize":n,"columns":[{"name":..,"rows":..}]}
 *   frame k plaintext: u16le column | u32le chunk | shares (8 bytes each, LE)
 *
 * Derived columns come last in that list, as {"name","rows","derive":{"lo":"<decimal>","bits":[names]}},
 * and have no frames: the member computes its shares as lo + Σ_j 2^j·(its shares of bits[j]), the
 * listed columns being the bit decomposition of x − lo (src/storage/bits.ts). A sharing's linear
 * combination is a sharing of the combination, so all members hold one degree-t sharing of x, and
 * the value vector of a bit-decomposed column costs nothing on the wire.
 *
 * A seeded bundle (`sealSeededBundle`) has frame 0 only, its JSON adding "seed": 64 hex digits:
 * the member's shares of column ci, chunk k are the PRG expansion of the seed at (step ci,
 * stream k) (src/mpc/prg.ts, AES-256-CTR). The owner gives t of the c members a seed and
 * computes the others' shares through the points the seeds fix (src/storage/upload.ts), so a
 * degree-t sharing costs c − t share vectors on the wire instead of c.
 *
 * Sender authentication is out of scope here: anyone can encrypt to a node key. What binds the
 * data to the owner is the owner's on-chain registration of the members' receipts (Merkle roots of
 * what each member stored); a member fed forged shares produces a receipt the owner does not register.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Field, prgExpand, prgKey, toField, type PrgKey } from '../mpc/index';
import { concatBytes, fromHex, shareBytes, toHex, u16le, u32le, utf8 } from './bytes';
import { StorageError } from './errors';
import { FIELD_P, MAX_CHUNK_SIZE, MAX_COLUMNS, checkDatasetId } from './store';

const MAGIC = utf8.encode('CFS1');
const HEADER_LEN = 4 + 33 + 32 + 4 + 2 + 4;
const TAG = 16;
const INFO = utf8.encode('confide/share-bundle/v1');
/** At most this many frames (chunks + metadata) per bundle: 2^20 chunks of up to 2^21 shares. */
export const MAX_FRAMES = 1 << 20;

export interface BundleContext {
  datasetId: string;
  version: number;
  memberIndex: number;
}

/**
 * A column whose shares every member computes from others: lo + Σ_j 2^j·bits[j] (the bit
 * decomposition of x − lo, least significant first, each a column of the same bundle).
 */
export interface DerivedColumn {
  name: string;
  rows: number;
  lo: bigint;
  bits: string[];
}

/** Plaintext bundle; the same shape as the store's `PartitionInput`, so it can be written as is. */
export interface ShareBundle extends BundleContext {
  chunkSize: number;
  columns: { name: string; shares: BigUint64Array }[];
  /** Stored after `columns`, computed by the member (no frames). */
  derived?: readonly DerivedColumn[];
}

/** A member's bundle that carries a PRG seed in place of its shares. */
export interface SeededBundle extends BundleContext {
  chunkSize: number;
  /** SEED_BYTES random bytes. */
  seed: Uint8Array;
  columns: { name: string; rows: number }[];
  derived?: readonly DerivedColumn[];
}

const derivedMeta = (d: readonly DerivedColumn[] | undefined) =>
  (d ?? []).map((c) => ({
    name: c.name,
    rows: c.rows,
    derive: { lo: toField(c.lo).toString(), bits: c.bits },
  }));

export const SEED_BYTES = 32;

/** The PRG key of a seed (the 32 bytes as AES-256 key material). */
export function seedKey(seed: Uint8Array): Promise<PrgKey> {
  if (seed.length !== SEED_BYTES)
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `seed must be ${SEED_BYTES} bytes, got ${seed.length}`,
    );
  return prgKey(new BigUint64Array(seed.slice().buffer));
}

/** Shares of column `ci`, chunk `k` (n rows) that a seed stands for. */
export function seededChunk(
  key: PrgKey,
  ci: number,
  k: number,
  n: number,
): Promise<BigUint64Array> {
  return prgExpand(key, ci, k, n);
}

export interface SealOptions {
  /** Called after each frame with (frames done, frames total), for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new StorageError('BUNDLE_MALFORMED', 'WebCrypto is not available (an insecure origin?)');
  return s;
}

async function deriveKey(
  sharedPoint: Uint8Array,
  ephPub: Uint8Array,
  recipientPub: Uint8Array,
): Promise<CryptoKey> {
  const raw = hkdf(
    sha256,
    sharedPoint.subarray(1, 33),
    concatBytes(ephPub, recipientPub),
    INFO,
    32,
  );
  try {
    return await subtle().importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    raw.fill(0);
  }
}

function nonce(i: number): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(4, i, true);
  return n;
}

function aad(header: Uint8Array, i: number): Uint8Array<ArrayBuffer> {
  return concatBytes(header, u32le(i)) as Uint8Array<ArrayBuffer>;
}

function checkContext(ctx: BundleContext, where: string): void {
  checkDatasetId(ctx.datasetId, where);
  if (!Number.isInteger(ctx.version) || ctx.version < 1 || ctx.version > 0xffffffff) {
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `${where}: version must be 1..2^32-1, got ${ctx.version}`,
    );
  }
  if (!Number.isInteger(ctx.memberIndex) || ctx.memberIndex < 0 || ctx.memberIndex > 0xfffe) {
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `${where}: member index must be 0..65534, got ${ctx.memberIndex}`,
    );
  }
}

/** Encrypts a member's bundle to its node public key (33-byte compressed secp256k1). */
export async function sealShareBundle(
  bundle: ShareBundle,
  recipientPublicKey: Uint8Array,
  opts: SealOptions = {},
): Promise<Uint8Array> {
  const { chunkSize } = bundle;
  checkShape(bundle, recipientPublicKey, 'sealShareBundle');
  const chunks: { col: number; chunk: number; shares: BigUint64Array }[] = [];
  bundle.columns.forEach((c, ci) => {
    for (let k = 0; k * chunkSize < c.shares.length; k++) {
      chunks.push({
        col: ci,
        chunk: k,
        shares: c.shares.subarray(k * chunkSize, (k + 1) * chunkSize),
      });
    }
  });
  return sealFrames(
    bundle,
    {
      chunkSize,
      columns: [
        ...bundle.columns.map((c) => ({ name: c.name, rows: c.shares.length })),
        ...derivedMeta(bundle.derived),
      ],
    },
    chunks,
    recipientPublicKey,
    opts,
  );
}

/**
 * Encrypts a seeded bundle (one frame: the metadata with the seed) to the member's node key; the
 * member expands the seed into its shares (`openShareBundleStream`).
 */
export async function sealSeededBundle(
  bundle: SeededBundle,
  recipientPublicKey: Uint8Array,
  opts: SealOptions = {},
): Promise<Uint8Array> {
  checkShape(bundle, recipientPublicKey, 'sealSeededBundle');
  if (bundle.seed.length !== SEED_BYTES)
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `sealSeededBundle: seed must be ${SEED_BYTES} bytes, got ${bundle.seed.length}`,
    );
  return sealFrames(
    bundle,
    {
      chunkSize: bundle.chunkSize,
      columns: [...bundle.columns, ...derivedMeta(bundle.derived)],
      seed: toHex(bundle.seed),
    },
    [],
    recipientPublicKey,
    opts,
  );
}

function checkShape(
  bundle: BundleContext & { chunkSize: number; columns: readonly unknown[] },
  recipientPublicKey: Uint8Array,
  where: string,
): void {
  checkContext(bundle, where);
  if (
    !secp256k1.utils.isValidPublicKey(recipientPublicKey, true) ||
    recipientPublicKey.length !== 33
  ) {
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `${where}: recipient key is not a compressed secp256k1 public key`,
    );
  }
  const { chunkSize } = bundle;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new StorageError('BUNDLE_MALFORMED', `${where}: chunk size must be 1..${MAX_CHUNK_SIZE}`);
  }
  if (bundle.columns.length === 0 || bundle.columns.length > MAX_COLUMNS) {
    throw new StorageError('BUNDLE_MALFORMED', `${where}: 1..${MAX_COLUMNS} columns required`);
  }
}

async function sealFrames(
  ctx: BundleContext,
  metaJson: object,
  chunks: readonly { col: number; chunk: number; shares: BigUint64Array }[],
  recipientPublicKey: Uint8Array,
  opts: SealOptions,
): Promise<Uint8Array> {
  const total = 1 + chunks.length;
  if (total > MAX_FRAMES)
    throw new StorageError('BUNDLE_MALFORMED', `sealShareBundle: more than ${MAX_FRAMES} frames`);

  const eph = secp256k1.utils.randomSecretKey();
  const ephPub = secp256k1.getPublicKey(eph, true);
  const shared = secp256k1.getSharedSecret(eph, recipientPublicKey, true);
  eph.fill(0);
  const key = await deriveKey(shared, ephPub, recipientPublicKey);
  shared.fill(0);
  const header = concatBytes(
    MAGIC,
    ephPub,
    fromHex(ctx.datasetId, 32, 'datasetId'),
    u32le(ctx.version),
    u16le(ctx.memberIndex),
    u32le(total),
  );

  const meta = utf8.encode(JSON.stringify(metaJson));
  const parts: Uint8Array[] = [header];
  const seal = async (i: number, plain: Uint8Array<ArrayBuffer>): Promise<void> => {
    const ct = new Uint8Array(
      await subtle().encrypt(
        { name: 'AES-GCM', iv: nonce(i), additionalData: aad(header, i) },
        key,
        plain,
      ),
    );
    parts.push(u32le(ct.length), ct);
    opts.onProgress?.(i + 1, total);
  };
  await seal(0, meta as Uint8Array<ArrayBuffer>);
  meta.fill(0);
  for (let i = 0; i < chunks.length; i++) {
    const { col, chunk, shares } = chunks[i]!;
    const plain = concatBytes(
      u16le(col),
      u32le(chunk),
      shareBytes(shares),
    ) as Uint8Array<ArrayBuffer>;
    await seal(i + 1, plain);
    plain.fill(0);
  }
  return concatBytes(...parts);
}

/** Reads the clear-text header (for routing) without decrypting. */
export function peekBundleHeader(
  sealed: Uint8Array,
): BundleContext & { frames: number; ephemeralPublicKey: Uint8Array } {
  if (sealed.length < HEADER_LEN || MAGIC.some((b, i) => sealed[i] !== b)) {
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `share bundle: bad magic or shorter than its ${HEADER_LEN}-byte header`,
    );
  }
  const dv = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  return {
    ephemeralPublicKey: sealed.slice(4, 37),
    datasetId: toHex(sealed.subarray(37, 69)),
    version: dv.getUint32(69, true),
    memberIndex: dv.getUint16(73, true),
    frames: dv.getUint32(75, true),
  };
}

let sharedField: Field | undefined;
const bundleField = (): Field => (sharedField ??= new Field());

/**
 * The derived columns at the end of a bundle's column list, checked: each names 1..31 distinct
 * earlier, non-derived columns of the same length as its bits, and lo is a field element.
 */
function checkDerived(
  columns: readonly { name: unknown; rows: unknown; derive?: { lo?: unknown; bits?: unknown } }[],
): { rows: number; lo: bigint; sources: number[] }[] {
  const bad = (m: string) => new StorageError('BUNDLE_MALFORMED', `share bundle: ${m}`);
  let first = columns.findIndex((c) => c.derive !== undefined);
  if (first < 0) first = columns.length;
  const byName = new Map<unknown, number>();
  columns.slice(0, first).forEach((c, ci) => byName.set(c.name, ci));
  return columns.slice(first).map((c) => {
    const d = c.derive;
    if (d === undefined)
      throw bad(`column ${String(c.name)} comes after a derived column but is not derived`);
    if (typeof c.name !== 'string' || !Number.isInteger(c.rows) || (c.rows as number) < 0)
      throw bad('bad column metadata');
    if (typeof d.lo !== 'string' || !/^[0-9]{1,19}$/.test(d.lo) || BigInt(d.lo) >= FIELD_P)
      throw bad(`derived column ${c.name}: lo is not a field element`);
    if (
      !Array.isArray(d.bits) ||
      d.bits.length < 1 ||
      d.bits.length > 31 ||
      new Set(d.bits).size !== d.bits.length
    )
      throw bad(`derived column ${c.name}: bits must name 1 to 31 distinct columns`);
    const sources = d.bits.map((b: unknown) => {
      const ci = byName.get(b);
      if (ci === undefined || columns[ci]!.rows !== c.rows)
        throw bad(
          `derived column ${c.name}: ${String(b)} is not a column of ${c.rows} rows before it`,
        );
      return ci;
    });
    return { rows: c.rows as number, lo: BigInt(d.lo), sources };
  });
}

/** Decrypts a bundle chunk by chunk, checking it is for the expected dataset, version and member. */
export async function openShareBundleStream(
  sealed: Uint8Array,
  recipientSecretKey: Uint8Array,
  expect: BundleContext,
  onChunk: (
    columnIndex: number,
    chunkIndex: number,
    shares: BigUint64Array,
  ) => void | Promise<void>,
): Promise<OpenedBundleInfo> {
  const h = peekBundleHeader(sealed);
  if (
    h.datasetId !== expect.datasetId ||
    h.version !== expect.version ||
    h.memberIndex !== expect.memberIndex
  ) {
    throw new StorageError(
      'BUNDLE_CONTEXT',
      `share bundle is for dataset ${h.datasetId.slice(0, 16)}… v${h.version} member ${h.memberIndex}, expected ${expect.datasetId.slice(0, 16)}… v${expect.version} member ${expect.memberIndex}`,
      { datasetId: expect.datasetId, version: expect.version, member: expect.memberIndex },
    );
  }
  if (h.frames < 1 || h.frames > MAX_FRAMES)
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `share bundle: frame count ${h.frames} out of range`,
    );
  let shared: Uint8Array;
  try {
    shared = secp256k1.getSharedSecret(recipientSecretKey, h.ephemeralPublicKey, true);
  } catch (e) {
    throw new StorageError(
      'BUNDLE_MALFORMED',
      'share bundle: ephemeral key is not a valid secp256k1 point',
      {},
      { cause: e },
    );
  }
  const myPub = secp256k1.getPublicKey(recipientSecretKey, true);
  const key = await deriveKey(shared, h.ephemeralPublicKey, myPub);
  shared.fill(0);
  const header = sealed.subarray(0, HEADER_LEN);
  const dv = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  let off = HEADER_LEN;
  const open = async (i: number): Promise<Uint8Array> => {
    if (off + 4 > sealed.length)
      throw new StorageError('BUNDLE_MALFORMED', `share bundle: truncated before frame ${i}`);
    const len = dv.getUint32(off, true);
    if (len < TAG || off + 4 + len > sealed.length)
      throw new StorageError(
        'BUNDLE_MALFORMED',
        `share bundle: frame ${i} length ${len} runs past the end`,
      );
    const ct = sealed.slice(off + 4, off + 4 + len);
    off += 4 + len;
    try {
      return new Uint8Array(
        await subtle().decrypt(
          { name: 'AES-GCM', iv: nonce(i), additionalData: aad(header, i) },
          key,
          ct,
        ),
      );
    } catch (e) {
      throw new StorageError(
        'BUNDLE_AUTH',
        `share bundle: frame ${i} fails authentication (tampered, reordered or not for this node)`,
        { member: expect.memberIndex },
        { cause: e },
      );
    }
  };
  let meta: {
    chunkSize: number;
    columns: { name: string; rows: number; derive?: { lo?: unknown; bits?: unknown } }[];
    seed?: unknown;
  };
  try {
    meta = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(await open(0)),
    ) as typeof meta;
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(
      'BUNDLE_MALFORMED',
      'share bundle: metadata frame is not JSON',
      {},
      { cause: e },
    );
  }
  const cs = meta.chunkSize;
  if (
    !Number.isInteger(cs) ||
    cs < 1 ||
    cs > MAX_CHUNK_SIZE ||
    !Array.isArray(meta.columns) ||
    meta.columns.length === 0 ||
    meta.columns.length > MAX_COLUMNS
  ) {
    throw new StorageError('BUNDLE_MALFORMED', 'share bundle: metadata out of range');
  }
  const seeded = meta.seed !== undefined;
  if (seeded && (typeof meta.seed !== 'string' || !/^[0-9a-f]{64}$/.test(meta.seed)))
    throw new StorageError('BUNDLE_MALFORMED', 'share bundle: seed is not 32 bytes of hex');
  let expectedFrames = 1;
  // the columns with frames (or seed streams) first, then the derived ones
  const derived = checkDerived(meta.columns);
  const sent = meta.columns.length - derived.length;
  for (const c of meta.columns.slice(0, sent)) {
    if (typeof c.name !== 'string' || !Number.isInteger(c.rows) || c.rows < 0)
      throw new StorageError('BUNDLE_MALFORMED', 'share bundle: bad column metadata');
    if (!seeded) expectedFrames += Math.ceil(c.rows / cs);
  }
  if (expectedFrames !== h.frames)
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `share bundle: metadata implies ${expectedFrames} frames, header says ${h.frames}`,
    );
  const info = {
    datasetId: h.datasetId,
    version: h.version,
    memberIndex: h.memberIndex,
    chunkSize: cs,
    columns: meta.columns.map((c) => ({ name: c.name, rows: c.rows })),
  };
  /** Frame i: column ci, chunk k, n shares, each checked to be reduced. */
  const readChunk = async (
    i: number,
    ci: number,
    k: number,
    n: number,
  ): Promise<BigUint64Array> => {
    const plain = await open(i);
    const pdv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    if (
      plain.length !== 6 + 8 * n ||
      pdv.getUint16(0, true) !== ci ||
      pdv.getUint32(2, true) !== k
    ) {
      throw new StorageError(
        'BUNDLE_MALFORMED',
        `share bundle: frame ${i} is not column ${ci} chunk ${k}`,
      );
    }
    const shares = new BigUint64Array(n);
    shareBytes(shares).set(plain.subarray(6));
    plain.fill(0);
    for (let j = 0; j < n; j++) {
      if (shares[j]! >= FIELD_P) {
        throw new StorageError(
          'BUNDLE_MALFORMED',
          `share bundle: column ${meta.columns[ci]!.name} share ${k * cs + j} is not reduced mod p`,
        );
      }
    }
    return shares;
  };
  // A seeded bundle's chunks come from its seed, the others' from their frames.
  let prg: PrgKey | undefined;
  if (seeded) {
    const seed = fromHex(meta.seed as string, SEED_BYTES, 'seed');
    prg = await seedKey(seed);
    seed.fill(0);
  }
  // sums of the derived columns, Σ_j 2^j·bits[j], accumulated as their source chunks go by
  const F = derived.length ? bundleField() : undefined;
  const acc = derived.map((d) => new BigUint64Array(d.rows));
  const feeds = new Map<number, { d: number; weight: bigint }[]>();
  derived.forEach((d, di) =>
    d.sources.forEach((ci, j) => {
      const list = feeds.get(ci) ?? [];
      list.push({ d: di, weight: 1n << BigInt(j) });
      feeds.set(ci, list);
    }),
  );
  let i = 1;
  for (let ci = 0; ci < sent; ci++) {
    const rows = meta.columns[ci]!.rows;
    for (let k = 0; k * cs < rows; k++) {
      const n = Math.min(cs, rows - k * cs);
      const shares = prg ? await seededChunk(prg, ci, k, n) : await readChunk(i++, ci, k, n);
      for (const f of feeds.get(ci) ?? []) {
        const a = acc[f.d]!.subarray(k * cs, k * cs + n);
        F!.axpy(shares, f.weight, a, a);
      }
      await onChunk(ci, k, shares);
    }
  }
  for (let di = 0; di < derived.length; di++) {
    const d = derived[di]!;
    const a = acc[di]!;
    F!.addConst(a, d.lo, a);
    for (let k = 0; k * cs < d.rows; k++)
      await onChunk(sent + di, k, a.slice(k * cs, Math.min(d.rows, (k + 1) * cs)));
    a.fill(0n);
  }
  if (off !== sealed.length)
    throw new StorageError(
      'BUNDLE_MALFORMED',
      `share bundle: ${sealed.length - off} trailing bytes`,
    );
  return info;
}

export interface OpenedBundleInfo extends BundleContext {
  chunkSize: number;
  columns: { name: string; rows: number }[];
}

/**
 * Decrypts and checks a bundle addressed to this node for the expected dataset, version and member,
 * into memory. `openShareBundleStream` hands over chunk by chunk instead (lower peak memory): its
 * chunks are only trustworthy once it has resolved (the last frames are checked last).
 */
export async function openShareBundle(
  sealed: Uint8Array,
  recipientSecretKey: Uint8Array,
  expect: BundleContext,
): Promise<ShareBundle> {
  const parts: BigUint64Array[][] = [];
  const info = await openShareBundleStream(sealed, recipientSecretKey, expect, (ci, _k, shares) => {
    (parts[ci] ??= []).push(shares);
  });
  const columns = info.columns.map((c, ci) => {
    const out = new BigUint64Array(c.rows);
    let o = 0;
    for (const part of parts[ci] ?? []) {
      out.set(part, o);
      o += part.length;
    }
    return { name: c.name, shares: out };
  });
  return {
    datasetId: info.datasetId,
    version: info.version,
    memberIndex: info.memberIndex,
    chunkSize: info.chunkSize,
    columns,
  };
}
