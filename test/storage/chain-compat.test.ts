// Contract between storage and chain ids: both layers must derive the same ids from the same inputs.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { datasetIdFor } from '../../src/chain/confide';
import { keyAddress, signDigest } from '../../src/chain/keys';
import { deriveDatasetId } from '../../src/storage/placement';
import { nodeAddress, receiptDigest, signReceipt } from '../../src/storage/receipt';
import { toHex } from '../../src/storage/bytes';

describe('storage <-> chain id compatibility', () => {
  const sk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const pk = secp256k1.getPublicKey(sk, true);

  it('node address and dataset id agree with src/chain', () => {
    expect(nodeAddress(pk)).toBe(keyAddress(pk).toLowerCase());
    const owner = '0x00000000000000000000000000000000000000aa';
    expect(`0x${deriveDatasetId(owner, 'cohort-7')}`).toBe(
      datasetIdFor(owner, 'cohort-7').toLowerCase(),
    );
  });

  it('receipt signatures have the chain signer’s format (r || s || v)', () => {
    const fields = {
      datasetId: 'ab'.repeat(32),
      version: 1,
      memberIndex: 0,
      merkleRoot: 'cd'.repeat(32),
    };
    const digest = `0x${toHex(receiptDigest(fields))}` as const;
    expect(`0x${signReceipt(fields, sk).signature}`).toBe(signDigest(sk, digest).toLowerCase());
  });
});
