/**
 * Link-level binary framing of the mesh. Every data-channel message is one frame:
 *
 *   kind u8 | seq u32 (big endian) | body
 *
 * `seq` counts the frames a sender has sent on this link, from 0, with no gaps: data channels are
 * reliable and ordered, so any other value is a replayed, dropped or injected frame and the link
 * is torn down (ERR_REPLAY). Kinds and bodies:
 *
 *   HELLO  version u8 | public key (33 B, compressed secp256k1) | nonce (32 B)
 *   AUTH   signature (64 B, compact ECDSA over the handshake transcript, see handshake.ts)
 *   PING   sender clock (f64 ms)          PONG  the echoed PING clock (f64 ms)
 *   DATA   channel u32 | flags u8 (FIRST=1, LAST=2) | [total length u32 if FIRST] | payload
 *
 * A message larger than one chunk is split into DATA frames that share a channel: the first
 * carries the total length so the receiver allocates once and rejects oversize messages early.
 */
import { MeshError } from './errors';

export const FRAME_HELLO = 1;
export const FRAME_AUTH = 2;
export const FRAME_PING = 3;
export const FRAME_PONG = 4;
export const FRAME_DATA = 5;

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 5;
export const PUBKEY_BYTES = 33;
export const NONCE_BYTES = 32;
export const SIG_BYTES = 64;
export const DATA_FIRST = 1;
export const DATA_LAST = 2;
/** Payload bytes per DATA frame: 64 KiB is the largest size every SCTP stack accepts. */
export const CHUNK_BYTES = 64 * 1024 - 16;
/** Largest DATA frame: header, channel, flags, total and one chunk. */
export const DATA_FRAME_MAX = HEADER_BYTES + 9 + CHUNK_BYTES;

export type Frame =
  | {
      kind: typeof FRAME_HELLO;
      seq: number;
      version: number;
      publicKey: Uint8Array;
      nonce: Uint8Array;
    }
  | { kind: typeof FRAME_AUTH; seq: number; signature: Uint8Array }
  | { kind: typeof FRAME_PING | typeof FRAME_PONG; seq: number; clock: number }
  | {
      kind: typeof FRAME_DATA;
      seq: number;
      channel: number;
      first: boolean;
      last: boolean;
      total: number;
      payload: Uint8Array;
    };

function header(kind: number, seq: number, bodyBytes: number): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(HEADER_BYTES + bodyBytes);
  const view = new DataView(out.buffer);
  out[0] = kind;
  view.setUint32(1, seq >>> 0);
  return { out, view };
}

export function encodeHello(seq: number, publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBKEY_BYTES || nonce.length !== NONCE_BYTES)
    throw new MeshError(
      'ERR_BAD_ARGUMENT',
      `encodeHello: key ${publicKey.length} B / nonce ${nonce.length} B`,
    );
  const { out } = header(FRAME_HELLO, seq, 1 + PUBKEY_BYTES + NONCE_BYTES);
  out[HEADER_BYTES] = PROTOCOL_VERSION;
  out.set(publicKey, HEADER_BYTES + 1);
  out.set(nonce, HEADER_BYTES + 1 + PUBKEY_BYTES);
  return out;
}

export function encodeAuth(seq: number, signature: Uint8Array): Uint8Array {
  if (signature.length !== SIG_BYTES)
    throw new MeshError('ERR_BAD_ARGUMENT', `encodeAuth: signature ${signature.length} B`);
  const { out } = header(FRAME_AUTH, seq, SIG_BYTES);
  out.set(signature, HEADER_BYTES);
  return out;
}

export function encodePing(
  kind: typeof FRAME_PING | typeof FRAME_PONG,
  seq: number,
  clock: number,
): Uint8Array {
  const { out, view } = header(kind, seq, 8);
  view.setFloat64(HEADER_BYTES, clock);
  return out;
}

/** One DATA frame; `total` is written only on the first frame of a message. */
/**
 * One DATA frame. With `into` (at least DATA_FRAME_MAX bytes) the frame is written there and a view
 * of it returned, for a sender that hands it to a channel copying synchronously and reuses the buffer.
 */
export function encodeData(
  seq: number,
  channel: number,
  payload: Uint8Array,
  first: boolean,
  last: boolean,
  total: number,
  into?: Uint8Array,
): Uint8Array {
  const extra = first ? 4 : 0;
  const len = HEADER_BYTES + 5 + extra + payload.length;
  let out: Uint8Array;
  let view: DataView;
  if (into && into.length >= len) {
    out = into.subarray(0, len);
    view = new DataView(out.buffer, out.byteOffset, len);
    out[0] = FRAME_DATA;
    view.setUint32(1, seq >>> 0);
  } else ({ out, view } = header(FRAME_DATA, seq, 5 + extra + payload.length));
  view.setUint32(HEADER_BYTES, channel >>> 0);
  out[HEADER_BYTES + 4] = (first ? DATA_FIRST : 0) | (last ? DATA_LAST : 0);
  if (first) view.setUint32(HEADER_BYTES + 5, total >>> 0);
  out.set(payload, HEADER_BYTES + 5 + extra);
  return out;
}

const bad = (what: string) => new MeshError('ERR_MALFORMED_FRAME', `decodeFrame: ${what}`);

/** Decodes one frame; throws MeshError('ERR_MALFORMED_FRAME') naming what is wrong. */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < HEADER_BYTES)
    throw bad(`frame of ${bytes.length} B is shorter than the ${HEADER_BYTES} B header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[0]!;
  const seq = view.getUint32(1);
  const body = bytes.length - HEADER_BYTES;
  switch (kind) {
    case FRAME_HELLO: {
      if (body !== 1 + PUBKEY_BYTES + NONCE_BYTES)
        throw bad(`HELLO body is ${body} B, expected ${1 + PUBKEY_BYTES + NONCE_BYTES}`);
      const version = bytes[HEADER_BYTES]!;
      if (version !== PROTOCOL_VERSION)
        throw bad(`HELLO version ${version}, expected ${PROTOCOL_VERSION}`);
      const publicKey = bytes.slice(HEADER_BYTES + 1, HEADER_BYTES + 1 + PUBKEY_BYTES);
      const nonce = bytes.slice(HEADER_BYTES + 1 + PUBKEY_BYTES);
      return { kind, seq, version, publicKey, nonce };
    }
    case FRAME_AUTH:
      if (body !== SIG_BYTES) throw bad(`AUTH body is ${body} B, expected ${SIG_BYTES}`);
      return { kind, seq, signature: bytes.slice(HEADER_BYTES) };
    case FRAME_PING:
    case FRAME_PONG: {
      if (body !== 8) throw bad(`PING/PONG body is ${body} B, expected 8`);
      const clock = view.getFloat64(HEADER_BYTES);
      if (!Number.isFinite(clock)) throw bad('PING clock is not finite');
      return { kind, seq, clock };
    }
    case FRAME_DATA: {
      if (body < 5) throw bad(`DATA body is ${body} B, shorter than 5`);
      const channel = view.getUint32(HEADER_BYTES);
      const flags = bytes[HEADER_BYTES + 4]!;
      if (flags & ~(DATA_FIRST | DATA_LAST))
        throw bad(`DATA flags 0x${flags.toString(16)} has unknown bits`);
      const first = (flags & DATA_FIRST) !== 0;
      const last = (flags & DATA_LAST) !== 0;
      let off = HEADER_BYTES + 5;
      let total = 0;
      if (first) {
        if (body < 9) throw bad('first DATA frame has no total length');
        total = view.getUint32(off);
        off += 4;
      }
      const payload = bytes.subarray(off);
      if (payload.length > CHUNK_BYTES)
        throw bad(`DATA chunk of ${payload.length} B > ${CHUNK_BYTES}`);
      return { kind, seq, channel, first, last, total, payload };
    }
    default:
      throw bad(`unknown frame kind ${kind}`);
  }
}

/**
 * Reassembles chunked DATA messages of one link (one message in flight per channel at a time,
 * since a sender finishes one message's chunks on a channel before the next — see Link).
 */
export class Reassembler {
  private readonly partial = new Map<number, { buf: Uint8Array; filled: number }>();
  private pendingBytes = 0;
  constructor(
    private readonly maxMessageBytes: number,
    private readonly maxPendingBytes: number,
  ) {}

  /** Returns the whole message when `f` completes one, else undefined; throws on protocol errors. */
  push(f: Extract<Frame, { kind: typeof FRAME_DATA }>): Uint8Array | undefined {
    let cur = this.partial.get(f.channel);
    if (f.first) {
      if (cur) throw bad(`channel ${f.channel}: new message before the previous one finished`);
      if (f.total > this.maxMessageBytes)
        throw new MeshError(
          'ERR_FRAME_TOO_LARGE',
          `channel ${f.channel}: message of ${f.total} B > ${this.maxMessageBytes}`,
        );
      if (f.last) {
        if (f.payload.length !== f.total)
          throw bad(
            `channel ${f.channel}: single-frame message ${f.payload.length} B != total ${f.total}`,
          );
        return f.payload.slice();
      }
      if (this.pendingBytes + f.total > this.maxPendingBytes)
        throw new MeshError(
          'ERR_FRAME_TOO_LARGE',
          `link: ${this.pendingBytes + f.total} B of unfinished messages`,
        );
      cur = { buf: new Uint8Array(f.total), filled: 0 };
      this.pendingBytes += f.total;
      this.partial.set(f.channel, cur);
    } else if (!cur) throw bad(`channel ${f.channel}: continuation frame without a first frame`);
    if (cur.filled + f.payload.length > cur.buf.length)
      throw bad(`channel ${f.channel}: chunks exceed the announced ${cur.buf.length} B`);
    cur.buf.set(f.payload, cur.filled);
    cur.filled += f.payload.length;
    if (!f.last) return undefined;
    if (cur.filled !== cur.buf.length)
      throw bad(`channel ${f.channel}: message ended at ${cur.filled} of ${cur.buf.length} B`);
    this.partial.delete(f.channel);
    this.pendingBytes -= cur.buf.length;
    return cur.buf;
  }
}
