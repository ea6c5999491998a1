import { createDecipheriv, createECDH, hkdfSync } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { encodePacked, keccak256, recoverAddress, type Hex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  openShareBundle,
  peekBundleHeader,
  sealShareBundle,
  type ShareBundle,
} from '../../src/storage/bundle';
import { nodeAddress, receiptDigest, signReceipt, verifyReceipt } from '../../src/storage/receipt';
import { toHex } from '../../src/storage/bytes';
import { DS1, DS2, seededShares } from './helpers';

const nodeSk = Uint8Array.from(Buffer.from('11'.repeat(32), 'hex'));
const nodePk = secp256k1.getPublicKey(nodeSk, true);
const otherSk = Uint8Array.from(Buffer.from('22'.repeat(32), 'hex'));

const bundle: ShareBundle = {
  datasetId: DS1,
  version: 1,
  memberIndex: 2,
  chunkSize: 100,
  columns: [
    { name: 'age', shares: seededShares(250, 1) },
    { name: 'bmi', shares: seededShares(100, 2) },
  ],
};
const ctx = { datasetId: DS1, version: 1, memberIndex: 2 };

async function expectCode(p: Promise<unknown>, code: string, msg?: RegExp): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
  if (msg) await expect(p).rejects.toThrow(msg);
}

describe('share bundles (ECDH secp256k1 + HKDF-SHA256 + AES-256-GCM)', () => {
  it('round-trips and reports progress', async () => {
    const seen: number[] = [];
    const sealed = await sealShareBundle(bundle, nodePk, { onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([1, 2, 3, 4, 5]); // metadata + 3 age chunks + 1 bmi chunk
    expect(peekBundleHeader(sealed)).toMatchObject({ ...ctx, frames: 5 });
    const opened = await openShareBundle(sealed, nodeSk, ctx);
    expect(opened).toEqual(bundle);
  });

  it('frame 0 decrypts with an independent implementation (node:crypto ECDH + HKDF + AES-GCM)', async () => {
    const sealed = await sealShareBundle(bundle, nodePk);
    const eph = sealed.subarray(4, 37);
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(Buffer.from(nodeSk));
    const sharedX = ecdh.computeSecret(Buffer.from(eph));
    const key = Buffer.from(
      hkdfSync('sha256', sharedX, Buffer.concat([eph, nodePk]), 'confide/share-bundle/v1', 32),
    );
    const header = sealed.subarray(0, 79);
    const len = Buffer.from(sealed.subarray(79, 83)).readUInt32LE(0);
    const ct = sealed.subarray(83, 83 + len);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.alloc(12));
    d.setAAD(Buffer.concat([header, Buffer.alloc(4)]));
    d.setAuthTag(Buffer.from(ct.subarray(len - 16)));
    const plain = Buffer.concat([d.update(ct.subarray(0, len - 16)), d.final()]).toString('utf8');
    expect(JSON.parse(plain)).toEqual({
      chunkSize: 100,
      columns: [
        { name: 'age', rows: 250 },
        { name: 'bmi', rows: 100 },
      ],
    });
  });

  it('tampering, wrong key, wrong context and truncation are refused with codes', async () => {
    const sealed = await sealShareBundle(bundle, nodePk);
    await expectCode(
      openShareBundle(sealed, otherSk, ctx),
      'BUNDLE_AUTH',
      /frame 0 fails authentication/,
    );
    const flipped = sealed.slice();
    flipped[flipped.length - 30]! ^= 1;
    await expectCode(openShareBundle(flipped, nodeSk, ctx), 'BUNDLE_AUTH', /frame 4/);
    // Re-labelling the bundle for another member (header is authenticated data).
    const relabel = sealed.slice();
    relabel[73] = 3;
    await expectCode(openShareBundle(relabel, nodeSk, { ...ctx, memberIndex: 3 }), 'BUNDLE_AUTH');
    await expectCode(
      openShareBundle(sealed, nodeSk, { ...ctx, version: 2 }),
      'BUNDLE_CONTEXT',
      /expected .* v2 member 2/,
    );
    await expectCode(openShareBundle(sealed, nodeSk, { ...ctx, datasetId: DS2 }), 'BUNDLE_CONTEXT');
    await expectCode(
      openShareBundle(sealed.subarray(0, sealed.length - 5), nodeSk, ctx),
      'BUNDLE_MALFORMED',
      /frame 4 length/,
    );
    await expectCode(
      openShareBundle(new Uint8Array(10), nodeSk, ctx),
      'BUNDLE_MALFORMED',
      /bad magic/,
    );
    await expect(sealShareBundle(bundle, new Uint8Array(33))).rejects.toMatchObject({
      code: 'BUNDLE_MALFORMED',
    });
  });
});

describe('signed receipts', () => {
  const fields = { datasetId: DS1, version: 3, memberIndex: 4, merkleRoot: 'ab'.repeat(32) };

  it('digest equals Solidity keccak256(abi.encodePacked(...)) and the signature ecrecovers to the node address (viem)', async () => {
    const viemDigest = keccak256(
      encodePacked(
        ['string', 'bytes32', 'uint32', 'uint16', 'bytes32'],
        ['confide.receipt.v1', `0x${DS1}`, 3, 4, `0x${'ab'.repeat(32)}`],
      ),
    );
    expect(`0x${toHex(receiptDigest(fields))}`).toBe(viemDigest);
    const r = signReceipt(fields, nodeSk);
    const addr = await recoverAddress({ hash: viemDigest, signature: `0x${r.signature}` as Hex });
    const uncompressed = `0x${toHex(secp256k1.getPublicKey(nodeSk, false))}` as Hex;
    expect(addr.toLowerCase()).toBe(publicKeyToAddress(uncompressed).toLowerCase());
    expect(nodeAddress(nodePk)).toBe(publicKeyToAddress(uncompressed).toLowerCase());
    expect(verifyReceipt(r, { publicKey: nodePk, fields })).toEqual(r);
  });

  it('forged or mismatched receipts are refused', () => {
    const r = signReceipt(fields, nodeSk);
    expect(() => verifyReceipt({ ...r, merkleRoot: 'cd'.repeat(32) })).toThrow(
      /RECEIPT_INVALID: .*not by the stated node key/,
    );
    expect(() => verifyReceipt(r, { publicKey: secp256k1.getPublicKey(otherSk, true) })).toThrow(
      /not the committee member/,
    );
    expect(() => verifyReceipt(r, { fields: { ...fields, version: 4 } })).toThrow(/fields differ/);
    const badV = r.signature.slice(0, 128) + '05';
    expect(() => verifyReceipt({ ...r, signature: badV })).toThrow(/v must be 27 or 28/);
  });
});
