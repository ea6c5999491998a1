/**
 * Randomness sources. Production code uses `cryptoRng` (crypto.getRandomValues, available in
 * browsers, workers and Node). `seededRng` is deterministic and NOT secure: tests only.
 */
export interface Rng {
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

/** getRandomValues accepts at most 65536 bytes per call. */
const GRV_MAX = 65536;

export const cryptoRng: Rng = {
  fill(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += GRV_MAX) {
      globalThis.crypto.getRandomValues(bytes.subarray(off, Math.min(bytes.length, off + GRV_MAX)));
    }
  },
};

/** xoshiro128** seeded through splitmix32. Deterministic, fast, NOT cryptographic: tests only. */
export function seededRng(seed: number): Rng {
  let x = seed >>> 0;
  const split = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const s = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= s;
    d = rotl(d, 11);
    return r;
  };
  return {
    fill(bytes: Uint8Array): void {
      const whole = bytes.length & ~3;
      const aligned = bytes.byteOffset % 4 === 0;
      if (aligned) {
        const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, whole / 4);
        for (let i = 0; i < u32.length; i++) u32[i] = next();
      } else {
        for (let i = 0; i < whole; i += 4) {
          const v = next();
          bytes[i] = v & 255;
          bytes[i + 1] = (v >>> 8) & 255;
          bytes[i + 2] = (v >>> 16) & 255;
          bytes[i + 3] = v >>> 24;
        }
      }
      for (let i = whole; i < bytes.length; i++) bytes[i] = next() & 255;
    },
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}
