import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from './errors';
import {
  CHUNK_BYTES,
  FRAME_DATA,
  FRAME_PING,
  Reassembler,
  decodeFrame,
  encodeAuth,
  encodeData,
  encodeHello,
  encodePing,
  type Frame,
} from './frame';

function chunks(seq0: number, channel: number, msg: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  do {
    const end = Math.min(msg.length, off + CHUNK_BYTES);
    out.push(
      encodeData(
        seq0 + out.length,
        channel,
        msg.subarray(off, end),
        off === 0,
        end === msg.length,
        msg.length,
      ),
    );
    off = end;
  } while (off < msg.length);
  return out;
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as MeshError).code;
  }
  return 'no error';
};

describe('mesh framing', () => {
  it('round-trips every frame kind (frozen bytes for HELLO and PING)', () => {
    const key = new Uint8Array(33).fill(2);
    const nonce = new Uint8Array(32).fill(7);
    const hello = encodeHello(0, key, nonce);
    expect(Array.from(hello.subarray(0, 7))).toEqual([1, 0, 0, 0, 0, 1, 2]);
    expect(decodeFrame(hello)).toEqual({ kind: 1, seq: 0, version: 1, publicKey: key, nonce });
    expect(decodeFrame(encodeAuth(1, new Uint8Array(64).fill(9)))).toEqual({
      kind: 2,
      seq: 1,
      signature: new Uint8Array(64).fill(9),
    });
    const ping = encodePing(FRAME_PING, 0x01020304, 1.5);
    expect(Array.from(ping)).toEqual([3, 1, 2, 3, 4, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(decodeFrame(ping)).toEqual({ kind: 3, seq: 0x01020304, clock: 1.5 });
  });

  it('chunks and reassembles messages of any size on any channel', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * CHUNK_BYTES + 5 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (len, channel) => {
          const msg = new Uint8Array(len);
          for (let i = 0; i < len; i++) msg[i] = (i * 31 + 7) & 255;
          const r = new Reassembler(1 << 20, 1 << 21);
          const frames = chunks(10, channel, msg);
          expect(frames.length).toBe(Math.max(1, Math.ceil(len / CHUNK_BYTES)));
          let got: Uint8Array | undefined;
          frames.forEach((b, i) => {
            const f = decodeFrame(b) as Extract<Frame, { kind: typeof FRAME_DATA }>;
            expect(f.seq).toBe(10 + i);
            expect(f.channel).toBe(channel);
            const out = r.push(f);
            if (i < frames.length - 1) expect(out).toBeUndefined();
            else got = out;
          });
          expect(got !== undefined && Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['short header', new Uint8Array([5, 0, 0])],
    ['unknown kind', new Uint8Array([99, 0, 0, 0, 0])],
    ['HELLO too short', new Uint8Array([1, 0, 0, 0, 0, 1, 2, 3])],
    [
      'HELLO wrong version',
      (() => {
        const h = encodeHello(0, new Uint8Array(33), new Uint8Array(32));
        h[5] = 9;
        return h;
      })(),
    ],
    ['AUTH wrong size', new Uint8Array([2, 0, 0, 0, 0, ...new Array<number>(63).fill(1)])],
    ['PING wrong size', new Uint8Array([3, 0, 0, 0, 0, 1])],
    ['PING NaN clock', encodePing(FRAME_PING, 0, NaN)],
    ['DATA no flags', new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0])],
    ['DATA unknown flag bits', new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])],
    ['DATA first without total', new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
  ])('rejects a malformed frame: %s', (_what, bytes) => {
    expect(code(() => decodeFrame(bytes))).toBe('ERR_MALFORMED_FRAME');
  });

  it('rejects inconsistent chunk sequences and oversize messages', () => {
    const data = (seq: number, first: boolean, last: boolean, total: number, len: number) =>
      decodeFrame(encodeData(seq, 3, new Uint8Array(len), first, last, total)) as Extract<
        Frame,
        { kind: typeof FRAME_DATA }
      >;
    expect(code(() => new Reassembler(100, 200).push(data(0, false, true, 0, 4)))).toBe(
      'ERR_MALFORMED_FRAME',
    );
    expect(code(() => new Reassembler(100, 200).push(data(0, true, true, 5, 4)))).toBe(
      'ERR_MALFORMED_FRAME',
    );
    expect(code(() => new Reassembler(100, 200).push(data(0, true, false, 101, 4)))).toBe(
      'ERR_FRAME_TOO_LARGE',
    );
    const r = new Reassembler(100, 200);
    r.push(data(0, true, false, 10, 4));
    expect(code(() => r.push(data(1, true, false, 10, 4)))).toBe('ERR_MALFORMED_FRAME');
    const r2 = new Reassembler(100, 200);
    r2.push(data(0, true, false, 10, 8));
    expect(code(() => r2.push(data(1, false, true, 0, 8)))).toBe('ERR_MALFORMED_FRAME');
    const r3 = new Reassembler(100, 200);
    r3.push(data(0, true, false, 10, 4));
    expect(code(() => r3.push(data(1, false, true, 0, 4)))).toBe('ERR_MALFORMED_FRAME');
  });
});
