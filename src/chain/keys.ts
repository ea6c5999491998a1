/**
 * Node keys: secp256k1 (@noble/curves). A node publishes its 33-byte compressed public key; the
 * contract stores the Ethereum address derived from it. Node keys sign keccak256 digests directly
 * (no EIP-191 prefix) as 65-byte r‖s‖v signatures with v ∈ {27, 28}, low-s, so `ecrecover` works.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  bytesToHex,
  hexToBytes,
  keccak256,
  recoverMessageAddress,
  type Address,
  type Hex,
} from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { ChainError } from './errors';

export function randomNodeKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** 33-byte compressed public key of a secret key, as 0x-hex. */
export function compressedPublicKey(secretKey: Uint8Array): Hex {
  return bytesToHex(secp256k1.getPublicKey(secretKey, true));
}

function parsePoint(pubkey: Hex | Uint8Array, where: string) {
  const bytes = typeof pubkey === 'string' ? hexToBytes(pubkey) : pubkey;
  if (bytes.length !== 33 && bytes.length !== 65) {
    throw new ChainError(
      'CHAIN_BAD_KEY',
      `${where}: expected a 33- or 65-byte secp256k1 public key, got ${bytes.length} bytes`,
    );
  }
  try {
    return secp256k1.Point.fromBytes(bytes);
  } catch (cause) {
    throw new ChainError('CHAIN_BAD_KEY', `${where}: not a point on secp256k1`, { cause });
  }
}

/** Ethereum address of a (compressed or uncompressed) secp256k1 public key — the node id on chain. */
export function keyAddress(pubkey: Hex | Uint8Array): Address {
  const p = parsePoint(pubkey, 'keyAddress');
  return publicKeyToAddress(bytesToHex(p.toBytes(false)));
}

/** Sign a 32-byte digest with a node key: 65 bytes r‖s‖v, v ∈ {27, 28}, low-s. */
export function signDigest(secretKey: Uint8Array, digest: Hex): Hex {
  const d = hexToBytes(digest);
  if (d.length !== 32)
    throw new ChainError('CHAIN_BAD_INPUT', `signDigest: digest must be 32 bytes, got ${d.length}`);
  const sig = secp256k1.sign(d, secretKey, { prehash: false, format: 'recovered', lowS: true });
  // 'recovered' format is recovery(1) ‖ r(32) ‖ s(32).
  const out = new Uint8Array(65);
  out.set(sig.subarray(1, 65), 0);
  out[64] = 27 + sig[0]!;
  return bytesToHex(out);
}

/** keccak256 of bytes, as used for payload hashes, share hashes and query hashes. */
export function hashBytes(data: Uint8Array | Hex): Hex {
  return keccak256(data);
}

/**
 * Whether `signature` is `signer`'s wallet signature (EIP-191 personal message) of `message`, as
 * an owner's request to its dataset's nodes carries. A malformed signature is simply not it.
 */
export async function isSignedBy(
  message: string,
  signature: string,
  signer: Address,
): Promise<boolean> {
  try {
    const who = await recoverMessageAddress({ message, signature: signature as Hex });
    return who.toLowerCase() === signer.toLowerCase();
  } catch {
    return false;
  }
}
