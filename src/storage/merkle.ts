/**
 * Merkle commitment to a node's partition (RFC 6962 shape, SHA-256, domain-separated):
 *   leaf  = sha256(0x00 || leafData)
 *   node  = sha256(0x01 || left || right)
 * The tree over n leaves splits at the largest power of two below n, so no leaf is duplicated and
 * a second preimage from an interior node is impossible. The empty tree's root is sha256("").
 *
 * A partition's leaves are its chunks in canonical order (columns in schema order, chunks
 * ascending); see `chunkLeaf`. A member's signed receipt carries this root; the chain stores it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, u16le, u32le } from './bytes';
import { StorageError } from './errors';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export function leafHash(leafData: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF, leafData));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE, left, right));
}

/** Leaf data of one stored chunk: column index, chunk index, number of shares and the chunk's sha256. */
export function chunkLeaf(
  columnIndex: number,
  chunkIndex: number,
  length: number,
  chunkHash: Uint8Array,
): Uint8Array {
  if (chunkHash.length !== 32) {
    throw new StorageError(
      'MERKLE_BAD_INPUT',
      `chunkLeaf: expected a 32-byte hash, got ${chunkHash.length} bytes`,
    );
  }
  return concatBytes(u16le(columnIndex), u32le(chunkIndex), u32le(length), chunkHash);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Root over already-hashed leaves (each 32 bytes). */
export function merkleRootOfHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  for (let i = 0; i < leaves.length; i++) {
    if (leaves[i]!.length !== 32) {
      throw new StorageError(
        'MERKLE_BAD_INPUT',
        `merkleRoot: leaf ${i} is ${leaves[i]!.length} bytes, expected 32`,
      );
    }
  }
  const rec = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leaves[lo]!;
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(rec(lo, lo + k), rec(lo + k, hi));
  };
  return rec(0, leaves.length);
}

/** Root over raw leaf data (hashes each with the leaf prefix first). */
export function merkleRoot(leafData: readonly Uint8Array[]): Uint8Array {
  return merkleRootOfHashes(leafData.map(leafHash));
}

/** Audit path for leaf `index`: sibling hashes from the bottom up. */
export function merkleProof(leafData: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafData.length) {
    throw new StorageError(
      'MERKLE_BAD_INPUT',
      `merkleProof: index ${index} out of range 0..${leafData.length - 1}`,
    );
  }
  const hashes = leafData.map(leafHash);
  const path: Uint8Array[] = [];
  const rec = (lo: number, hi: number, i: number): void => {
    if (hi - lo === 1) return;
    const k = largestPowerOfTwoBelow(hi - lo);
    if (i < lo + k) {
      rec(lo, lo + k, i);
      path.push(merkleRootOfHashes(hashes.slice(lo + k, hi)));
    } else {
      rec(lo + k, hi, i);
      path.push(merkleRootOfHashes(hashes.slice(lo, lo + k)));
    }
  };
  rec(0, hashes.length, index);
  return path;
}

/** Checks an audit path (RFC 6962 §2.1.1 verification) for leaf `index` of a tree of `size` leaves. */
export function verifyMerkleProof(
  root: Uint8Array,
  leafData: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size)
    return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(leafData);
  for (const p of path) {
    if (sn === 0 || p.length !== 32) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1) === 0) {
        while ((fn & 1) === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && equalBytes(r, root);
}
