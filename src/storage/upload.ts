/**
 * The upload pipeline's pure steps (no DOM, no network): run `shareAndSeal` in a Web Worker on the
 * owner's side; run `acceptShareBundle` on each committee member; the owner then checks the
 * receipts with `collectReceipts` and registers the dataset on chain with the commitments only
 * when all c receipts are valid.
 *
 *   owner:  CSV -> parseCsv -> inferSchema -> (owner confirms) -> validateAndEncode
 *           -> acceptValidation -> shareAndSeal -> send sealed[j] to member j (mesh)
 *   member: acceptShareBundle (decrypt, check, store, sign) -> receipt back to owner
 *   owner:  collectReceipts -> register on chain (schema hash, committee, roots)
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { checkParams, cryptoRng, Field, lagrangeAt, xOf, type Rng } from '../mpc/index';
import { fromHex, toHex } from './bytes';
import {
  openShareBundleStream,
  sealSeededBundle,
  sealShareBundle,
  seededChunk,
  seedKey,
  SEED_BYTES,
  type BundleContext,
  type DerivedColumn,
} from './bundle';
import { StorageError } from './errors';
import { signReceipt, verifyReceipt, type Receipt } from './receipt';
import type { AcceptedDataset } from './schema';
import { DEFAULT_CHUNK_SIZE, type PartitionManifest, type ShareStore } from './store';

export interface UploadMember {
  memberIndex: number;
  /** Compressed secp256k1 node key (33 bytes) from the chain's registry. */
  publicKey: Uint8Array;
}

export interface UploadTarget {
  datasetId: string;
  /** 1 for a first upload. */
  version: number;
  t: number;
  /** Committee in member order: members[j].memberIndex === j. */
  members: UploadMember[];
  chunkSize?: number;
}

export interface SealedForMember {
  memberIndex: number;
  sealed: Uint8Array;
}

export interface UploadProgress {
  phase: 'share' | 'seal' | 'send';
  done: number;
  total: number;
}

/**
 * Secret-shares every accepted column (degree t, c = members.length) and seals each member's bundle
 * to its key. The plaintext columns are not modified; the caller drops them afterwards.
 *
 * Members 0..t−1 get a seeded bundle: a fresh 32-byte seed whose PRG expansion (`seededChunk`) is
 * their share vector of every column. Those t pseudo-random shares and the secret fix the degree-t
 * polynomial of each value, so the other members' shares are the Lagrange combinations
 * f(x_m) = λ_m0·s + Σ_j λ_mj·f(x_j) through the points 0, x_0..x_(t−1). A uniformly random
 * polynomial with f(0) = s and t shares chosen uniformly at random are the same distribution, so
 * this is Shamir sharing with pseudo-random coefficients (AES-256-CTR, as the engine's double
 * sharings); the bytes on the wire drop from c share vectors to c − t (2 of 5 members with t = 2).
 *
 * Columns named in `opts.derived` (a value column stored beside its bit decomposition) are not
 * shared at all: each member computes its shares from its shares of the bits (src/storage/bundle.ts),
 * so the value vector costs nothing on the wire.
 */
export async function shareAndSeal(
  data: AcceptedDataset,
  target: UploadTarget,
  opts: {
    field?: Field;
    rng?: Rng;
    onProgress?: (p: UploadProgress) => void;
    derived?: readonly { name: string; lo: bigint; bits: string[] }[];
  } = {},
): Promise<SealedForMember[]> {
  const c = target.members.length;
  const derivedNames = new Set((opts.derived ?? []).map((d) => d.name));
  const shared = data.columns.filter((col) => !derivedNames.has(col.name));
  const derived: DerivedColumn[] = (opts.derived ?? []).map((d) => {
    const col = data.columns.find((x) => x.name === d.name);
    const sources = d.bits.map((b) => shared.find((x) => x.name === b));
    if (!col || sources.some((x) => x === undefined))
      throw new StorageError(
        'STORE_BAD_INPUT',
        `shareAndSeal: derived column ${d.name} needs itself and its bit columns in the dataset`,
      );
    return { name: d.name, rows: col.values.length, lo: d.lo, bits: d.bits };
  });
  target.members.forEach((m, j) => {
    if (m.memberIndex !== j)
      throw new StorageError(
        'PLACEMENT_BAD_PARAMS',
        `shareAndSeal: members[${j}] has member index ${m.memberIndex}`,
      );
  });
  checkParams(c, target.t, 'shareAndSeal');
  const F = opts.field ?? new Field();
  const rng = opts.rng ?? cryptoRng;
  const chunkSize = target.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const seeded = target.t;
  const seeds = Array.from({ length: seeded }, () => {
    const b = new Uint8Array(SEED_BYTES);
    rng.fill(b);
    return b;
  });
  const keys = await Promise.all(seeds.map(seedKey));
  const points = [0n, ...seeds.map((_, j) => xOf(j))];
  const perMember: { name: string; shares: BigUint64Array }[][] = Array.from(
    { length: c },
    () => [],
  );
  for (let k = 0; k < shared.length; k++) {
    const col = shared[k]!;
    const rows = col.values.length;
    // the seeded members' shares, chunk by chunk as they expand them
    const prg = await Promise.all(
      keys.map(async (key) => {
        const out = new BigUint64Array(rows);
        for (let ch = 0; ch * chunkSize < rows; ch++) {
          const n = Math.min(chunkSize, rows - ch * chunkSize);
          out.set(await seededChunk(key, k, ch, n), ch * chunkSize);
        }
        return out;
      }),
    );
    for (let m = seeded; m < c; m++)
      perMember[m]!.push({
        name: col.name,
        shares: F.linComb([col.values, ...prg], lagrangeAt(points, xOf(m))),
      });
    for (const v of prg) v.fill(0n);
    opts.onProgress?.({ phase: 'share', done: k + 1, total: shared.length });
  }
  const out: SealedForMember[] = [];
  for (let j = 0; j < c; j++) {
    const ctx = {
      datasetId: target.datasetId,
      version: target.version,
      memberIndex: j,
      chunkSize,
    };
    const sealed =
      j < seeded
        ? await sealSeededBundle(
            {
              ...ctx,
              seed: seeds[j]!,
              columns: shared.map((col) => ({ name: col.name, rows: col.values.length })),
              derived,
            },
            target.members[j]!.publicKey,
          )
        : await sealShareBundle(
            { ...ctx, columns: perMember[j]!, derived },
            target.members[j]!.publicKey,
          );
    if (j < seeded) seeds[j]!.fill(0);
    for (const col of perMember[j]!) col.shares.fill(0n);
    out.push({ memberIndex: j, sealed });
    opts.onProgress?.({ phase: 'seal', done: j + 1, total: c });
  }
  return out;
}

/**
 * Member side: decrypt a bundle addressed to this node, check it is for the expected dataset,
 * version and member index, store it as the new current version, and sign a receipt over the
 * partition's Merkle root. A bundle that fails part-way leaves only staged chunks, which are never
 * read and are dropped by the next commit.
 */
export async function acceptShareBundle(
  store: ShareStore,
  sealed: Uint8Array,
  nodeSecretKey: Uint8Array,
  expect: BundleContext,
  meta: Record<string, string | number> = {},
): Promise<{ manifest: PartitionManifest; receipt: Receipt }> {
  // Stream: each decrypted chunk is staged (never current), then one commit flips the pointer
  // only after the whole bundle authenticated. Peak memory ~ the sealed bundle plus one chunk.
  const info = await openShareBundleStream(sealed, nodeSecretKey, expect, async (ci, k, shares) => {
    await store.stageChunk(expect.datasetId, expect.version, ci, k, shares);
    shares.fill(0n);
  });
  const manifest = await store.commitPartition(
    {
      datasetId: info.datasetId,
      version: info.version,
      memberIndex: info.memberIndex,
      chunkSize: info.chunkSize,
      meta,
    },
    info.columns,
  );
  const receipt = signReceipt(
    {
      datasetId: manifest.datasetId,
      version: manifest.version,
      memberIndex: manifest.memberIndex,
      merkleRoot: manifest.merkleRoot,
    },
    nodeSecretKey,
  );
  return { manifest, receipt };
}

/**
 * Owner side: checks one receipt per member (right dataset, version, member index, signed by that
 * member's registered key). Returns the Merkle roots in member order, ready for the chain; throws
 * RECEIPT_INVALID naming the members whose receipt is missing or invalid.
 */
export function collectReceipts(target: UploadTarget, receipts: readonly Receipt[]): string[] {
  const roots: (string | undefined)[] = new Array<string | undefined>(target.members.length).fill(
    undefined,
  );
  const problems: string[] = [];
  for (const r of receipts) {
    const m = target.members[r.memberIndex];
    if (!m) {
      problems.push(`receipt for unknown member ${r.memberIndex}`);
      continue;
    }
    try {
      verifyReceipt(r, { publicKey: m.publicKey });
      if (r.datasetId !== target.datasetId || r.version !== target.version)
        throw new Error('dataset or version differs');
      roots[r.memberIndex] = r.merkleRoot;
    } catch (e) {
      problems.push(`member ${r.memberIndex}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  roots.forEach((r, j) => {
    if (r === undefined && !problems.some((p) => p.startsWith(`member ${j}:`)))
      problems.push(`member ${j}: no receipt`);
  });
  if (problems.length) {
    throw new StorageError(
      'RECEIPT_INVALID',
      `dataset ${target.datasetId.slice(0, 16)}… cannot be registered: ${problems.join('; ')}`,
      {
        datasetId: target.datasetId,
      },
    );
  }
  return roots as string[];
}

/**
 * The owner's whole upload, framework-free: share and seal, hand each member its bundle through
 * `send` (the mesh; resolves with the member's receipt), and return the c Merkle roots in member
 * order once every receipt checks out — only then may the dataset be registered on chain.
 * Run it in a worker; `onProgress` drives the progress bar.
 */
export async function uploadDataset(
  data: AcceptedDataset,
  target: UploadTarget,
  send: (memberIndex: number, sealed: Uint8Array) => Promise<Receipt>,
  opts: { field?: Field; rng?: Rng; onProgress?: (p: UploadProgress) => void } = {},
): Promise<{ roots: string[]; receipts: Receipt[] }> {
  const sealed = await shareAndSeal(data, target, opts);
  let done = 0;
  const settled = await Promise.allSettled(
    sealed.map(async (s) => {
      const r = await send(s.memberIndex, s.sealed);
      opts.onProgress?.({ phase: 'send', done: ++done, total: sealed.length });
      return r;
    }),
  );
  const receipts: Receipt[] = [];
  const failures: string[] = [];
  settled.forEach((r, j) => {
    if (r.status === 'fulfilled') receipts.push(r.value);
    else
      failures.push(
        `member ${j}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`,
      );
  });
  if (failures.length) {
    throw new StorageError(
      'RECEIPT_INVALID',
      `dataset ${target.datasetId.slice(0, 16)}… not stored by every member: ${failures.join('; ')}`,
      {
        datasetId: target.datasetId,
      },
    );
  }
  return { roots: collectReceipts(target, receipts), receipts };
}

/** A fresh node key pair (for node consoles and tests); the secret never leaves the node. */
export function newNodeKey(): {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  publicKeyHex: string;
} {
  const secretKey = secp256k1.utils.randomSecretKey();
  const publicKey = secp256k1.getPublicKey(secretKey, true);
  return { secretKey, publicKey, publicKeyHex: toHex(publicKey) };
}

export function publicKeyFromHex(hex: string): Uint8Array {
  return fromHex(hex, 33, 'node public key');
}
