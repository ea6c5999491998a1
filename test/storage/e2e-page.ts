/**
 * Page driven by e2e/storage.spec.ts in real Chromium: the product's IndexedDB share store, plus raw
 * IndexedDB reads that bypass it (to check what is really on disk) and a tamper helper.
 * Share bytes cross the Playwright boundary as base64; nothing here logs shares.
 */
import { corruptChunkForTest, DEFAULT_IDB_NAME, IdbShareStore } from '../../src/storage/idb-store';
import { isStorageError } from '../../src/storage/errors';
import type { PartitionManifest, VerifyReport } from '../../src/storage/store';
import { fromHex } from '../../src/storage/bytes';
import { parseCsv } from '../../src/storage/csv';
import type { Receipt } from '../../src/storage/receipt';
import { acceptValidation, inferSchema, validateAndEncode } from '../../src/storage/schema';
import { acceptShareBundle, collectReceipts, type UploadTarget } from '../../src/storage/upload';
import { createUploadWorker } from '../../src/storage/upload-client';

function bytesToB64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function b64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export interface OwnerArgs {
  csv: string;
  datasetId: string;
  t: number;
  chunkSize: number;
  members: string[];
}

function targetOf(a: OwnerArgs): UploadTarget {
  return {
    datasetId: a.datasetId,
    version: 1,
    t: a.t,
    chunkSize: a.chunkSize,
    members: a.members.map((hex, j) => ({
      memberIndex: j,
      publicKey: fromHex(hex, 33, 'member key'),
    })),
  };
}

function b64ToShares(b64: string): BigUint64Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new BigUint64Array(bytes.buffer);
}

function sharesToB64(s: BigUint64Array): string {
  const bytes = new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export interface WriteArgs {
  datasetId: string;
  version: number;
  memberIndex: number;
  chunkSize: number;
  columns: { name: string; b64: string }[];
}

const held: BigUint64Array[] = [];

const api = {
  /** Loads every column of a partition and keeps it in memory (what a node holds for a query). */
  async holdAll(datasetId: string): Promise<number> {
    const s = await IdbShareStore.open();
    try {
      const m = await s.getManifest(datasetId);
      for (const c of m?.columns ?? []) held.push(await s.readColumn(datasetId, c.name));
      return held.reduce((a, v) => a + v.length, 0);
    } finally {
      await s.close();
    }
  },
  /** Hospital tab: CSV -> schema -> validate -> accept -> share and seal in a Web Worker. */
  async ownerUpload(a: OwnerArgs): Promise<{
    sealed: string[];
    progress: string[];
    acceptedRows: number;
    rejected: number;
    mainThreadEmptied: boolean;
  }> {
    const csv = parseCsv(new TextEncoder().encode(a.csv));
    const report = validateAndEncode(csv, inferSchema(csv).schema);
    const accepted = acceptValidation(report, { dropRejectedRows: true });
    const progress: string[] = [];
    const w = createUploadWorker();
    try {
      const sealed = await w.shareAndSeal(accepted, targetOf(a), (p) =>
        progress.push(`${p.phase} ${p.done}/${p.total}`),
      );
      return {
        sealed: sealed.map((s) => bytesToB64(s.sealed)),
        progress,
        acceptedRows: report.acceptedRows,
        rejected: report.rejectedRows,
        // The plaintext columns were transferred to the worker: nothing left on the UI thread.
        mainThreadEmptied: accepted.columns.every((c) => c.values.length === 0),
      };
    } finally {
      w.terminate();
    }
  },
  /** Node tab: decrypt, stage, commit, sign. */
  async memberAccept(a: {
    b64: string;
    skHex: string;
    datasetId: string;
    memberIndex: number;
  }): Promise<Receipt> {
    const s = await IdbShareStore.open();
    try {
      const { receipt } = await acceptShareBundle(
        s,
        b64ToBytes(a.b64),
        fromHex(a.skHex, 32, 'node key'),
        {
          datasetId: a.datasetId,
          version: 1,
          memberIndex: a.memberIndex,
        },
      );
      return receipt;
    } finally {
      await s.close();
    }
  },
  ownerCollect(a: OwnerArgs, receipts: Receipt[]): string[] {
    return collectReceipts(targetOf(a), receipts);
  },
  async write(a: WriteArgs): Promise<PartitionManifest> {
    const s = await IdbShareStore.open();
    try {
      return await s.writePartition({
        datasetId: a.datasetId,
        version: a.version,
        memberIndex: a.memberIndex,
        chunkSize: a.chunkSize,
        columns: a.columns.map((c) => ({ name: c.name, shares: b64ToShares(c.b64) })),
      });
    } finally {
      await s.close();
    }
  },
  /** Starts a write and does not wait for it (the test closes the browser meanwhile). */
  writeNoWait(a: WriteArgs): void {
    void api.write(a).catch(() => undefined);
  },
  async read(
    datasetId: string,
  ): Promise<{ manifest: PartitionManifest | undefined; columns: Record<string, string> }> {
    const s = await IdbShareStore.open();
    try {
      const manifest = await s.getManifest(datasetId);
      const columns: Record<string, string> = {};
      for (const c of manifest?.columns ?? [])
        columns[c.name] = sharesToB64(await s.readColumn(datasetId, c.name));
      return { manifest, columns };
    } finally {
      await s.close();
    }
  },
  async verify(datasetId: string, root?: string): Promise<VerifyReport> {
    const s = await IdbShareStore.open();
    try {
      return await s.verifyPartition(datasetId, root);
    } finally {
      await s.close();
    }
  },
  /** Reads a column through the store and returns the coded error, if any. */
  async readError(
    datasetId: string,
    column: string,
  ): Promise<{ code: string; message: string } | null> {
    const s = await IdbShareStore.open();
    try {
      await s.readColumn(datasetId, column);
      return null;
    } catch (e) {
      if (isStorageError(e)) return { code: e.code, message: e.message };
      return { code: 'UNEXPECTED', message: String(e) };
    } finally {
      await s.close();
    }
  },
  corrupt(datasetId: string, version: number, col: number, chunk: number): Promise<void> {
    return corruptChunkForTest(DEFAULT_IDB_NAME, datasetId, version, col, chunk, 3);
  },
  /** Raw IndexedDB, bypassing the store: chunk keys and the types of what is stored. */
  raw(): Promise<{
    keys: [string, number, number, number][];
    bytesIsArrayBuffer: boolean;
    hashLength: number;
    pointers: string[];
  }> {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DEFAULT_IDB_NAME);
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        const tx = db.transaction(['chunks', 'partitions'], 'readonly');
        const kreq = tx.objectStore('chunks').getAllKeys();
        const vreq = tx.objectStore('chunks').openCursor();
        const preq = tx.objectStore('partitions').getAllKeys();
        let bytesIsArrayBuffer = false;
        let hashLength = 0;
        vreq.onsuccess = () => {
          const c = vreq.result;
          if (c) {
            const v = c.value as { bytes: unknown; hash: Uint8Array };
            bytesIsArrayBuffer = v.bytes instanceof ArrayBuffer;
            hashLength = v.hash.length;
          }
        };
        tx.oncomplete = () => {
          db.close();
          resolve({
            keys: kreq.result as [string, number, number, number][],
            bytesIsArrayBuffer,
            hashLength,
            pointers: preq.result.map(String),
          });
        };
        tx.onerror = () => reject(tx.error);
      };
    });
  },
};

declare global {
  interface Window {
    storageTest: typeof api;
  }
}
window.storageTest = api;
document.getElementById('status')!.textContent = 'ready';
