/** Small byte helpers shared by the storage modules (no dependencies, browser and Node). */
import { StorageError } from './errors';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** Parses lower- or upper-case hex (optional 0x prefix) of an exact byte length. */
export function fromHex(hex: string, expectedLength: number, what: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length !== expectedLength * 2 || !/^[0-9a-fA-F]*$/.test(h)) {
    throw new StorageError(
      'STORE_BAD_INPUT',
      `${what}: expected ${expectedLength} bytes of hex, got ${JSON.stringify(hex.slice(0, 80))}`,
    );
  }
  const out = new Uint8Array(expectedLength);
  for (let i = 0; i < expectedLength; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function u16le(v: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, true);
  return b;
}

export function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

export const utf8 = new TextEncoder();

/** Shares are stored as the raw bytes of a BigUint64Array; all supported platforms are little-endian. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a share vector as a view (no copy). */
export function shareBytes(shares: BigUint64Array): Uint8Array {
  return new Uint8Array(shares.buffer, shares.byteOffset, shares.byteLength);
}

/** A fresh, exact-length ArrayBuffer holding a copy of the share vector's bytes. */
export function shareBufferCopy(shares: BigUint64Array): ArrayBuffer {
  return shares.buffer.slice(
    shares.byteOffset,
    shares.byteOffset + shares.byteLength,
  ) as ArrayBuffer;
}
