/**
 * On-disk share store for headless Node nodes (same semantics and tests as the IndexedDB store).
 *
 *   <root>/<datasetId>/v<version>/c<column>-k<chunk>.bin   'CFC1' | u32 length | sha256 (32) | shares
 *   <root>/<datasetId>/MANIFEST.json                       the pointer: the current manifest
 *
 * Every file is written to a temporary name, fsynced, then renamed over its final name (rename is
 * atomic on POSIX file systems), and the directory is fsynced. The pointer is renamed last, so a
 * crash at any moment leaves either the old manifest (and the old version's files untouched) or
 * the new one with all its chunks on disk. Older version directories are removed after the flip.
 *
 * Node only: import it from `src/storage/fs-store`, never from browser code.
 */
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors';
import {
  ChunkedShareStore,
  checkDatasetId,
  type ChunkRecord,
  type PartitionManifest,
  type StoreBackend,
} from './store';

const MAGIC = 0x31434643; // 'CFC1' little-endian
const HEADER = 40; // magic 4 + length 4 + sha256 32; a multiple of 8 keeps shares aligned
const MANIFEST = 'MANIFEST.json';

function io(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new StorageError('STORE_IO', `file store ${what} failed: ${msg}`, {}, { cause: e });
}

let tmpCounter = 0;

async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  }
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === 'ENOENT';
}

class FsBackend implements StoreBackend {
  constructor(private readonly root: string) {}

  private dsDir(ds: string): string {
    return join(this.root, checkDatasetId(ds, 'file store'));
  }

  private chunkPath(ds: string, v: number, col: number, chunk: number): string {
    return join(this.dsDir(ds), `v${v}`, `c${col}-k${chunk}.bin`);
  }

  async putChunk(
    ds: string,
    v: number,
    col: number,
    chunk: number,
    rec: ChunkRecord,
  ): Promise<void> {
    try {
      const dir = join(this.dsDir(ds), `v${v}`);
      await mkdir(dir, { recursive: true });
      const file = new Uint8Array(HEADER + rec.bytes.byteLength);
      const dv = new DataView(file.buffer);
      dv.setUint32(0, MAGIC, true);
      dv.setUint32(4, rec.bytes.byteLength / 8, true);
      file.set(rec.hash, 8);
      file.set(new Uint8Array(rec.bytes), HEADER);
      await writeAtomic(this.chunkPath(ds, v, col, chunk), file);
      await syncDir(dir);
    } catch (e) {
      throw io(e, 'putChunk');
    }
  }

  async getChunk(
    ds: string,
    v: number,
    col: number,
    chunk: number,
  ): Promise<ChunkRecord | undefined> {
    let file: Buffer;
    try {
      file = await readFile(this.chunkPath(ds, v, col, chunk));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw io(e, 'getChunk');
    }
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    if (
      file.byteLength < HEADER ||
      dv.getUint32(0, true) !== MAGIC ||
      dv.getUint32(4, true) * 8 !== file.byteLength - HEADER
    ) {
      // Wrong header or truncated file: report as corrupt (empty bytes never match a hash).
      return { bytes: new ArrayBuffer(0), hash: new Uint8Array(32) };
    }
    const hash = new Uint8Array(file.subarray(8, HEADER));
    const bytes = file.buffer.slice(
      file.byteOffset + HEADER,
      file.byteOffset + file.byteLength,
    ) as ArrayBuffer;
    return { bytes, hash };
  }

  async getManifest(ds: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(join(this.dsDir(ds), MANIFEST), 'utf8');
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw io(e, 'getManifest');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new StorageError(
        'STORE_MANIFEST_CORRUPT',
        `manifest of dataset ${ds} is not valid JSON`,
        { datasetId: ds },
        { cause: e },
      );
    }
  }

  /** Commits are serialised per dataset within this process (one process owns a store directory). */
  private readonly locks = new Map<string, Promise<unknown>>();

  commit(
    manifest: PartitionManifest,
    chunks: { col: number; chunk: number; rec: ChunkRecord }[],
  ): Promise<void> {
    const ds = manifest.datasetId;
    const prev = this.locks.get(ds) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.commitLocked(manifest, chunks));
    this.locks.set(ds, run);
    void run
      .finally(() => {
        if (this.locks.get(ds) === run) this.locks.delete(ds);
      })
      .catch(() => undefined);
    return run;
  }

  private async commitLocked(
    manifest: PartitionManifest,
    chunks: { col: number; chunk: number; rec: ChunkRecord }[],
  ): Promise<void> {
    const ds = manifest.datasetId;
    const v = manifest.version;
    const cur = (await this.getManifest(ds)) as { version?: unknown } | undefined;
    if (cur && typeof cur.version === 'number' && cur.version >= v) {
      throw new StorageError(
        'STORE_VERSION_CONFLICT',
        `commit: dataset ${ds} moved to version ${cur.version} meanwhile; version ${v} is stale`,
        {
          datasetId: ds,
          version: v,
        },
      );
    }
    for (const c of chunks) await this.putChunk(ds, v, c.col, c.chunk, c.rec);
    let have: string[] = [];
    try {
      have = await readdir(join(this.dsDir(ds), `v${v}`));
    } catch (e) {
      if (!isNotFound(e)) throw io(e, 'commit');
    }
    const missing = manifest.columns
      .flatMap((c, ci) => c.chunks.map((_, ki) => `c${ci}-k${ki}.bin`))
      .filter((f) => !have.includes(f));
    if (missing.length) {
      throw new StorageError(
        'STORE_CHUNK_MISSING',
        `commit: dataset ${ds} version ${v} lacks ${missing.length} chunk files (first ${missing[0]})`,
        {
          datasetId: ds,
          version: v,
        },
      );
    }
    try {
      const dir = this.dsDir(ds);
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest)));
      await syncDir(dir);
      // After the flip: drop older versions (and orphans of older crashed stagings) and temp files.
      for (const name of await readdir(dir)) {
        const m = /^v(\d+)$/.exec(name);
        if ((m && Number(m[1]) < v) || name.includes('.tmp-')) {
          await rm(join(dir, name), { recursive: true, force: true });
        }
      }
    } catch (e) {
      throw io(e, 'commit');
    }
  }

  async listDatasets(): Promise<string[]> {
    try {
      const out: string[] = [];
      for (const name of await readdir(this.root)) {
        if (/^[0-9a-f]{64}$/.test(name) && (await this.getManifest(name)) !== undefined)
          out.push(name);
      }
      return out.sort();
    } catch (e) {
      if (isNotFound(e)) return [];
      throw io(e, 'listDatasets');
    }
  }

  async deleteDataset(ds: string): Promise<void> {
    const dir = this.dsDir(ds);
    try {
      // Remove the pointer first: a crash part-way leaves no half-present partition.
      await rm(join(dir, MANIFEST), { force: true });
      await rm(dir, { recursive: true, force: true });
    } catch (e) {
      throw io(e, 'deleteDataset');
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class FsShareStore extends ChunkedShareStore {
  static async open(root: string): Promise<FsShareStore> {
    try {
      await mkdir(root, { recursive: true });
    } catch (e) {
      throw io(e, `open(${root})`);
    }
    return new FsShareStore(new FsBackend(root));
  }
}
