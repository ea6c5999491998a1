/**
 * The PRG equals AES-256-CTR as Node's OpenSSL computes it in a reference written here, with the
 * documented counter block and the 61-bit element mapping, through both ciphers it may use:
 * Node's (chosen in Node) and WebCrypto's (chosen in browsers and workers).
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { P } from './field';
import { prgExpand, prgKey } from './prg';

function reference(raw: Uint8Array, step: number, stream: number, len: number): bigint[] {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(step >>> 0, 0);
  iv.writeUInt32LE(stream >>> 0, 4);
  const ks = createCipheriv('aes-256-ctr', raw, iv).update(Buffer.alloc(len * 8));
  return Array.from({ length: len }, (_, i) => {
    const w = ks.readBigUInt64LE(8 * i) & P; // low 61 bits
    return w === P ? 0n : w;
  });
}

describe('prgExpand', () => {
  const material = BigUint64Array.of(
    0x0123456789abcdefn,
    0x1fedcba987654321n,
    0x0f0e0d0c0b0a0908n,
    0x1122334455667788n,
  );
  const raw = new Uint8Array(material.buffer.slice(0));

  it.each([
    [1, false],
    [7, false],
    [256, false],
    [257, false],
    [512, false],
    [5000, false],
    [1, true],
    [7, true],
    [512, true],
    [5000, true],
  ])(
    '%i elements (WebCrypto: %s): equal to AES-256-CTR computed by OpenSSL',
    async (len, webCrypto) => {
      const key = await prgKey(material, { webCrypto });
      expect('subtle' in key).toBe(webCrypto);
      for (const [step, stream] of [
        [0, 0],
        [7, 2],
        [0xfffffffe, 1],
      ] as const) {
        const want = reference(raw, step, stream, len);
        expect(Array.from(await prgExpand(key, step, stream, len))).toEqual(want);
      }
    },
  );

  it('different steps and streams give different streams', async () => {
    const key = await prgKey(material);
    const a = await prgExpand(key, 1, 1, 8);
    const b = await prgExpand(key, 1, 2, 8);
    const c = await prgExpand(key, 2, 1, 8);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    for (const v of a) expect(v < P).toBe(true);
  });
});
