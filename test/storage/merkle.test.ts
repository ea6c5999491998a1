import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/storage/bytes';
import { chunkLeaf, merkleProof, merkleRoot, verifyMerkleProof } from '../../src/storage/merkle';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
// Certificate Transparency (RFC 6962) reference inputs and roots (merkle_tree_test.cc).
const CT_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Independent reference with node:crypto, recursive on slices. */
function refRoot(leaves: Uint8Array[]): string {
  const h = (...b: Uint8Array[]) => createHash('sha256').update(Buffer.concat(b)).digest();
  const rec = (l: Uint8Array[]): Buffer => {
    if (l.length === 1) return h(Uint8Array.of(0), l[0]!);
    let k = 1;
    while (k << 1 < l.length) k <<= 1;
    return h(Uint8Array.of(1), rec(l.slice(0, k)), rec(l.slice(k)));
  };
  return l0(leaves) ? createHash('sha256').digest('hex') : rec(leaves).toString('hex');
}
const l0 = (l: unknown[]) => l.length === 0;

describe('Merkle root (RFC 6962 shape)', () => {
  it('matches the Certificate Transparency vectors', () => {
    for (let n = 1; n <= 8; n++)
      expect(toHex(merkleRoot(CT_INPUTS.slice(0, n)))).toBe(CT_ROOTS[n - 1]);
    expect(toHex(merkleRoot([]))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('matches an independent implementation, and every audit path verifies (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 40 }),
        (leaves) => {
          const root = merkleRoot(leaves);
          expect(toHex(root)).toBe(refRoot(leaves));
          for (let i = 0; i < leaves.length; i++) {
            const path = merkleProof(leaves, i);
            expect(verifyMerkleProof(root, leaves[i]!, i, leaves.length, path)).toBe(true);
            // The same path for another index or a modified leaf fails.
            const changed = Uint8Array.from([...leaves[i]!, 1]);
            expect(verifyMerkleProof(root, changed, i, leaves.length, path)).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an audit path does not verify at another index', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => Uint8Array.of(i));
    const root = merkleRoot(leaves);
    for (let i = 0; i < 13; i++) {
      const path = merkleProof(leaves, i);
      for (let j = 0; j < 13; j++)
        expect(verifyMerkleProof(root, leaves[i]!, j, 13, path)).toBe(i === j);
    }
    // The last leaf's path depends on the tree size (for the other leaves the size is bound by the root).
    expect(verifyMerkleProof(root, leaves[12]!, 12, 14, merkleProof(leaves, 12))).toBe(false);
  });

  it('chunk leaves bind column, chunk, length and hash', () => {
    const h = new Uint8Array(32).fill(7);
    expect(toHex(chunkLeaf(1, 2, 3, h))).toBe('0100' + '02000000' + '03000000' + '07'.repeat(32));
    expect(() => chunkLeaf(0, 0, 1, new Uint8Array(31))).toThrow(/MERKLE_BAD_INPUT/);
    expect(verifyMerkleProof(merkleRoot([h]), h, 1, 1, [])).toBe(false);
  });
});
