import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeAbort, encodeData, HEADER_BYTES, MAX_FRAME_ELEMENTS } from './codec';
import { MpcError, type MpcErrorCode } from './errors';
import { P } from './field';
import { seededRng } from './rng';

const good = () => encodeData(2, 77, 9, [BigUint64Array.of(1n, P - 1n, 0n)]);

function mutate(f: (b: Uint8Array, dv: DataView) => void, from = good()): Uint8Array {
  const b = from.slice();
  f(b, new DataView(b.buffer));
  return b;
}

describe('frame codec', () => {
  it('round-trips data and abort frames (unaligned buffers too)', () => {
    const f = decodeFrame(good(), 2, 5);
    expect(f).toMatchObject({ type: 0, sender: 2, session: 77, op: 9 });
    expect(f.type === 0 && Array.from(f.payload)).toEqual([1n, P - 1n, 0n]);
    const shifted = new Uint8Array(good().length + 3);
    shifted.set(good(), 3);
    const g = decodeFrame(shifted.subarray(3), 2, 5);
    expect(g.type === 0 && Array.from(g.payload)).toEqual([1n, P - 1n, 0n]);
    const a = decodeFrame(encodeAbort(1, 5, 3, 'ERR_CHEATING'), 1, 5);
    expect(a).toMatchObject({ type: 1, sender: 1, reason: 'ERR_CHEATING' });
  });

  it('freezes the wire format (fixture of version 1)', () => {
    const hex = Buffer.from(
      encodeData(1, 0x01020304, 5, [BigUint64Array.of(0x0a0b0c0dn)]),
    ).toString('hex');
    expect(hex).toBe('cf0100000100000004030201050000000100000000000000' + '0d0c0b0a00000000');
  });

  const table: [string, Uint8Array, MpcErrorCode, RegExp][] = [
    ['empty', new Uint8Array(0), 'ERR_FRAME_TRUNCATED', /0 bytes, shorter than the 24-byte header/],
    ['header cut', good().subarray(0, 10), 'ERR_FRAME_TRUNCATED', /10 bytes/],
    [
      'payload cut',
      good().subarray(0, HEADER_BYTES + 20),
      'ERR_FRAME_TRUNCATED',
      /declares 3 elements but carries 20 payload bytes/,
    ],
    [
      'trailing bytes',
      new Uint8Array([...good(), 1, 2]),
      'ERR_FRAME_LENGTH',
      /2 bytes after its 3 elements/,
    ],
    ['bad magic', mutate((b) => (b[0] = 0x00)), 'ERR_FRAME_MAGIC', /magic 0x0/],
    ['future version', mutate((b) => (b[1] = 2)), 'ERR_FRAME_MAGIC', /version 2/],
    ['reserved set', mutate((b) => (b[3] = 1)), 'ERR_FRAME_MAGIC', /reserved/],
    ['unknown type', mutate((b) => (b[2] = 9)), 'ERR_FRAME_TYPE', /unknown type 9/],
    [
      'spoofed sender',
      mutate((_, dv) => dv.setUint16(4, 3, true)),
      'ERR_SENDER',
      /claims to be from party 3/,
    ],
    [
      'sender out of range',
      mutate((_, dv) => dv.setUint16(4, 60000, true)),
      'ERR_SENDER',
      /outside 0..4/,
    ],
    [
      'oversize',
      mutate((_, dv) => dv.setUint32(16, MAX_FRAME_ELEMENTS + 1, true)),
      'ERR_FRAME_OVERSIZE',
      /limit/,
    ],
    [
      'value = p',
      mutate((_, dv) => dv.setBigUint64(HEADER_BYTES + 8, P, true)),
      'ERR_FIELD_RANGE',
      /element 1 is not a field element/,
    ],
    [
      'value = 2^64-1',
      mutate((_, dv) => dv.setBigUint64(HEADER_BYTES, (1n << 64n) - 1n, true)),
      'ERR_FIELD_RANGE',
      /element 0/,
    ],
    [
      'abort length lie',
      mutate((_, dv) => dv.setUint32(16, 99, true), encodeAbort(2, 1, 1, 'x')),
      'ERR_FRAME_LENGTH',
      /declared 99 reason bytes/,
    ],
  ];

  it.each(table)('rejects %s with a coded error naming the place', (_name, bytes, code, msg) => {
    let err: unknown;
    try {
      decodeFrame(bytes, 2, 5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).code).toBe(code);
    expect((err as MpcError).message).toMatch(msg);
    expect((err as MpcError).message).toMatch(/party 2/);
  });

  it('never throws anything but MpcError on random bytes, and never allocates beyond the frame', () => {
    const rng = seededRng(99);
    for (let i = 0; i < 3000; i++) {
      const len = i % 80;
      const b = new Uint8Array(len);
      rng.fill(b);
      if (i % 3 === 0 && len >= HEADER_BYTES) b.set(good().subarray(0, 4)); // plausible headers too
      try {
        const f = decodeFrame(b, 2, 5);
        if (f.type === 0) expect(f.payload.byteLength).toBeLessThanOrEqual(len);
      } catch (e) {
        expect(e).toBeInstanceOf(MpcError);
      }
    }
  });
});
