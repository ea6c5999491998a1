/**
 * The owner's secret-sharing step in a Web Worker (comlink): shares every accepted column and seals
 * each member's bundle, off the UI thread (with the bit-decomposed copies the caller asks for). Column buffers come in and sealed bundles go out with
 * transfer lists (no copies). Use it through `createUploadWorker` (./upload-client).
 */
import * as Comlink from 'comlink';
import { Field } from '../mpc/index';
import { bitColumnName, bitDecompose, type BitSpec } from './bits';
import { StorageError } from './errors';
import type { AcceptedDataset } from './schema';
import { FIELD_P } from './store';
import {
  shareAndSeal,
  type SealedForMember,
  type UploadProgress,
  type UploadTarget,
} from './upload';

let field: Field | undefined;

function checkPayload(data: AcceptedDataset, target: UploadTarget): void {
  const bad = (m: string) => new StorageError('STORE_BAD_INPUT', `upload worker: ${m}`);
  if (!Array.isArray(data?.columns) || data.columns.length === 0) throw bad('no columns');
  for (const c of data.columns) {
    if (!(c.values instanceof BigUint64Array) || c.values.length !== data.acceptedRows)
      throw bad(`column ${String(c.name)} is not ${data.acceptedRows} field elements`);
    for (let i = 0; i < c.values.length; i++)
      if (c.values[i]! >= FIELD_P) throw bad(`column ${c.name} value ${i} is not reduced`);
  }
  if (
    !Array.isArray(target?.members) ||
    target.members.some((m) => !(m.publicKey instanceof Uint8Array) || m.publicKey.length !== 33)
  ) {
    throw bad('members must carry 33-byte public keys');
  }
}

const api = {
  async shareAndSeal(
    data: AcceptedDataset,
    target: UploadTarget,
    onProgress?: (p: UploadProgress) => void,
    bits?: BitSpec[],
  ): Promise<SealedForMember[]> {
    checkPayload(data, target);
    field ??= new Field();
    // Bit-decomposed copies of the columns in `bits` (src/storage/bits.ts), made here beside the
    // plaintext and shared like every column.
    const extra = bitDecompose(data.columns, bits ?? []).map((b) => ({
      ...b,
      type: { kind: 'int' as const },
      min: 0,
      max: 1,
    }));
    const all = { ...data, columns: [...data.columns, ...extra] };
    // a decomposed column's value vector is not sent: members compute it from its bits
    const made = new Set(extra.map((b) => b.name));
    const derived = (bits ?? [])
      .map((spec) => ({
        name: spec.name,
        lo: spec.lo,
        bits: Array.from({ length: spec.bits }, (_, j) => bitColumnName(spec.name, j)),
      }))
      .filter((d) => d.bits.every((b) => made.has(b)));
    const out = await shareAndSeal(all, target, {
      field,
      derived,
      ...(onProgress ? { onProgress: (p: UploadProgress) => void onProgress(p) } : {}),
    });
    for (const c of all.columns) c.values.fill(0n);
    return Comlink.transfer(
      out,
      out.map((s) => s.sealed.buffer as ArrayBuffer),
    );
  },
};

export type UploadWorkerApi = typeof api;
Comlink.expose(api);
