import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  Field,
  findInconsistent,
  reconstruct,
  robustReconstruct,
  seededRng,
} from '../../src/mpc/index';
import { bitColumnName, bitDecompose } from '../../src/storage/bits';
import { sealSeededBundle, sealShareBundle } from '../../src/storage/bundle';
import { parseCsv } from '../../src/storage/csv';
import { IdbShareStore } from '../../src/storage/idb-store';
import { acceptValidation, inferSchema, validateAndEncode } from '../../src/storage/schema';
import {
  acceptShareBundle,
  newNodeKey,
  shareAndSeal,
  uploadDataset,
} from '../../src/storage/upload';
import { DS1 } from './helpers';

const F = new Field();

function dataset(rows: number) {
  const lines = ['a,b'];
  for (let i = 0; i < rows; i++) lines.push(`${i - 50},${(i * 37) % 1000}`);
  const csv = parseCsv(lines.join('\n'));
  return acceptValidation(validateAndEncode(csv, inferSchema(csv).schema), {
    dropRejectedRows: false,
  });
}

/**
 * c members with node keys and IndexedDB stores (`name`-0 …), the upload target for them, and
 * `accept(j, sealed, version)`: member j stores its bundle as a node does.
 */
async function committee(c: number, name: string, t: number, chunkSize: number) {
  const keys = Array.from({ length: c }, () => newNodeKey());
  const stores = await Promise.all(keys.map((_, j) => IdbShareStore.open(`${name}-${j}`)));
  const target = {
    datasetId: DS1,
    version: 1,
    t,
    chunkSize,
    members: keys.map((k, j) => ({ memberIndex: j, publicKey: k.publicKey })),
  };
  const accept = (j: number, sealed: Uint8Array, version = 1) =>
    acceptShareBundle(stores[j]!, sealed, keys[j]!.secretKey, {
      datasetId: DS1,
      version,
      memberIndex: j,
    });
  return { keys, stores, target, accept };
}

describe('upload orchestration', () => {
  it('uploadDataset: 3 members store via streamed staging and return receipts; roots match the stores', async () => {
    const { stores, target, accept } = await committee(3, 'upload', 1, 64);
    const data = dataset(300);
    const phases: string[] = [];
    const { roots } = await uploadDataset(
      data,
      target,
      async (j, sealed) => (await accept(j, sealed)).receipt,
      {
        field: F,
        rng: seededRng(5),
        onProgress: (p) => phases.push(`${p.phase}:${p.done}/${p.total}`),
      },
    );
    expect(phases).toEqual([
      'share:1/2',
      'share:2/2',
      'seal:1/3',
      'seal:2/3',
      'seal:3/3',
      'send:1/3',
      'send:2/3',
      'send:3/3',
    ]);
    for (let j = 0; j < 3; j++) {
      const m = (await stores[j]!.getManifest(DS1))!;
      expect(m.merkleRoot).toBe(roots[j]);
      expect(m.columns.map((c) => c.chunks.length)).toEqual([5, 5]);
    }
    const a = reconstruct(
      F,
      [await stores[0]!.readColumn(DS1, 'a'), await stores[2]!.readColumn(DS1, 'a')],
      [0, 2],
    );
    expect(a).toEqual(data.columns[0]!.values);
    expect(a[0]).toBe(F.p - 50n);

    // A member whose send fails makes the whole upload fail with its index: nothing to register.
    await expect(
      uploadDataset(data, { ...target, version: 2 }, async (j, sealed) => {
        if (j === 1) throw new Error('peer gone');
        return (await accept(j, sealed, 2)).receipt;
      }),
    ).rejects.toThrow(/RECEIPT_INVALID: .*member 1: peer gone/);
  });

  it('t of c members get a seed instead of their shares; all c stored partitions lie on one degree-t polynomial', async () => {
    const { keys, stores, target, accept } = await committee(5, 'seeded', 2, 300);
    const data = dataset(1000);
    const sealed = await shareAndSeal(data, target, { field: F });
    // members 0 and 1 receive a seed (one frame, a few hundred bytes); 2..4 their shares
    const sizes = sealed.map((s) => s.sealed.length);
    expect(sizes[0]).toBeLessThan(600);
    expect(sizes[1]).toBeLessThan(600);
    for (const j of [2, 3, 4]) expect(sizes[j]).toBeGreaterThan(2 * 1000 * 8);
    for (let j = 0; j < 5; j++) await accept(j, sealed[j]!.sealed);
    for (const [ci, name] of ['a', 'b'].entries()) {
      const cols = await Promise.all(stores.map((st) => st.readColumn(DS1, name)));
      // every member's shares, seeded or sent, agree with one polynomial of degree 2
      const all = robustReconstruct(F, cols, [0, 1, 2, 3, 4], 2);
      expect(all.values).toEqual(data.columns[ci]!.values);
      expect(all.faulty).toEqual([]);
      expect(findInconsistent(F, cols, [0, 1, 2, 3, 4], 2)).toEqual([]);
      // and any t + 1 of them reconstruct, seeded members included
      for (const set of [
        [0, 1, 2],
        [0, 3, 4],
        [1, 2, 4],
      ])
        expect(
          reconstruct(
            F,
            set.map((j) => cols[j]!),
            set,
          ),
        ).toEqual(data.columns[ci]!.values);
    }
    // a seeded bundle is authenticated like any other: tampered, or opened by another member
    const bad = sealed[0]!.sealed.slice();
    bad[bad.length - 5]! ^= 1;
    await expect(accept(0, bad)).rejects.toMatchObject({ code: 'BUNDLE_AUTH' });
    await expect(accept(1, sealed[0]!.sealed)).rejects.toMatchObject({ code: 'BUNDLE_CONTEXT' });
    await expect(
      sealSeededBundle(
        {
          datasetId: DS1,
          version: 1,
          memberIndex: 0,
          chunkSize: 10,
          seed: new Uint8Array(31),
          columns: [{ name: 'a', rows: 3 }],
        },
        keys[0]!.publicKey,
      ),
    ).rejects.toThrow(/seed must be 32 bytes, got 31/);
  });

  it('a bit-decomposed column is not sent: every member derives it from its bit shares, on one degree-t polynomial', async () => {
    const { keys, stores, target, accept } = await committee(5, 'derived', 2, 128);
    const data = dataset(1000);
    // column b holds 0..999 (lo = 0, 10 bits); column a is -50..949 (lo = -50)
    const lo = F.p - 50n;
    const withBits = {
      ...data,
      columns: [
        ...data.columns,
        ...bitDecompose(data.columns, [
          { name: 'a', lo: -50n, bits: 10 },
          { name: 'b', lo: 0n, bits: 10 },
        ]).map((b) => ({ ...b, type: { kind: 'int' as const }, min: 0, max: 1 })),
      ],
    };
    const bitsOf = (n: string) => Array.from({ length: 10 }, (_, j) => bitColumnName(n, j));
    const derived = [
      { name: 'a', lo, bits: bitsOf('a') },
      { name: 'b', lo: 0n, bits: bitsOf('b') },
    ];
    const plain = await shareAndSeal(withBits, target, { field: F, rng: seededRng(9) });
    const sealed = await shareAndSeal(withBits, target, { field: F, rng: seededRng(9), derived });
    // the value vectors cross the network no more: 20 of 22 vectors for the explicit members
    for (const j of [2, 3, 4]) {
      expect(sealed[j]!.sealed.length).toBeLessThan(plain[j]!.sealed.length - 2 * 1000 * 8);
      expect(sealed[j]!.sealed.length).toBeGreaterThan(20 * 1000 * 8);
    }
    for (let j = 0; j < 5; j++) await accept(j, sealed[j]!.sealed);
    const m = (await stores[3]!.getManifest(DS1))!;
    expect(m.columns.map((c) => c.name).slice(-2)).toEqual(['a', 'b']);
    for (const [ci, name] of ['a', 'b'].entries()) {
      const cols = await Promise.all(stores.map((st) => st.readColumn(DS1, name)));
      expect(findInconsistent(F, cols, [0, 1, 2, 3, 4], 2)).toEqual([]);
      expect(robustReconstruct(F, cols, [0, 1, 2, 3, 4], 2).values).toEqual(
        data.columns[ci]!.values,
      );
    }
    // metadata naming a column that is not in the bundle is malformed, and nothing is stored
    const badDerived = [{ name: 'a', lo, bits: ['a~bit0', 'nope'] }];
    await expect(
      shareAndSeal(withBits, { ...target, version: 2 }, { field: F, derived: badDerived }),
    ).rejects.toThrow(/derived column a needs itself and its bit columns/);
    const forged = await sealShareBundle(
      {
        datasetId: DS1,
        version: 2,
        memberIndex: 2,
        chunkSize: 128,
        columns: [{ name: 'x', shares: new BigUint64Array(5) }],
        derived: [{ name: 'y', rows: 5, lo: 0n, bits: ['x', 'z'] }],
      },
      keys[2]!.publicKey,
    );
    await expect(accept(2, forged, 2)).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED' });
    await expect(accept(2, forged, 2)).rejects.toThrow(/derived column y: z is not a column/);
    expect((await stores[2]!.getManifest(DS1))!.version).toBe(1);
  });

  it('a bundle whose last frame is tampered stores nothing: the previous version stays current', async () => {
    const k = newNodeKey();
    const store = await IdbShareStore.open('upload-tamper');
    const data = dataset(200);
    const target = {
      datasetId: DS1,
      version: 1,
      t: 1,
      chunkSize: 50,
      members: [k, newNodeKey(), newNodeKey()].map((x, j) => ({
        memberIndex: j,
        publicKey: x.publicKey,
      })),
    };
    const [v1] = await shareAndSeal(data, target, { field: F });
    const { manifest } = await acceptShareBundle(store, v1!.sealed, k.secretKey, {
      datasetId: DS1,
      version: 1,
      memberIndex: 0,
    });
    const [v2] = await shareAndSeal(data, { ...target, version: 2 }, { field: F });
    const bad = v2!.sealed.slice();
    bad[bad.length - 1]! ^= 0x80;
    await expect(
      acceptShareBundle(store, bad, k.secretKey, { datasetId: DS1, version: 2, memberIndex: 0 }),
    ).rejects.toMatchObject({ code: 'BUNDLE_AUTH' });
    expect(await store.getManifest(DS1)).toEqual(manifest);
    expect((await store.verifyPartition(DS1, manifest.merkleRoot)).ok).toBe(true);
    // The genuine v2 then commits over the staged debris.
    const { manifest: m2 } = await acceptShareBundle(store, v2!.sealed, k.secretKey, {
      datasetId: DS1,
      version: 2,
      memberIndex: 0,
    });
    expect(m2.version).toBe(2);
    expect((await store.verifyPartition(DS1, m2.merkleRoot)).ok).toBe(true);
  });
});
