/**
 * IndexedDB share store (browser tabs and workers). Two object stores in one database:
 *   chunks      key [datasetId, version, column, chunk] -> { bytes: ArrayBuffer, hash: Uint8Array }
 *   partitions  key datasetId                         -> PartitionManifest (the pointer)
 * A commit checks the pointer is still older (compare-and-swap), puts the new version's chunks (if
 * not staged before), checks all of them are present, deletes the dataset's older versions and puts
 * the manifest in ONE readwrite transaction with strict durability: IndexedDB applies all of it or
 * nothing, so a crash or a killed tab mid-write leaves the previous version current and intact.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { StorageError } from './errors';
import {
  ChunkedShareStore,
  checkDatasetId,
  type ChunkRecord,
  type PartitionManifest,
  type StoreBackend,
} from './store';

export const IDB_SCHEMA_VERSION = 1;
export const DEFAULT_IDB_NAME = 'confide-shares';

type ChunkKey = [string, number, number, number];

interface SharesDB extends DBSchema {
  chunks: { key: ChunkKey; value: ChunkRecord };
  partitions: { key: string; value: PartitionManifest };
}

function wrapIo(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const name = e instanceof Error ? e.name : 'Error';
  const msg = e instanceof Error ? e.message : String(e);
  // QuotaExceededError is the one users can act on: say so.
  return new StorageError(
    'STORE_IO',
    `IndexedDB ${what} failed: ${name}: ${msg}`,
    {},
    { cause: e },
  );
}

class IdbBackend implements StoreBackend {
  constructor(private readonly db: IDBPDatabase<SharesDB>) {}

  async putChunk(
    datasetId: string,
    version: number,
    col: number,
    chunk: number,
    rec: ChunkRecord,
  ): Promise<void> {
    try {
      const tx = this.db.transaction('chunks', 'readwrite', { durability: 'strict' });
      await tx.store.put(rec, [datasetId, version, col, chunk]);
      await tx.done;
    } catch (e) {
      throw wrapIo(e, 'putChunk');
    }
  }

  async getChunk(
    datasetId: string,
    version: number,
    col: number,
    chunk: number,
  ): Promise<ChunkRecord | undefined> {
    try {
      const rec = await this.db.get('chunks', [datasetId, version, col, chunk]);
      if (rec === undefined) return undefined;
      if (!(rec.bytes instanceof ArrayBuffer) || !(rec.hash instanceof Uint8Array)) {
        // A record of the wrong shape is a corrupt chunk, not a crash.
        return { bytes: new ArrayBuffer(0), hash: new Uint8Array(32) };
      }
      return rec;
    } catch (e) {
      throw wrapIo(e, 'getChunk');
    }
  }

  async getManifest(datasetId: string): Promise<unknown> {
    try {
      return await this.db.get('partitions', datasetId);
    } catch (e) {
      throw wrapIo(e, 'getManifest');
    }
  }

  async commit(
    manifest: PartitionManifest,
    chunks: { col: number; chunk: number; rec: ChunkRecord }[],
  ): Promise<void> {
    const ds = manifest.datasetId;
    const v = manifest.version;
    let conflict: StorageError | undefined;
    try {
      const tx = this.db.transaction(['chunks', 'partitions'], 'readwrite', {
        durability: 'strict',
      });
      const done = tx.done;
      done.catch(() => undefined);
      const ps = tx.objectStore('partitions');
      const cs = tx.objectStore('chunks');
      // Compare-and-swap inside the transaction: a concurrent commit of a newer version wins.
      const cur = await ps.get(ds);
      if (cur && typeof cur.version === 'number' && cur.version >= v) {
        conflict = new StorageError(
          'STORE_VERSION_CONFLICT',
          `commit: dataset ${ds} moved to version ${cur.version} meanwhile; version ${v} is stale`,
          { datasetId: ds, version: v },
        );
        tx.abort();
        throw conflict;
      }
      await Promise.all(chunks.map((c) => cs.put(c.rec, [ds, v, c.col, c.chunk])));
      // Every chunk the manifest names must be present (a concurrent commit may have dropped stagings).
      const expected = manifest.columns.reduce((a, c) => a + c.chunks.length, 0);
      const have = await cs.count(IDBKeyRange.bound([ds, v], [ds, v + 1], false, true));
      if (have !== expected) {
        conflict = new StorageError(
          'STORE_CHUNK_MISSING',
          `commit: dataset ${ds} version ${v} has ${have} of its ${expected} chunks in the store`,
          { datasetId: ds, version: v },
        );
        tx.abort();
        throw conflict;
      }
      // Drop older versions (and orphans of older crashed stagings), then flip the pointer.
      await cs.delete(IDBKeyRange.bound([ds, -Infinity], [ds, v], false, true));
      await ps.put(manifest, ds);
      await done;
    } catch (e) {
      throw conflict ?? wrapIo(e, 'commit');
    }
  }

  async listDatasets(): Promise<string[]> {
    try {
      return (await this.db.getAllKeys('partitions')).map(String);
    } catch (e) {
      throw wrapIo(e, 'listDatasets');
    }
  }

  async deleteDataset(datasetId: string): Promise<void> {
    try {
      const tx = this.db.transaction(['chunks', 'partitions'], 'readwrite', {
        durability: 'strict',
      });
      await Promise.all([
        tx
          .objectStore('chunks')
          .delete(IDBKeyRange.bound([datasetId, -Infinity], [datasetId, Infinity])),
        tx.objectStore('partitions').delete(datasetId),
        tx.done,
      ]);
    } catch (e) {
      throw wrapIo(e, 'deleteDataset');
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

export class IdbShareStore extends ChunkedShareStore {
  /** Opens (creating if needed) the share database `name` (default `confide-shares`). */
  static async open(name: string = DEFAULT_IDB_NAME): Promise<IdbShareStore> {
    if (typeof indexedDB === 'undefined') {
      throw new StorageError('STORE_IO', 'IndexedDB is not available in this context');
    }
    try {
      const db = await openDB<SharesDB>(name, IDB_SCHEMA_VERSION, {
        upgrade(d, oldVersion) {
          if (oldVersion < 1) {
            d.createObjectStore('chunks');
            d.createObjectStore('partitions');
          }
        },
      });
      return new IdbShareStore(new IdbBackend(db));
    } catch (e) {
      throw wrapIo(e, `open(${name})`);
    }
  }
}

/** Raw access for tests and diagnostics: overwrite the bytes of a stored chunk without updating hashes. */
export async function corruptChunkForTest(
  name: string,
  datasetId: string,
  version: number,
  col: number,
  chunk: number,
  byteIndex: number,
): Promise<void> {
  checkDatasetId(datasetId, 'corruptChunkForTest');
  const db = await openDB<SharesDB>(name, IDB_SCHEMA_VERSION);
  try {
    const rec = await db.get('chunks', [datasetId, version, col, chunk]);
    if (!rec)
      throw new StorageError('STORE_NOT_FOUND', 'corruptChunkForTest: no such chunk', {
        datasetId,
        chunk,
      });
    const bytes = new Uint8Array(rec.bytes.slice(0));
    bytes[byteIndex] = bytes[byteIndex]! ^ 0x01;
    await db.put('chunks', { bytes: bytes.buffer, hash: rec.hash }, [
      datasetId,
      version,
      col,
      chunk,
    ]);
  } finally {
    db.close();
  }
}
