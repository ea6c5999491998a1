/**
 * Node identity: a secp256k1 key pair per node, kept in IndexedDB (one per browser profile, so
 * separate browser contexts are separate nodes). The secret key never leaves this module's
 * closure except into IndexedDB of the same origin.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { openDB } from 'idb';

export interface NodeIdentity {
  /** Compressed public key, 33 bytes. */
  readonly publicKey: Uint8Array;
  /** Lower-case hex of `publicKey`: the node id shown to people and used in committees. */
  readonly id: string;
  /** Compact (64-byte) low-S ECDSA signature over sha256(message). */
  sign(message: Uint8Array): Uint8Array;
  /**
   * The secret key, for this node's own use only (decrypting share bundles sealed to it, signing
   * its chain registration). Never sent, logged or stored anywhere but the profile's IndexedDB.
   */
  secretKey(): Uint8Array;
}

export function identityFromSecret(secretKey: Uint8Array): NodeIdentity {
  const sk = secretKey.slice();
  const publicKey = secp256k1.getPublicKey(sk, true);
  return {
    publicKey,
    id: bytesToHex(publicKey),
    sign: (m) => secp256k1.sign(m, sk),
    secretKey: () => sk.slice(),
  };
}

export function randomIdentity(): NodeIdentity {
  return identityFromSecret(secp256k1.utils.randomSecretKey());
}

export function verifySignature(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return secp256k1.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

const DB = 'confide-node';
const STORE = 'keys';
const KEY = 'node-key';

/** Loads this profile's node key from IndexedDB, creating and storing it on first use. */
export async function loadOrCreateIdentity(dbName = DB): Promise<NodeIdentity> {
  const db = await openDB(dbName, 1, {
    upgrade(d) {
      d.createObjectStore(STORE);
    },
  });
  try {
    const tx = db.transaction(STORE, 'readwrite');
    const stored: unknown = await tx.store.get(KEY);
    let sk: Uint8Array;
    if (
      stored instanceof Uint8Array &&
      stored.length === 32 &&
      secp256k1.utils.isValidSecretKey(stored)
    )
      sk = stored;
    else {
      sk = secp256k1.utils.randomSecretKey();
      await tx.store.put(sk, KEY);
    }
    await tx.done;
    return identityFromSecret(sk);
  } finally {
    db.close();
  }
}
