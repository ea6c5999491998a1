/**
 * One behavioural suite for every ShareStore implementation (IndexedDB via fake-indexeddb in unit
 * tests, the on-disk Node store, and real Chromium IndexedDB in e2e/storage.spec.ts).
 */
import { describe, expect, it } from 'vitest';
import { isStorageError } from '../../src/storage/errors';
import { sha256Sync } from '../../src/storage/hash';
import { toHex } from '../../src/storage/bytes';
import { manifestRoot, type ShareStore } from '../../src/storage/store';
import { DS1, DS2, P, seededShares } from './helpers';

export interface SuiteHooks {
  open(): Promise<ShareStore>;
  /** Flips one byte of a stored chunk behind the store's back. */
  corrupt(datasetId: string, version: number, col: number, chunk: number): Promise<void>;
  /** Deletes a stored chunk behind the store's back. */
  drop(datasetId: string, version: number, col: number, chunk: number): Promise<void>;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isStorageError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return e as Error;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

export function shareStoreSuite(label: string, hooks: SuiteHooks): void {
  describe(`ShareStore contract: ${label}`, () => {
    it('writes a partition and reads it back byte-identical, chunked, with a known Merkle root', async () => {
      const s = await hooks.open();
      const age = seededShares(2500, 1);
      const bmi = seededShares(2500, 2);
      const m = await s.writePartition({
        datasetId: DS1,
        version: 1,
        memberIndex: 3,
        chunkSize: 1000,
        meta: { t: 2, c: 5 },
        columns: [
          { name: 'age', shares: age },
          { name: 'bmi', shares: bmi },
        ],
      });
      expect(m.columns.map((c) => c.chunks.length)).toEqual([3, 3]);
      expect(m.columns[0]!.chunks.map((k) => k.length)).toEqual([1000, 1000, 500]);
      // Known answer: chunk hash = sha256 of the little-endian share bytes.
      const first = new Uint8Array(age.buffer, 0, 8000);
      expect(m.columns[0]!.chunks[0]!.hash).toBe(toHex(sha256Sync(first)));
      expect(m.merkleRoot).toBe(manifestRoot(m.columns));
      expect(await s.readColumn(DS1, 'age')).toEqual(age);
      expect(await s.readColumn(DS1, 1)).toEqual(bmi);
      expect(await s.readChunk(DS1, 'bmi', 2)).toEqual(bmi.subarray(2000));
      const again = await s.getManifest(DS1);
      expect(again).toEqual(m);
      expect(again!.meta).toEqual({ t: 2, c: 5 });
      expect(await s.listDatasets()).toEqual([DS1]);
      await s.close();
    });

    it('survives closing and reopening (persistence)', async () => {
      const s1 = await hooks.open();
      const x = seededShares(777, 3);
      const m = await s1.writePartition({
        datasetId: DS2,
        version: 4,
        memberIndex: 0,
        columns: [{ name: 'x', shares: x }],
      });
      await s1.close();
      const s2 = await hooks.open();
      expect(await s2.getManifest(DS2)).toEqual(m);
      expect(await s2.readColumn(DS2, 'x')).toEqual(x);
      // Reads hand out buffers the caller owns: mutating one never changes the store.
      const mine = await s2.readColumn(DS2, 'x');
      mine.fill(0n);
      expect(await s2.readColumn(DS2, 'x')).toEqual(x);
      expect((await s2.verifyPartition(DS2, m.merkleRoot)).ok).toBe(true);
      await s2.deletePartition(DS2);
      expect(await s2.getManifest(DS2)).toBeUndefined();
      await s2.close();
    });

    it('a new version replaces the old one atomically and old chunks are dropped', async () => {
      const s = await hooks.open();
      const v2 = seededShares(2500, 12);
      await s.writePartition({
        datasetId: DS1,
        version: 2,
        memberIndex: 3,
        chunkSize: 1000,
        columns: [{ name: 'age', shares: v2 }],
      });
      expect(await s.readColumn(DS1, 'age')).toEqual(v2);
      expect((await s.getManifest(DS1))!.columns.map((c) => c.name)).toEqual(['age']);
      await expectCode(s.readColumn(DS1, 'bmi'), 'STORE_NOT_FOUND');
      await expectCode(
        s.writePartition({
          datasetId: DS1,
          version: 2,
          memberIndex: 3,
          columns: [{ name: 'a', shares: v2 }],
        }),
        'STORE_VERSION_CONFLICT',
      );
      await s.close();
    });

    it('a crash mid-write (staged chunks, no commit) leaves the previous version current and intact', async () => {
      const s = await hooks.open();
      const before = await s.getManifest(DS1);
      const cur = await s.readColumn(DS1, 'age');
      // Stage part of version 3, then "crash": never commit.
      await s.stageChunk(DS1, 3, 0, 0, seededShares(1000, 99));
      await s.close();
      const s2 = await hooks.open();
      expect(await s2.getManifest(DS1)).toEqual(before);
      expect(await s2.readColumn(DS1, 'age')).toEqual(cur);
      // Committing the incomplete version is refused and changes nothing.
      const e = await expectCode(
        s2.commitPartition({ datasetId: DS1, version: 3, memberIndex: 3, chunkSize: 1000 }, [
          { name: 'age', rows: 2500 },
        ]),
        'STORE_CHUNK_MISSING',
      );
      expect(e.message).toContain('chunk 1');
      expect(await s2.getManifest(DS1)).toEqual(before);
      // Finishing the staging and committing works; orphans are not readable afterwards.
      const v3 = seededShares(2500, 33);
      for (let k = 0; k < 3; k++)
        await s2.stageChunk(DS1, 3, 0, k, v3.subarray(k * 1000, (k + 1) * 1000));
      const m3 = await s2.commitPartition(
        { datasetId: DS1, version: 3, memberIndex: 3, chunkSize: 1000 },
        [{ name: 'age', rows: 2500 }],
      );
      expect(m3.version).toBe(3);
      expect(await s2.readColumn(DS1, 'age')).toEqual(v3);
      await s2.close();
    });

    it('concurrent commits: the newest version wins, a stale one is refused, a commit never points at dropped chunks', async () => {
      const s = await hooks.open();
      const base = (await s.getManifest(DS1))!.version;
      const a = seededShares(300, 41);
      const b = seededShares(300, 42);
      const w = (v: number, x: BigUint64Array) =>
        s.writePartition({
          datasetId: DS1,
          version: v,
          memberIndex: 3,
          chunkSize: 100,
          columns: [{ name: 'age', shares: x }],
        });
      const results = await Promise.allSettled([w(base + 2, b), w(base + 1, a)]);
      const m = (await s.getManifest(DS1))!;
      expect(m.version).toBe(base + 2);
      expect(await s.readColumn(DS1, 'age')).toEqual(b);
      for (const r of results)
        if (r.status === 'rejected')
          expect(r.reason).toMatchObject({ code: 'STORE_VERSION_CONFLICT' });
      await expectCode(w(base + 1, a), 'STORE_VERSION_CONFLICT');
      // Staged newer version survives an older commit; a staging whose chunks vanished cannot commit.
      for (let k = 0; k < 3; k++)
        await s.stageChunk(DS1, base + 4, 0, k, b.subarray(k * 100, (k + 1) * 100));
      await w(base + 3, a);
      const m4 = await s.commitPartition(
        { datasetId: DS1, version: base + 4, memberIndex: 3, chunkSize: 100 },
        [{ name: 'age', rows: 300 }],
      );
      expect(m4.version).toBe(base + 4);
      expect(await s.readColumn(DS1, 'age')).toEqual(b);
      // Back to the 2500-row, 1000-share-chunk layout the next test expects.
      await s.writePartition({
        datasetId: DS1,
        version: base + 5,
        memberIndex: 3,
        chunkSize: 1000,
        columns: [{ name: 'age', shares: seededShares(2500, 33) }],
      });
      await s.close();
    });

    it('a corrupted chunk is detected with a clear error; verifyPartition names it', async () => {
      const s = await hooks.open();
      const m = (await s.getManifest(DS1))!;
      await hooks.corrupt(DS1, m.version, 0, 1);
      const e = await expectCode(s.readColumn(DS1, 'age'), 'STORE_CHUNK_CORRUPT');
      expect(e.message).toMatch(/column age chunk 1 fails its integrity hash/);
      expect(await s.readChunk(DS1, 'age', 0)).toHaveLength(1000); // other chunks still readable
      const r = await s.verifyPartition(DS1, m.merkleRoot);
      expect(r.ok).toBe(false);
      expect(r.corrupt).toEqual([{ column: 'age', chunk: 1 }]);
      await hooks.drop(DS1, m.version, 0, 2);
      const r2 = await s.verifyPartition(DS1);
      expect(r2.missing).toEqual([{ column: 'age', chunk: 2 }]);
      await expectCode(s.readChunk(DS1, 'age', 2), 'STORE_CHUNK_MISSING');
      // A wrong on-chain commitment is reported too.
      const r3 = await s.verifyPartition(DS1, 'ff'.repeat(32));
      expect(r3.rootMismatch).toBe(true);
      await s.close();
    });

    it('rejects bad input with codes', async () => {
      const s = await hooks.open();
      const ok = seededShares(4, 5);
      await expectCode(
        s.writePartition({
          datasetId: 'xyz',
          version: 1,
          memberIndex: 0,
          columns: [{ name: 'a', shares: ok }],
        }),
        'STORE_BAD_INPUT',
      );
      await expectCode(
        s.writePartition({
          datasetId: DS2,
          version: 0,
          memberIndex: 0,
          columns: [{ name: 'a', shares: ok }],
        }),
        'STORE_BAD_INPUT',
      );
      await expectCode(
        s.writePartition({ datasetId: DS2, version: 1, memberIndex: 0, columns: [] }),
        'STORE_BAD_INPUT',
      );
      await expectCode(
        s.writePartition({
          datasetId: DS2,
          version: 1,
          memberIndex: 0,
          columns: [
            { name: 'a', shares: ok },
            { name: 'a', shares: ok },
          ],
        }),
        'STORE_BAD_INPUT',
      );
      const unreduced = new BigUint64Array([1n, P]);
      const e = await expectCode(
        s.writePartition({
          datasetId: DS2,
          version: 1,
          memberIndex: 0,
          columns: [{ name: 'a', shares: unreduced }],
        }),
        'STORE_BAD_INPUT',
      );
      expect(e.message).toContain('share 1');
      await expectCode(s.readColumn(DS2, 'a'), 'STORE_NOT_FOUND');
      expect(await s.getManifest(DS2)).toBeUndefined();
      await s.close();
    });
  });
}
