/**
 * Result shares sealed to the requester's key, so only the requester can open the result: each
 * committee party verifies the program (`runPlan(..., { output: { kind: 'shares' } })`), then seals
 * its Shamir shares of the output vector; the requester decrypts at least t+1 of them and
 * reconstructs (robustly: a wrong share is detected, and corrected when enough shares arrive).
 *
 * Sealing: ephemeral secp256k1 ECDH with the requester's public key (the 33-byte compressed key the
 * researcher registers on chain with the query), HKDF-SHA256 over the shared x-coordinate (salt: the
 * query hash) to a 32-byte key, XChaCha20-Poly1305 with a random 24-byte nonce and associated data
 * binding the query hash and the party index (a share cannot be replayed into another query or
 * claimed by another party).
 *
 * Sealed box layout (bytes): version (1) | party index (2, BE) | ephemeral public key (33) |
 * nonce (24) | ciphertext of the shares (8 bytes each, LE) + 16-byte tag.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { Field, robustReconstruct } from '../mpc/index';
import { QueryError } from './errors';

const VERSION = 2;
const EPH = 33;
const HEADER = 1 + 2 + EPH + 24;
/** Largest output vector accepted when opening (bounds memory on untrusted input). */
export const MAX_SEALED_ELEMENTS = 1 << 20;

function aad(queryHash: string, party: number): Uint8Array {
  const h = hexToBytes(queryHash);
  const out = new Uint8Array(h.length + 2);
  out.set(h);
  out[h.length] = party >> 8;
  out[h.length + 1] = party & 0xff;
  return out;
}

function key(shared: Uint8Array, queryHash: string): Uint8Array {
  return hkdf(sha256, shared, hexToBytes(queryHash), utf8ToBytes('confide/query-result/v1'), 32);
}

function checkHash(queryHash: string): void {
  if (!/^[0-9a-f]{64}$/.test(queryHash))
    throw new QueryError('BAD_INPUT', 'seal: queryHash must be 64 lower-case hex digits');
}

/** ECDH shared x-coordinate (32 bytes); throws BAD_INPUT for a key that is not a curve point. */
function ecdh(secret: Uint8Array, pub: Uint8Array, who: string): Uint8Array {
  try {
    return secp256k1.getSharedSecret(secret, pub, true).subarray(1);
  } catch (e) {
    throw new QueryError('BAD_INPUT', `${who}: not a valid secp256k1 public key`, undefined, {
      cause: e,
    });
  }
}

/** Seals party `party`'s output shares to the requester's secp256k1 public key (33 bytes). */
export function sealShares(
  shares: BigUint64Array,
  party: number,
  requesterPublicKey: Uint8Array,
  queryHash: string,
): Uint8Array {
  checkHash(queryHash);
  if (!Number.isInteger(party) || party < 0 || party > 0xffff)
    throw new QueryError('BAD_INPUT', `sealShares: bad party index ${party}`);
  const eph = secp256k1.utils.randomSecretKey();
  const ephPub = secp256k1.getPublicKey(eph, true);
  const k = key(ecdh(eph, requesterPublicKey, 'sealShares: requester key'), queryHash);
  eph.fill(0);
  const nonce = randomBytes(24);
  const plain = new Uint8Array(shares.length * 8);
  const dv = new DataView(plain.buffer);
  shares.forEach((v, i) => dv.setBigUint64(i * 8, v, true));
  const ct = xchacha20poly1305(k, nonce, aad(queryHash, party)).encrypt(plain);
  plain.fill(0);
  k.fill(0);
  const out = new Uint8Array(HEADER + ct.length);
  out[0] = VERSION;
  out[1] = party >> 8;
  out[2] = party & 0xff;
  out.set(ephPub, 3);
  out.set(nonce, 3 + EPH);
  out.set(ct, HEADER);
  return out;
}

/** Decrypts one sealed box: its party index and shares. Throws BAD_INPUT naming the problem. */
export function unsealShares(
  box: Uint8Array,
  requesterSecretKey: Uint8Array,
  queryHash: string,
): { party: number; shares: BigUint64Array } {
  checkHash(queryHash);
  if (!(box instanceof Uint8Array) || box.length < HEADER + 16)
    throw new QueryError('BAD_INPUT', `unsealShares: box too short (${box?.length ?? 0} bytes)`);
  if (box[0] !== VERSION)
    throw new QueryError('BAD_INPUT', `unsealShares: unknown version ${box[0]}`);
  const body = box.length - HEADER - 16;
  if (body % 8 !== 0 || body / 8 > MAX_SEALED_ELEMENTS)
    throw new QueryError('BAD_INPUT', `unsealShares: bad length ${box.length}`);
  const party = (box[1]! << 8) | box[2]!;
  const k = key(
    ecdh(requesterSecretKey, box.subarray(3, 3 + EPH), `unsealShares: party ${party}'s box`),
    queryHash,
  );
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(k, box.subarray(3 + EPH, HEADER), aad(queryHash, party)).decrypt(
      box.subarray(HEADER),
    );
  } catch (e) {
    throw new QueryError(
      'BAD_INPUT',
      `unsealShares: the box of party ${party} does not authenticate (wrong key, query or party)`,
      undefined,
      { cause: e },
    );
  } finally {
    k.fill(0);
  }
  const dv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const shares = new BigUint64Array(plain.length / 8);
  for (let i = 0; i < shares.length; i++) shares[i] = dv.getBigUint64(i * 8, true);
  plain.fill(0);
  return { party, shares };
}

let field: Field | undefined;

/**
 * The requester's side: decrypts the sealed boxes of at least t+1 distinct parties and reconstructs
 * the output vector (robustly: inconsistent shares throw, or are corrected when decodable).
 */
export function openSealedResult(
  boxes: readonly Uint8Array[],
  requesterSecretKey: Uint8Array,
  queryHash: string,
  t: number,
): bigint[] {
  const byParty = new Map<number, BigUint64Array>();
  for (const b of boxes) {
    const { party, shares } = unsealShares(b, requesterSecretKey, queryHash);
    if (byParty.has(party))
      throw new QueryError('BAD_INPUT', `openSealedResult: two boxes from party ${party}`);
    byParty.set(party, shares);
  }
  const parties = [...byParty.keys()].sort((a, b) => a - b);
  if (parties.length < t + 1)
    throw new QueryError(
      'BAD_INPUT',
      `openSealedResult: ${parties.length} parties, need t+1 = ${t + 1}`,
    );
  const len = byParty.get(parties[0]!)!.length;
  if (parties.some((p) => byParty.get(p)!.length !== len))
    throw new QueryError('BAD_INPUT', 'openSealedResult: share vectors differ in length');
  field ??= new Field();
  const r = robustReconstruct(
    field,
    parties.map((p) => byParty.get(p)!),
    parties,
    t,
  );
  return Array.from(r.values);
}
