/**
 * DHT placement (Kademlia-style, the whitepaper's network reduction).
 *
 * - A node id is sha256 of the node's compressed secp256k1 public key (33 bytes): 256-bit ids,
 *   uniformly spread, so nobody can pick a position without grinding keys (and every key must be
 *   registered on chain with a deposit).
 * - A dataset id is a 256-bit id too (e.g. `deriveDatasetId(owner, salt)`).
 * - The directory is the chain's node registry intersected with presence on the mesh. A dataset's
 *   committee is the c eligible (registered AND online) nodes closest to the dataset id by XOR
 *   distance, member index i = i-th closest. Every party with the same directory computes the same
 *   committee locally; ties are impossible because ids are distinct.
 * - On churn, a member that is gone is replaced by the closest eligible node that is not a member;
 *   the replacement takes the vacated member index (its Shamir x-coordinate), so the other members
 *   keep theirs. The chain records the resulting committee; after churn it is no longer exactly
 *   "the c closest", which is why `responsibleDatasets` reads the recorded committee.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes';
import { StorageError } from './errors';

/** 32-byte id, lower-case hex without 0x. */
export type Id256 = string;

export interface DirectoryEntry {
  /** sha256(publicKey), hex. */
  id: Id256;
  /** Compressed secp256k1 public key (33 bytes). */
  publicKey: Uint8Array;
  /** Registered on chain with a deposit (and not slashed/exited). */
  registered: boolean;
  /** Present on the mesh now. */
  online: boolean;
}

export interface CommitteeParams {
  /** Committee size c. */
  c: number;
  /** Threshold t: any t+1 shares reconstruct, t reveal nothing; honest majority needs 2t < c. */
  t: number;
}

export interface Committee {
  datasetId: Id256;
  params: CommitteeParams;
  /** members[i] holds evaluations at x = i + 1. */
  members: Id256[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkId(id: string, what: string): Id256 {
  if (typeof id !== 'string' || !HEX64.test(id)) {
    throw new StorageError(
      'PLACEMENT_BAD_ID',
      `${what}: expected 64 lower-case hex characters, got ${JSON.stringify(String(id).slice(0, 80))}`,
    );
  }
  return id;
}

/** Node id from a compressed secp256k1 public key; rejects anything that is not a valid point. */
export function nodeIdFromPublicKey(publicKey: Uint8Array): Id256 {
  if (
    !(publicKey instanceof Uint8Array) ||
    publicKey.length !== 33 ||
    (publicKey[0] !== 2 && publicKey[0] !== 3)
  ) {
    throw new StorageError(
      'PLACEMENT_BAD_KEY',
      `nodeIdFromPublicKey: expected a 33-byte compressed secp256k1 key, got ${publicKey?.length ?? 0} bytes`,
    );
  }
  if (!secp256k1.utils.isValidPublicKey(publicKey, true)) {
    throw new StorageError(
      'PLACEMENT_BAD_KEY',
      'nodeIdFromPublicKey: the key is not a point on secp256k1',
    );
  }
  return toHex(sha256(publicKey));
}

/**
 * A dataset id bound to its owner (an Ethereum address, 20 bytes hex) and a salt chosen by the
 * owner: sha256("confide/dataset/v1" || owner || salt). The chain may use its own id as long as it
 * is 32 uniformly distributed bytes.
 */
export function deriveDatasetId(ownerAddress: string, salt: string): Id256 {
  const owner = fromHex(ownerAddress.toLowerCase(), 20, 'deriveDatasetId owner address');
  return toHex(sha256(concatBytes(utf8.encode('confide/dataset/v1'), owner, utf8.encode(salt))));
}

/** XOR distance between two ids, as 32 big-endian bytes (compare lexicographically). */
export function xorDistance(a: Id256, b: Id256): Uint8Array {
  const x = fromHex(checkId(a, 'xorDistance'), 32, 'id');
  const y = fromHex(checkId(b, 'xorDistance'), 32, 'id');
  for (let i = 0; i < 32; i++) x[i] = x[i]! ^ y[i]!;
  return x;
}

/** Negative if `a` is closer to `target` than `b`, positive if farther, 0 if a === b. */
export function compareDistance(target: Id256, a: Id256, b: Id256): number {
  // Compare hex nibble by nibble: no allocation in the sort comparator.
  for (let i = 0; i < 64; i++) {
    const t = parseInt(target[i]!, 16);
    const da = parseInt(a[i]!, 16) ^ t;
    const db = parseInt(b[i]!, 16) ^ t;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Length of the common prefix of two ids in bits (Kademlia bucket index = 255 - this). */
export function commonPrefixBits(a: Id256, b: Id256): number {
  const d = xorDistance(a, b);
  for (let i = 0; i < 32; i++) if (d[i] !== 0) return i * 8 + Math.clz32(d[i]!) - 24;
  return 256;
}

export function checkParams(p: CommitteeParams): CommitteeParams {
  if (
    !Number.isInteger(p.c) ||
    !Number.isInteger(p.t) ||
    p.t < 1 ||
    p.c < 2 * p.t + 1 ||
    p.c > 64
  ) {
    throw new StorageError(
      'PLACEMENT_BAD_PARAMS',
      `committee needs integers 1 <= t, 2t+1 <= c <= 64 (honest majority); got c=${p.c}, t=${p.t}`,
    );
  }
  return p;
}

function eligible(directory: readonly DirectoryEntry[]): DirectoryEntry[] {
  const seen = new Set<string>();
  const out: DirectoryEntry[] = [];
  for (const e of directory) {
    checkId(e.id, 'directory entry');
    if (seen.has(e.id))
      throw new StorageError('PLACEMENT_DUPLICATE_NODE', `directory lists node ${e.id} twice`);
    seen.add(e.id);
    if (e.registered && e.online) out.push(e);
  }
  return out;
}

/** The k eligible nodes closest to `target`, closest first (excluding `exclude`). O(N·k), no full sort. */
export function closestNodes(
  target: Id256,
  directory: readonly DirectoryEntry[],
  k: number,
  exclude: ReadonlySet<string> = new Set(),
): Id256[] {
  checkId(target, 'closestNodes target');
  if (!Number.isInteger(k) || k <= 0) return [];
  const best: Id256[] = [];
  for (const e of eligible(directory)) {
    if (exclude.has(e.id)) continue;
    if (best.length === k && compareDistance(target, e.id, best[k - 1]!) >= 0) continue;
    let i = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push(e.id);
    while (i > 0 && compareDistance(target, e.id, best[i - 1]!) < 0) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = e.id;
  }
  return best;
}

/** The initial committee of a dataset: the c closest registered, online nodes. */
export function selectCommittee(
  datasetId: Id256,
  directory: readonly DirectoryEntry[],
  params: CommitteeParams,
): Committee {
  checkParams(params);
  const members = closestNodes(datasetId, directory, params.c);
  if (members.length < params.c) {
    throw new StorageError(
      'PLACEMENT_NOT_ENOUGH_NODES',
      `dataset ${datasetId} needs ${params.c} registered online nodes, only ${members.length} available`,
      {
        datasetId,
      },
    );
  }
  return { datasetId, params: { ...params }, members };
}

/**
 * Replaces the member at index `slot` by the closest eligible node not already in the committee.
 * Deterministic: everyone with the same directory picks the same node.
 */
export function replaceMember(
  committee: Committee,
  slot: number,
  directory: readonly DirectoryEntry[],
): Committee {
  if (!Number.isInteger(slot) || slot < 0 || slot >= committee.members.length) {
    throw new StorageError(
      'PLACEMENT_BAD_PARAMS',
      `replaceMember: slot ${slot} out of range 0..${committee.members.length - 1}`,
    );
  }
  const [next] = closestNodes(committee.datasetId, directory, 1, new Set(committee.members));
  if (next === undefined) {
    throw new StorageError(
      'PLACEMENT_NOT_ENOUGH_NODES',
      `dataset ${committee.datasetId}: no eligible node left to replace member ${slot}`,
      {
        datasetId: committee.datasetId,
        member: slot,
      },
    );
  }
  const members = committee.members.slice();
  members[slot] = next;
  return { ...committee, members };
}

/** Member slots whose node has not been seen on the mesh for longer than `graceMs` (or left for good). */
export function departedMembers(
  committee: Committee,
  lastSeen: ReadonlyMap<Id256, number>,
  now: number,
  graceMs: number,
  leftForGood: ReadonlySet<Id256> = new Set(),
): number[] {
  const out: number[] = [];
  committee.members.forEach((id, i) => {
    const seen = lastSeen.get(id);
    if (leftForGood.has(id) || seen === undefined || now - seen > graceMs) out.push(i);
  });
  return out;
}

/**
 * Applies every departure in turn (lowest slot first) and returns the new committee. Throws if
 * fewer than t+1 old members would remain: re-sharing needs t+1 holders of the current sharing.
 */
export function churnCommittee(
  committee: Committee,
  departed: readonly number[],
  directory: readonly DirectoryEntry[],
): Committee {
  const remaining = committee.members.length - new Set(departed).size;
  if (remaining < committee.params.t + 1) {
    throw new StorageError(
      'PLACEMENT_NOT_ENOUGH_NODES',
      `dataset ${committee.datasetId}: only ${remaining} members remain, re-sharing needs t+1 = ${committee.params.t + 1}`,
      {
        datasetId: committee.datasetId,
      },
    );
  }
  let c = committee;
  for (const slot of [...new Set(departed)].sort((a, b) => a - b))
    c = replaceMember(c, slot, directory);
  return c;
}

/** Datasets (from the chain's recorded committees) that node `self` holds, with its member index. */
export function responsibleDatasets(
  self: Id256,
  committees: readonly Committee[],
): { datasetId: Id256; memberIndex: number }[] {
  checkId(self, 'responsibleDatasets');
  const out: { datasetId: Id256; memberIndex: number }[] = [];
  for (const c of committees) {
    const i = c.members.indexOf(self);
    if (i >= 0) out.push({ datasetId: c.datasetId, memberIndex: i });
  }
  return out;
}

/**
 * Datasets that would place `self` in their committee under the pure distance rule (no churn
 * history), e.g. for a node deciding which datasets to prefetch when it joins.
 */
export function datasetsNear(
  self: Id256,
  datasets: readonly { datasetId: Id256; params: CommitteeParams }[],
  directory: readonly DirectoryEntry[],
): Id256[] {
  return datasets
    .filter((d) => closestNodes(d.datasetId, directory, d.params.c).includes(self))
    .map((d) => d.datasetId);
}
