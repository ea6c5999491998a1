/**
 * The peer mesh: one authenticated link to every other node of a signaling room, multiplexed
 * into numbered channels (channel 0: coordination / Yjs; other channels: one per MPC session,
 * derived from the session id). `transport()` gives the engine its Transport view of a committee.
 *
 * Who dials whom: a node that joins a room dials every peer already there (peers never dial a
 * newcomer), so two ends never offer at once. After a link drops for a reason other than a
 * protocol violation, the end with the smaller signaling id re-dials with back-off while the
 * other end is still in the room. A remote that breaks the protocol after proving its key is
 * banned by key for the life of this mesh; one that fails the handshake is banned by signaling id
 * (its claimed key is unproven, so banning it would let a forger lock an honest node out).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { Transport } from '../mpc/transport';
import { MeshError, VIOLATION_CODES } from './errors';
import type { NodeIdentity } from './identity';
import { Link, type LinkTimeouts } from './link';
import { SignalingClient } from './signaling-client';

export const COORD_CHANNEL = 0;

export interface MeshOptions {
  signalingUrl: string;
  room: string;
  identity: NodeIdentity;
  /** STUN/TURN servers; [] on a loopback-only machine (see RECIPES.md). */
  iceServers?: RTCIceServer[];
  /** Hook for the chain issue: is this key a registered node? Default: everybody is. */
  isRegisteredNode?: (publicKeyHex: string) => boolean | Promise<boolean>;
  timeouts?: Partial<LinkTimeouts>;
  /** Largest single message (a whole share vector); default 256 MiB. */
  maxMessageBytes?: number;
  /** Bytes held for channels nobody listens to yet (a session that starts a bit later here). */
  maxUnclaimedBytes?: number;
  /** Re-dial attempts after a link drops. */
  maxReconnects?: number;
}

export interface PeerInfo {
  key: string | undefined;
  signalId: string;
  state: Link['state'];
  rttMs: number | undefined;
  bytesSent: number;
  bytesReceived: number;
  peakBuffered: number;
}

export type MeshEvent =
  | { type: 'peer-up'; key: string }
  | { type: 'peer-down'; key: string; error: MeshError }
  | { type: 'rejected'; who: string; error: MeshError }
  | { type: 'error'; error: MeshError };

/** Channel number of an MPC session: 31 bits of sha256(session), never 0. */
export function sessionChannel(session: string): number {
  const h = sha256(utf8ToBytes(`confide/session/${session}`));
  return (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 1) | 1;
}

export class Mesh {
  readonly identity: NodeIdentity;
  private readonly o: MeshOptions;
  private readonly timeouts: LinkTimeouts;
  private readonly signaling: SignalingClient;
  /** Current link per remote signaling id. */
  private readonly links = new Map<string, Link>();
  /** Authenticated link per remote key. */
  private readonly byKey = new Map<string, Link>();
  private readonly bannedKeys = new Set<string>();
  private readonly bannedSignalIds = new Set<string>();
  private readonly inRoom = new Set<string>();
  private readonly reconnects = new Map<string, number>();
  private readonly handlers = new Map<number, (from: string, bytes: Uint8Array) => void>();
  private readonly unclaimed = new Map<number, Array<{ from: string; bytes: Uint8Array }>>();
  private unclaimedBytes = 0;
  /** Channels whose listener went away: late messages for them are dropped, not held. */
  private readonly closedChannels = new Set<number>();
  private readonly listeners = new Set<(e: MeshEvent) => void>();
  private closed = false;

  constructor(opts: MeshOptions) {
    this.o = opts;
    this.identity = opts.identity;
    this.timeouts = { connectMs: 15_000, heartbeatMs: 1000, deadAfterMs: 10_000, ...opts.timeouts };
    this.signaling = new SignalingClient(opts.signalingUrl, opts.room, {
      joined: (_id, peers) => {
        for (const p of peers) {
          this.inRoom.add(p);
          if (!this.links.has(p)) this.dial(p);
        }
      },
      peerJoined: (id) => this.inRoom.add(id),
      peerLeft: (id) => this.inRoom.delete(id),
      signal: (from, data) => this.onSignal(from, data),
      error: (error) => this.emit({ type: 'error', error }),
    });
  }

  get id(): string {
    return this.identity.id;
  }

  /** Connects to the signaling service and dials the peers already in the room. */
  async start(): Promise<void> {
    await this.signaling.start();
  }

  on(listener: (e: MeshEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: MeshEvent) {
    for (const l of this.listeners) l(e);
  }

  peers(): PeerInfo[] {
    return [...this.links.values()].map((l) => ({
      key: l.remoteKey,
      signalId: l.remoteSignalId,
      state: l.state,
      rttMs: l.rttMs,
      bytesSent: l.bytesSent,
      bytesReceived: l.bytesReceived,
      peakBuffered: l.peakBuffered,
    }));
  }

  /** Diagnostics: bytes held for channels nobody listens to yet, and queued bytes per link. */
  stats(): { unclaimedBytes: number; unclaimedChannels: number[]; queued: Record<string, number> } {
    return {
      unclaimedBytes: this.unclaimedBytes,
      unclaimedChannels: [...this.unclaimed.keys()],
      queued: Object.fromEntries([...this.byKey].map(([k, l]) => [k.slice(0, 12), l.pendingBytes])),
    };
  }

  /** Keys of the authenticated peers. */
  connectedKeys(): string[] {
    return [...this.byKey.keys()];
  }

  isUp(key: string): boolean {
    return this.byKey.get(key)?.state === 'up';
  }

  /** Resolves when every key in `keys` has an authenticated link; rejects after `timeoutMs`. */
  waitForPeers(keys: readonly string[], timeoutMs = 30_000): Promise<void> {
    const want = keys.filter((k) => k !== this.id);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!want.every((k) => this.isUp(k))) return false;
        clearTimeout(t);
        off();
        resolve();
        return true;
      };
      const off = this.on(() => void check());
      const t = setTimeout(() => {
        off();
        const missing = want.filter((k) => !this.isUp(k)).map((k) => `${k.slice(0, 12)}…`);
        reject(
          new MeshError(
            'ERR_CONNECT_TIMEOUT',
            `waitForPeers: ${missing.length} peer(s) not connected after ${timeoutMs} ms: ${missing.join(', ')}`,
          ),
        );
      }, timeoutMs);
      check();
    });
  }

  /** Sends one message on `channel` to the peer with key `to`; takes ownership of `bytes`. */
  send(to: string, channel: number, bytes: Uint8Array) {
    const link = this.byKey.get(to);
    if (!link || link.state !== 'up')
      throw new MeshError('ERR_CLOSED', `send: no connection to ${to.slice(0, 12)}…`);
    link.send(channel, bytes);
  }

  /** Bytes queued towards `to` (link queue + data channel buffer). */
  pendingBytes(to: string): number {
    return this.byKey.get(to)?.pendingBytes ?? 0;
  }

  /** Registers the handler of `channel`; messages that arrived before are delivered at once. */
  listen(channel: number, handler: (from: string, bytes: Uint8Array) => void): () => void {
    if (this.handlers.has(channel))
      throw new MeshError('ERR_BAD_ARGUMENT', `listen: channel ${channel} already has a handler`);
    this.handlers.set(channel, handler);
    this.closedChannels.delete(channel);
    const early = this.unclaimed.get(channel);
    if (early) {
      this.unclaimed.delete(channel);
      for (const m of early) {
        this.unclaimedBytes -= m.bytes.length;
        handler(m.from, m.bytes);
      }
    }
    return () => {
      if (this.handlers.get(channel) !== handler) return;
      this.handlers.delete(channel);
      this.closedChannels.add(channel);
      if (this.closedChannels.size > 10_000)
        this.closedChannels.delete(this.closedChannels.values().next().value!);
    };
  }

  /** The engine's transport over this mesh for one session of one committee (keys in party order). */
  transport(opts: { session: string; committee: readonly string[] }): Transport {
    return new MeshTransport(this, opts.session, opts.committee);
  }

  /** Test hook for misbehaving-peer tests (e2e/support): the raw link to a key. */
  unsafeLink(key: string): Link | undefined {
    return this.byKey.get(key);
  }

  close() {
    this.closed = true;
    this.signaling.close();
    for (const l of [...this.links.values()]) l.close('mesh closed');
    this.links.clear();
    this.byKey.clear();
    this.listeners.clear();
  }

  private dial(remote: string, cid = crypto.randomUUID()) {
    if (this.closed || this.bannedSignalIds.has(remote)) return;
    this.makeLink(remote, true, cid);
  }

  private onSignal(from: string, data: Record<string, unknown>) {
    if (this.closed || this.bannedSignalIds.has(from)) return;
    const cid = data.cid;
    const sig = data.sig as { type?: unknown } | undefined;
    if (typeof cid !== 'string' || cid.length > 64 || typeof sig !== 'object' || sig === null)
      return;
    const cur = this.links.get(from);
    if (cur && cur.cid === cid) return cur.signal(sig);
    if (sig.type !== 'offer') return; // stale candidate of an old attempt
    if (cur) cur.close('replaced by a new offer');
    this.makeLink(from, false, cid).signal(sig);
  }

  private makeLink(remote: string, initiator: boolean, cid: string): Link {
    const link = new Link({
      room: this.o.room,
      identity: this.identity,
      initiator,
      remoteSignalId: remote,
      cid,
      iceServers: this.o.iceServers ?? [],
      timeouts: this.timeouts,
      maxMessageBytes: this.o.maxMessageBytes ?? 256 * 1024 * 1024,
      sendSignal: (d) => this.signaling.signal(remote, d),
      isRegisteredNode: this.o.isRegisteredNode ?? (() => true),
      isBanned: (k) => this.bannedKeys.has(k),
      onUp: (l) => this.onUp(l),
      onMessage: (l, ch, bytes) => this.onMessage(l, ch, bytes),
      onDown: (l, err) => this.onDown(l, err),
    });
    this.links.set(remote, link);
    return link;
  }

  private onUp(link: Link) {
    const key = link.remoteKey!;
    const old = this.byKey.get(key);
    if (old && old !== link) old.close('replaced by a newer connection from the same node');
    this.byKey.set(key, link);
    this.reconnects.delete(link.remoteSignalId);
    this.emit({ type: 'peer-up', key });
  }

  private onMessage(link: Link, channel: number, bytes: Uint8Array) {
    const from = link.remoteKey!;
    const h = this.handlers.get(channel);
    if (h) return h(from, bytes);
    if (this.closedChannels.has(channel)) return; // a session that ended here; its stragglers
    const cap = this.o.maxUnclaimedBytes ?? 64 * 1024 * 1024;
    if (this.unclaimedBytes + bytes.length > cap) {
      this.emit({
        type: 'error',
        error: new MeshError(
          'ERR_QUEUE_FULL',
          `dropped ${bytes.length} B for unopened channel ${channel} from ${from.slice(0, 12)}…`,
        ),
      });
      return;
    }
    let q = this.unclaimed.get(channel);
    if (!q) this.unclaimed.set(channel, (q = []));
    q.push({ from, bytes });
    this.unclaimedBytes += bytes.length;
  }

  private onDown(link: Link, error: MeshError) {
    const remote = link.remoteSignalId;
    if (this.links.get(remote) === link) this.links.delete(remote);
    const key = link.remoteKey;
    if (VIOLATION_CODES.has(error.code)) {
      if (key) this.bannedKeys.add(key);
      else this.bannedSignalIds.add(remote);
      this.emit({ type: 'rejected', who: key ?? `signal:${remote}`, error });
    }
    if (key && this.byKey.get(key) === link) {
      this.byKey.delete(key);
      this.emit({ type: 'peer-down', key, error });
    } else if (!key && !VIOLATION_CODES.has(error.code)) {
      this.emit({ type: 'error', error });
    }
    if (this.closed || VIOLATION_CODES.has(error.code) || error.code === 'ERR_CLOSED') return;
    // Re-dial: only the smaller signaling id does, so the two ends never offer at once.
    const me = this.signaling.id;
    const tries = this.reconnects.get(remote) ?? 0;
    if (me && me < remote && this.inRoom.has(remote) && tries < (this.o.maxReconnects ?? 5)) {
      this.reconnects.set(remote, tries + 1);
      setTimeout(
        () => {
          if (!this.closed && !this.links.has(remote) && this.inRoom.has(remote)) this.dial(remote);
        },
        500 * 2 ** tries,
      );
    }
  }
}

/**
 * Transport of one MPC session over the mesh. `from` is the committee index of the authenticated
 * key of the link a message came on. A committee member whose link goes down (or is not up when
 * the session starts) is reported gone: a session never resumes over a new link, since frames in
 * flight may have been lost.
 */
class MeshTransport implements Transport {
  readonly self: number;
  readonly n: number;
  private readonly channel: number;
  private msgHandler: ((from: number, bytes: Uint8Array) => void) | undefined;
  private goneHandler: ((peer: number, reason: string) => void) | undefined;
  private readonly early: Array<[number, Uint8Array]> = [];
  private readonly gone = new Map<number, string>();
  private readonly reported = new Set<number>();
  private readonly index = new Map<string, number>();
  private readonly offListen: () => void;
  private readonly offEvents: () => void;
  private closed = false;

  constructor(
    private readonly mesh: Mesh,
    session: string,
    private readonly committee: readonly string[],
  ) {
    committee.forEach((k, i) => this.index.set(k, i));
    if (this.index.size !== committee.length)
      throw new MeshError('ERR_BAD_ARGUMENT', 'transport: committee has duplicate keys');
    this.self = committee.indexOf(mesh.id);
    if (this.self < 0)
      throw new MeshError(
        'ERR_BAD_ARGUMENT',
        `transport: this node ${mesh.id.slice(0, 12)}… is not in the committee`,
      );
    this.n = committee.length;
    this.channel = sessionChannel(session);
    this.offEvents = mesh.on((e) => {
      if (e.type === 'peer-down') {
        const i = this.index.get(e.key);
        if (i !== undefined) this.markGone(i, `${e.error.code}: ${e.error.message}`);
      }
    });
    committee.forEach((k, i) => {
      if (i !== this.self && !mesh.isUp(k))
        this.markGone(i, 'ERR_CLOSED: not connected when the session started');
    });
    this.offListen = mesh.listen(this.channel, (from, bytes) => {
      const i = this.index.get(from);
      if (i === undefined || i === this.self || this.closed || this.gone.has(i)) return;
      if (this.msgHandler) this.msgHandler(i, bytes);
      else this.early.push([i, bytes]);
    });
  }

  send(to: number, bytes: Uint8Array): void {
    if (this.closed) throw new MeshError('ERR_CLOSED', 'transport: closed');
    if (!Number.isInteger(to) || to < 0 || to >= this.n || to === this.self)
      throw new MeshError(
        'ERR_BAD_ARGUMENT',
        `transport.send: bad party index ${to} (n = ${this.n}, self = ${this.self})`,
      );
    if (this.gone.has(to)) return; // the engine was told; sending to a gone party is a no-op
    try {
      this.mesh.send(this.committee[to]!, this.channel, bytes);
    } catch (err) {
      this.markGone(to, err instanceof MeshError ? `${err.code}: ${err.message}` : String(err));
    }
  }

  onMessage(handler: (from: number, bytes: Uint8Array) => void): void {
    this.msgHandler = handler;
    for (const [i, b] of this.early.splice(0)) handler(i, b);
  }

  onPeerGone(handler: (peer: number, reason: string) => void): void {
    this.goneHandler = handler;
    for (const [i, r] of this.gone) this.report(i, r);
  }

  private markGone(i: number, reason: string) {
    if (this.gone.has(i)) return;
    this.gone.set(i, reason);
    // Asynchronous, so the engine never re-enters from inside its own send().
    queueMicrotask(() => this.report(i, reason));
  }

  private report(i: number, reason: string) {
    if (this.closed || this.reported.has(i) || !this.goneHandler) return;
    this.reported.add(i);
    this.goneHandler(i, reason);
  }

  close(): void {
    this.closed = true;
    this.offListen();
    this.offEvents();
  }
}
