/**
 * Signed storage receipts. After storing its partition, a member signs
 *   digest = keccak256("confide.receipt.v1" || datasetId (32) || uint32be version || uint16be memberIndex || merkleRoot (32))
 * i.e. Solidity's keccak256(abi.encodePacked("confide.receipt.v1", bytes32, uint32, uint16, bytes32)),
 * with its node key (secp256k1 ECDSA, low-s, RFC 6979). The signature is encoded Ethereum style,
 * r || s || v with v = 27 + recovery bit, so the contract can check it with ecrecover against the
 * node's registered address. The owner registers the dataset on chain with the members' roots only
 * after c valid receipts.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from './bytes';
import { StorageError } from './errors';
import { checkDatasetId } from './store';

const DOMAIN = utf8.encode('confide.receipt.v1');

export interface ReceiptFields {
  datasetId: string;
  version: number;
  memberIndex: number;
  /** Merkle root of the member's partition (hex, 32 bytes). */
  merkleRoot: string;
}

export interface Receipt extends ReceiptFields {
  /** Signer's compressed secp256k1 public key, hex. */
  nodePublicKey: string;
  /** 65 bytes hex: r || s || v (v = 27 or 28). */
  signature: string;
}

function be(v: number, bytes: 2 | 4): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  if (bytes === 2) dv.setUint16(0, v, false);
  else dv.setUint32(0, v, false);
  return b;
}

export function receiptDigest(f: ReceiptFields): Uint8Array {
  checkDatasetId(f.datasetId, 'receiptDigest');
  if (
    !Number.isInteger(f.version) ||
    f.version < 1 ||
    f.version > 0xffffffff ||
    !Number.isInteger(f.memberIndex) ||
    f.memberIndex < 0 ||
    f.memberIndex > 0xffff
  ) {
    throw new StorageError(
      'RECEIPT_INVALID',
      `receipt: version ${f.version} or member index ${f.memberIndex} out of range`,
    );
  }
  return keccak_256(
    concatBytes(
      DOMAIN,
      fromHex(f.datasetId, 32, 'datasetId'),
      be(f.version, 4),
      be(f.memberIndex, 2),
      fromHex(f.merkleRoot, 32, 'merkleRoot'),
    ),
  );
}

export function signReceipt(f: ReceiptFields, nodeSecretKey: Uint8Array): Receipt {
  const digest = receiptDigest(f);
  const rec = secp256k1.sign(digest, nodeSecretKey, { prehash: false, format: 'recovered' });
  const sig = concatBytes(rec.subarray(1, 65), Uint8Array.of(27 + rec[0]!));
  return {
    datasetId: f.datasetId,
    version: f.version,
    memberIndex: f.memberIndex,
    merkleRoot: f.merkleRoot.toLowerCase(),
    nodePublicKey: toHex(secp256k1.getPublicKey(nodeSecretKey, true)),
    signature: toHex(sig),
  };
}

/**
 * Verifies a receipt: the signature is valid for its fields and recovers to `nodePublicKey`, which
 * must equal `expectedPublicKey` (the committee member's registered key) when given. Throws
 * RECEIPT_INVALID with the reason; returns the receipt otherwise.
 */
export function verifyReceipt(
  r: Receipt,
  expected?: { publicKey?: Uint8Array; fields?: ReceiptFields },
): Receipt {
  const bad = (why: string): never => {
    throw new StorageError(
      'RECEIPT_INVALID',
      `receipt for dataset ${String(r.datasetId).slice(0, 16)}… member ${r.memberIndex}: ${why}`,
      {
        member: r.memberIndex,
      },
    );
  };
  const digest = receiptDigest(r);
  const sig = fromHex(r.signature, 65, 'receipt signature');
  const pub = fromHex(r.nodePublicKey, 33, 'receipt node key');
  const v = sig[64]!;
  if (v !== 27 && v !== 28) bad(`v must be 27 or 28, got ${v}`);
  let recovered: Uint8Array;
  try {
    recovered = secp256k1.recoverPublicKey(
      concatBytes(Uint8Array.of(v - 27), sig.subarray(0, 64)),
      digest,
      { prehash: false },
    );
  } catch {
    return bad('signature does not recover to a key');
  }
  if (
    !equalBytes(recovered, pub) ||
    !secp256k1.verify(sig.subarray(0, 64), digest, pub, { prehash: false })
  )
    bad('signature is not by the stated node key');
  if (expected?.publicKey && !equalBytes(expected.publicKey, pub))
    bad('signed by a key that is not the committee member');
  if (expected?.fields) {
    const e = expected.fields;
    if (
      e.datasetId !== r.datasetId ||
      e.version !== r.version ||
      e.memberIndex !== r.memberIndex ||
      e.merkleRoot.toLowerCase() !== r.merkleRoot.toLowerCase()
    ) {
      bad('fields differ from what was expected');
    }
  }
  return r;
}

/** Ethereum address (0x…, lower case) of a node key, as the node registry on chain stores it. */
export function nodeAddress(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return `0x${toHex(keccak_256(uncompressed.subarray(1)).subarray(12))}`;
}
