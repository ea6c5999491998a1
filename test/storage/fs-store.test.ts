import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsShareStore } from '../../src/storage/fs-store';
import { shareStoreSuite } from './store-suite';
import { DS1, seededShares } from './helpers';

const ROOT = mkdtempSync(join(tmpdir(), 'confide-fs-store-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
const chunkFile = (ds: string, v: number, col: number, chunk: number) =>
  join(ROOT, 'suite', ds, `v${v}`, `c${col}-k${chunk}.bin`);

shareStoreSuite('on-disk (Node)', {
  open: () => FsShareStore.open(join(ROOT, 'suite')),
  corrupt: async (ds, v, col, chunk) => {
    const f = chunkFile(ds, v, col, chunk);
    const b = readFileSync(f);
    b[45] = b[45]! ^ 1;
    writeFileSync(f, b);
  },
  drop: async (ds, v, col, chunk) => rmSync(chunkFile(ds, v, col, chunk)),
});

describe('on-disk store: crash artefacts', () => {
  it('a half-written pointer (temp file) and a partial new version leave the old version current', async () => {
    const root = join(ROOT, 'crash');
    const s = await FsShareStore.open(root);
    const x = seededShares(300, 7);
    await s.writePartition({
      datasetId: DS1,
      version: 1,
      memberIndex: 1,
      chunkSize: 128,
      columns: [{ name: 'x', shares: x }],
    });
    // Simulate a crash during a v2 write: staged chunk file, torn temp manifest, truncated chunk.
    await s.stageChunk(DS1, 2, 0, 0, seededShares(128, 8));
    writeFileSync(join(root, DS1, 'MANIFEST.json.tmp-1-1'), '{"datasetId":"trunc');
    writeFileSync(join(root, DS1, 'v2', 'c0-k1.bin'), new Uint8Array(17));
    const s2 = await FsShareStore.open(root);
    expect((await s2.getManifest(DS1))!.version).toBe(1);
    expect(await s2.readColumn(DS1, 'x')).toEqual(x);
    // The truncated chunk is refused at commit, then the next good commit removes the debris.
    await expect(
      s2.commitPartition({ datasetId: DS1, version: 2, memberIndex: 1, chunkSize: 128 }, [
        { name: 'x', rows: 200 },
      ]),
    ).rejects.toMatchObject({
      code: 'STORE_BAD_INPUT',
    });
    await s2.writePartition({
      datasetId: DS1,
      version: 3,
      memberIndex: 1,
      chunkSize: 128,
      columns: [{ name: 'x', shares: x }],
    });
    expect(readdirSync(join(root, DS1)).sort()).toEqual(['MANIFEST.json', 'v3']);
    expect(existsSync(join(root, DS1, 'v1'))).toBe(false);
  });

  it('a manifest that is not JSON is a coded error, not a crash', async () => {
    const root = join(ROOT, 'badjson');
    const s = await FsShareStore.open(root);
    await s.writePartition({
      datasetId: DS1,
      version: 1,
      memberIndex: 0,
      columns: [{ name: 'x', shares: seededShares(3, 1) }],
    });
    writeFileSync(join(root, DS1, 'MANIFEST.json'), '{');
    await expect(s.getManifest(DS1)).rejects.toMatchObject({ code: 'STORE_MANIFEST_CORRUPT' });
    writeFileSync(
      join(root, DS1, 'MANIFEST.json'),
      JSON.stringify({ datasetId: DS1, version: -1 }),
    );
    await expect(s.readColumn(DS1, 'x')).rejects.toMatchObject({ code: 'STORE_MANIFEST_CORRUPT' });
  });
});
