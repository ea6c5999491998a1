import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  churnCommittee,
  closestNodes,
  commonPrefixBits,
  departedMembers,
  deriveDatasetId,
  nodeIdFromPublicKey,
  replaceMember,
  responsibleDatasets,
  selectCommittee,
  xorDistance,
  type DirectoryEntry,
} from '../../src/storage/placement';
import { toHex } from '../../src/storage/bytes';

const G = Uint8Array.from(
  Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
);

function dirOf(n: number, seed: number): DirectoryEntry[] {
  const out: DirectoryEntry[] = [];
  for (let i = 0; i < n; i++) {
    const sk = createHash('sha256').update(`node-${seed}-${i}`).digest();
    const publicKey = secp256k1.getPublicKey(sk, true);
    out.push({ id: nodeIdFromPublicKey(publicKey), publicKey, registered: true, online: true });
  }
  return out;
}

/** Independent reference: sort by BigInt XOR distance. */
function refClosest(target: string, ids: string[], k: number): string[] {
  const t = BigInt(`0x${target}`);
  return ids
    .slice()
    .sort((a, b) => {
      const da = BigInt(`0x${a}`) ^ t;
      const db = BigInt(`0x${b}`) ^ t;
      return da < db ? -1 : da > db ? 1 : 0;
    })
    .slice(0, k);
}

describe('placement', () => {
  it('node id = sha256(compressed key), cross-checked with node:crypto; invalid keys rejected', () => {
    expect(nodeIdFromPublicKey(G)).toBe(createHash('sha256').update(G).digest('hex'));
    // x = 2^256 - 1 exceeds the field prime: no such point.
    const notOnCurve = new Uint8Array(33).fill(0xff);
    notOnCurve[0] = 2;
    expect(() => nodeIdFromPublicKey(notOnCurve)).toThrow(/PLACEMENT_BAD_KEY/);
    expect(() => nodeIdFromPublicKey(new Uint8Array(65))).toThrow(/33-byte/);
  });

  it('xor distance and prefix length on known values', () => {
    const a = '00'.repeat(32);
    const b = '0f' + '00'.repeat(31);
    expect(toHex(xorDistance(a, b))).toBe(b);
    expect(commonPrefixBits(a, b)).toBe(4);
    expect(commonPrefixBits(a, a)).toBe(256);
    expect(commonPrefixBits(a, '00'.repeat(31) + '01')).toBe(255);
    expect(() => xorDistance('zz', a)).toThrow(/PLACEMENT_BAD_ID/);
  });

  it('deriveDatasetId is sha256 of domain||owner||salt', () => {
    const owner = '0x' + '11'.repeat(20);
    const expected = createHash('sha256')
      .update(
        Buffer.concat([
          Buffer.from('confide/dataset/v1'),
          Buffer.from('11'.repeat(20), 'hex'),
          Buffer.from('cohort-2026'),
        ]),
      )
      .digest('hex');
    expect(deriveDatasetId(owner, 'cohort-2026')).toBe(expected);
  });

  it('committee = c closest eligible nodes, matching a BigInt reference for random ids', () => {
    const dir = dirOf(60, 1);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 5 }),
        (t, tt) => {
          const ds = toHex(t);
          const c = 2 * tt + 1;
          const com = selectCommittee(ds, dir, { c, t: tt });
          expect(com.members).toEqual(
            refClosest(
              ds,
              dir.map((d) => d.id),
              c,
            ),
          );
          // Order of the directory does not matter.
          expect(selectCommittee(ds, dir.slice().reverse(), { c, t: tt }).members).toEqual(
            com.members,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('offline or unregistered nodes are skipped; too few nodes is a coded error', () => {
    const dir = dirOf(8, 2);
    const ds = 'ab'.repeat(32);
    const full = selectCommittee(ds, dir, { c: 5, t: 2 });
    const off = dir.map((d) =>
      d.id === full.members[0]
        ? { ...d, online: false }
        : d.id === full.members[1]
          ? { ...d, registered: false }
          : d,
    );
    const again = selectCommittee(ds, off, { c: 5, t: 2 });
    expect(again.members).toEqual(
      refClosest(
        ds,
        dir.map((d) => d.id).filter((id) => id !== full.members[0] && id !== full.members[1]),
        5,
      ),
    );
    expect(() => selectCommittee(ds, dir.slice(0, 4), { c: 5, t: 2 })).toThrow(
      /PLACEMENT_NOT_ENOUGH_NODES/,
    );
    expect(() => selectCommittee(ds, dir, { c: 4, t: 2 })).toThrow(/PLACEMENT_BAD_PARAMS/);
    expect(() => selectCommittee(ds, [...dir, dir[0]!], { c: 5, t: 2 })).toThrow(
      /PLACEMENT_DUPLICATE_NODE/,
    );
  });

  it('churn: the replacement is the closest non-member, takes the vacated slot, others keep theirs', () => {
    const dir = dirOf(20, 3);
    const ds = 'cd'.repeat(32);
    const com = selectCommittee(ds, dir, { c: 5, t: 2 });
    const ranked = refClosest(
      ds,
      dir.map((d) => d.id),
      20,
    );
    // Member in slot 2 leaves: directory drops it, the 6th closest joins in slot 2.
    const gone = com.members[2]!;
    const dir2 = dir.map((d) => (d.id === gone ? { ...d, online: false } : d));
    const next = replaceMember(com, 2, dir2);
    expect(next.members).toEqual([ranked[0], ranked[1], ranked[5], ranked[3], ranked[4]]);
    // Repeated churn, more times than t, always keeps c distinct members.
    let cur = com;
    let d = dir;
    for (let step = 0; step < 7; step++) {
      const slot = step % 5;
      const leaving = cur.members[slot]!;
      d = d.map((e) => (e.id === leaving ? { ...e, online: false } : e));
      cur = churnCommittee(cur, [slot], d);
      expect(new Set(cur.members).size).toBe(5);
      expect(cur.members).not.toContain(leaving);
    }
    expect(() => churnCommittee(com, [0, 1, 2], dir)).toThrow(/t\+1 = 3/);
  });

  it('grace period and responsibilities', () => {
    const dir = dirOf(10, 4);
    const ds = 'ef'.repeat(32);
    const com = selectCommittee(ds, dir, { c: 3, t: 1 });
    const seen = new Map([
      [com.members[0]!, 1000],
      [com.members[1]!, 100],
    ]);
    expect(departedMembers(com, seen, 1500, 600)).toEqual([1, 2]);
    expect(departedMembers(com, seen, 1500, 600, new Set([com.members[0]!]))).toEqual([0, 1, 2]);
    expect(responsibleDatasets(com.members[1]!, [com])).toEqual([
      { datasetId: ds, memberIndex: 1 },
    ]);
    expect(closestNodes(ds, dir, 0)).toEqual([]);
  });
});
