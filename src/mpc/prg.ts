/**
 * Pseudo-random field elements from a key shared by two parties: AES-256 in counter mode through
 * WebCrypto (native speed in browsers, workers and Node). A dealer and one receiver expand the same
 * key at the same (step, stream) to the same vector, so the dealer need not send that share.
 *
 * Counter block: step (u32 LE) ‖ stream (u32 LE) ‖ 64-bit block counter. Each (key, step, stream)
 * is used once. Elements are the low 61 bits of each 8-byte word; the one non-element 2^61 − 1 maps
 * to 0 (statistical distance 2^-61 from uniform).
 */
import { MpcError } from './errors';
import type { Vec } from './field';

/** Bytes of key material: four 61-bit field elements carry 244 bits of entropy. */
export const PRG_KEY_ELEMENTS = 4;

export async function prgKey(material: Vec): Promise<CryptoKey> {
  if (material.length !== PRG_KEY_ELEMENTS) {
    throw new MpcError(
      'ERR_PARAM',
      `prgKey: expected ${PRG_KEY_ELEMENTS} elements of key material, got ${material.length}`,
    );
  }
  const raw = new Uint8Array(32);
  raw.set(new Uint8Array(material.buffer, material.byteOffset, 32));
  return globalThis.crypto.subtle.importKey('raw', raw, { name: 'AES-CTR' }, false, ['encrypt']);
}

let zeros = new Uint8Array(0);

export async function prgExpand(
  key: CryptoKey,
  step: number,
  stream: number,
  len: number,
): Promise<Vec> {
  const bytes = len * 8;
  if (zeros.length < bytes) zeros = new Uint8Array(Math.max(bytes, 1 << 16));
  const counter = new Uint8Array(16);
  const dv = new DataView(counter.buffer);
  dv.setUint32(0, step >>> 0, true);
  dv.setUint32(4, stream >>> 0, true);
  const ks = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-CTR', counter, length: 64 },
    key,
    zeros.subarray(0, bytes),
  );
  const out = new BigUint64Array(ks, 0, len);
  const u32 = new Uint32Array(ks, 0, 2 * len);
  for (let i = 1; i < u32.length; i += 2) {
    u32[i]! &= 0x1fffffff;
    if (u32[i] === 0x1fffffff && u32[i - 1] === 0xffffffff) {
      u32[i] = 0;
      u32[i - 1] = 0;
    }
  }
  return out;
}
