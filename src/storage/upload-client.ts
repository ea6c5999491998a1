/**
 * Main-thread side of the upload worker. `shareAndSealInWorker` moves the accepted columns into the
 * worker (transferred: the caller's copies become empty, plaintext does not linger on the UI thread)
 * and returns the sealed bundles; progress arrives through `onProgress`.
 */
import * as Comlink from 'comlink';
import type { BitSpec } from './bits';
import type { AcceptedDataset } from './schema';
import type { SealedForMember, UploadProgress, UploadTarget } from './upload';
import type { UploadWorkerApi } from './upload.worker';

export interface UploadWorker {
  shareAndSeal(
    data: AcceptedDataset,
    target: UploadTarget,
    onProgress?: (p: UploadProgress) => void,
    /** Columns to store bit-decomposed as well (decomposed in the worker). */
    bits?: BitSpec[],
  ): Promise<SealedForMember[]>;
  terminate(): void;
}

export function createUploadWorker(): UploadWorker {
  const worker = new Worker(new URL('./upload.worker.ts', import.meta.url), {
    type: 'module',
    name: 'confide-upload',
  });
  const remote = Comlink.wrap<UploadWorkerApi>(worker);
  return {
    shareAndSeal(data, target, onProgress, bits) {
      const transfer = data.columns.map((c) => c.values.buffer as ArrayBuffer);
      return remote.shareAndSeal(
        Comlink.transfer(data, transfer),
        target,
        onProgress ? Comlink.proxy(onProgress) : undefined,
        bits,
      );
    },
    terminate() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
