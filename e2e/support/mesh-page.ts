/**
 * Test page for the mesh e2e specs: drives the real mesh (src/net) from Playwright through
 * `window.meshTest`. Content is generated from seeds and compared by sha-256, so a test checks
 * every byte without shipping megabytes through page.evaluate. The `attack` functions play a
 * misbehaving tab; they use only the test hooks `unsafeLink`/`unsafeSendRaw`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { encodeData, encodeHello } from '../../src/net/frame';
import { loadOrCreateIdentity, type NodeIdentity } from '../../src/net/identity';
import { Mesh, type MeshEvent } from '../../src/net/mesh';

export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = i & 255;
  return out;
}

interface Received {
  from: string;
  channel: number;
  size: number;
  hash: string;
}

let identity: NodeIdentity | undefined;
let mesh: Mesh | undefined;
let registry: Set<string> | null = null;
const events: Array<{ type: string; who?: string; code?: string }> = [];
const received: Received[] = [];
const errors: string[] = [];
let echoWaiter: (() => void) | undefined;
/** Hash received messages (tests); benchmarks turn it off so it does not eat into the link's CPU. */
let hashing = true;

const api = {
  async init(): Promise<string> {
    identity = await loadOrCreateIdentity();
    return identity.id;
  },
  async start(o: {
    url: string;
    room: string;
    forgeKey?: string;
    connectMs?: number;
    hash?: boolean;
  }): Promise<void> {
    hashing = o.hash !== false;
    let id = identity ?? (await loadOrCreateIdentity());
    if (o.forgeKey) {
      // Claims another node's key but can only sign with its own: the handshake must fail.
      const own = id;
      const claimed = hexToBytes(o.forgeKey);
      id = {
        publicKey: claimed,
        id: o.forgeKey,
        sign: (m) => own.sign(m),
        secretKey: () => own.secretKey(),
      };
    }
    mesh = new Mesh({
      signalingUrl: o.url,
      room: o.room,
      identity: id,
      isRegisteredNode: (k) => registry === null || registry.has(k),
      timeouts: { connectMs: o.connectMs ?? 15_000 },
    });
    mesh.on((e: MeshEvent) => {
      if ('error' in e) errors.push(e.error.message);
      if (e.type === 'peer-up') events.push({ type: e.type, who: e.key });
      else if (e.type === 'peer-down')
        events.push({ type: e.type, who: e.key, code: e.error.code });
      else if (e.type === 'rejected') events.push({ type: e.type, who: e.who, code: e.error.code });
      else events.push({ type: e.type, code: e.error.code });
    });
    for (const ch of [1, 2, 3])
      mesh.listen(ch, (from, bytes) =>
        received.push({
          from,
          channel: ch,
          size: bytes.length,
          hash: hashing ? bytesToHex(sha256(bytes)) : '',
        }),
      );
    // Echo service for round-trip measurements: channel 4 in, channel 5 back.
    mesh.listen(4, (from, bytes) => mesh!.send(from, 5, bytes));
    mesh.listen(5, () => {
      const w = echoWaiter;
      echoWaiter = undefined;
      w?.();
    });
    await mesh.start();
  },
  /** Median round trip (ms) of `count` sequential 8-byte messages to `to` and back. */
  async rtt(to: string, count: number): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        echoWaiter = r;
        mesh!.send(to, 4, new Uint8Array(8));
      });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  },
  setRegistry(keys: string[] | null) {
    registry = keys ? new Set(keys) : null;
  },
  connected(): string[] {
    return mesh ? mesh.connectedKeys().sort() : [];
  },
  async waitPeers(keys: string[], timeoutMs: number) {
    await mesh!.waitForPeers(keys, timeoutMs);
  },
  peers() {
    return mesh?.peers() ?? [];
  },
  events: () => events.slice(),
  errors: () => errors.slice(),
  received: () => received.slice(),
  clearReceived() {
    received.length = 0;
  },
  expectedHash(size: number, seed: number): string {
    return bytesToHex(sha256(pattern(size, seed)));
  },
  /** Queues `count` messages of `size` bytes; returns how long queueing took (ms). */
  send(to: string, channel: number, size: number, seed: number, count = 1): number {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) mesh!.send(to, channel, pattern(size, seed + i));
    return performance.now() - t0;
  },
  /** Waits until `n` messages arrived (any sender); returns them. */
  async waitReceived(n: number, timeoutMs: number): Promise<Received[]> {
    const end = performance.now() + timeoutMs;
    while (received.length < n) {
      if (performance.now() > end)
        throw new Error(`waitReceived: ${received.length} of ${n} messages after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return received.slice();
  },
  attack: {
    garbage(to: string) {
      mesh!
        .unsafeLink(to)!
        .unsafeSendRaw(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 1, 2, 3]));
    },
    /** Re-sends our HELLO (sequence number 0) and an old DATA frame number: both are replays. */
    replay(to: string) {
      const link = mesh!.unsafeLink(to)!;
      link.unsafeSendRaw(encodeData(link.unsafeNextSeq - 1, 1, new Uint8Array(16), true, true, 16));
      link.unsafeSendRaw(encodeHello(0, mesh!.identity.publicKey, new Uint8Array(32)));
    },
  },
  /** Drops the connection to `to` like a network failure (the mesh must reconnect). */
  drop(to: string) {
    mesh!.unsafeLink(to)!.unsafeDrop();
  },
  close() {
    mesh?.close();
  },
};

declare global {
  interface Window {
    meshTest: typeof api;
  }
}
window.meshTest = api;
document.getElementById('status')!.textContent = 'mesh test page ready';
