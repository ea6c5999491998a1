/**
 * One authenticated WebRTC data channel to one peer (simple-peer underneath).
 *
 * Lifecycle: connecting → handshaking → verifying → up → down. Every failure goes through
 * `fail()` once (simple-peer's single teardown path pattern) and surfaces as `onDown(err)` with a
 * coded MeshError: set-up timeouts (WebRTC can hang silently), heartbeat loss, channel close,
 * and protocol violations by the remote (malformed frames, replays, a bad handshake).
 *
 * Sending: `send` queues whole messages; a pump writes them as ≤64 KiB DATA frames while the
 * channel's `bufferedAmount` is below HIGH_WATER and otherwise waits for `bufferedamountlow`
 * (plus a polling fallback), so Chromium's ~16 MiB send queue never overflows.
 */
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { MeshError } from './errors';
import {
  CHUNK_BYTES,
  DATA_FRAME_MAX,
  FRAME_AUTH,
  FRAME_DATA,
  FRAME_HELLO,
  FRAME_PING,
  FRAME_PONG,
  NONCE_BYTES,
  Reassembler,
  decodeFrame,
  encodeAuth,
  encodeData,
  encodeHello,
  encodePing,
  type Frame,
} from './frame';
import { dtlsFingerprint, handshakeMessage, type TranscriptInput } from './handshake';
import { verifySignature, type NodeIdentity } from './identity';

/**
 * Pause writing when this many bytes wait in the channel: far under Chromium's 16 MiB cap, and
 * small enough that a PING queued behind it still arrives well within the heartbeat deadline on a
 * congested link (1 MiB at 2 MB/s is 0.5 s). Throughput is the same as with 4 MiB here.
 */
export const HIGH_WATER = 1024 * 1024;
/**
 * Data frames written per task at most (256 KiB), so sending never blocks the UI thread long: each
 * write copies the chunk twice (frame, SCTP), about 1.5 ms per chunk with 5 tabs on 2 cores.
 */
export const CHUNKS_PER_TASK = 4;
/** Resume writing when the channel drains below this. */
export const LOW_WATER = 256 * 1024;

export interface LinkTimeouts {
  /** From creation to authenticated (ICE + DTLS + handshake). */
  connectMs: number;
  /** PING interval once up. */
  heartbeatMs: number;
  /** Declare the peer gone when nothing was heard for this long. */
  deadAfterMs: number;
}

export interface LinkOptions {
  room: string;
  identity: NodeIdentity;
  initiator: boolean;
  remoteSignalId: string;
  cid: string;
  iceServers: RTCIceServer[];
  timeouts: LinkTimeouts;
  maxMessageBytes: number;
  sendSignal(data: Record<string, unknown>): void;
  /** Registered-node hook (chain issue): may the holder of this key join the mesh? */
  isRegisteredNode(publicKeyHex: string): boolean | Promise<boolean>;
  /** Refuse keys that were banned for misbehaviour. */
  isBanned(publicKeyHex: string): boolean;
  onUp(link: Link): void;
  onMessage(link: Link, channel: number, bytes: Uint8Array): void;
  onDown(link: Link, err: MeshError): void;
}

type State = 'connecting' | 'handshaking' | 'verifying' | 'up' | 'down';

interface Outgoing {
  channel: number;
  bytes: Uint8Array;
  offset: number;
}

export class Link {
  state: State = 'connecting';
  /** Authenticated remote key (hex), set once up. */
  remoteKey: string | undefined;
  rttMs: number | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  /** Largest data-channel `bufferedAmount` seen right after a write (back-pressure check). */
  peakBuffered = 0;
  readonly createdAt = Date.now();
  private readonly peer: SimplePeer.Instance;
  private channel: RTCDataChannel | undefined;
  private sendSeq = 0;
  private recvSeq = 0;
  private readonly nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  private remoteHello: { publicKey: Uint8Array; nonce: Uint8Array } | undefined;
  private transcript: TranscriptInput | undefined;
  private readonly reasm: Reassembler;
  private readonly control: Uint8Array[] = [];
  private readonly queue: Outgoing[] = [];
  private queuedBytes = 0;
  private readonly scratch = new Uint8Array(DATA_FRAME_MAX);
  private pumping = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = Date.now();
  private pendingWhileVerifying: Frame[] = [];

  constructor(private readonly o: LinkOptions) {
    this.reasm = new Reassembler(o.maxMessageBytes, o.maxMessageBytes * 2);
    this.peer = new SimplePeer({
      initiator: o.initiator,
      trickle: true,
      config: { iceServers: o.iceServers },
      channelConfig: { ordered: true },
    });
    this.connectTimer = setTimeout(
      () =>
        this.fail(
          new MeshError(
            'ERR_CONNECT_TIMEOUT',
            `no authenticated connection to ${o.remoteSignalId} within ${o.timeouts.connectMs} ms (state ${this.state})`,
          ),
        ),
      o.timeouts.connectMs,
    );
    this.peer.on('signal', (data: unknown) =>
      o.sendSignal({ cid: o.cid, sig: data as Record<string, unknown> }),
    );
    this.peer.on('connect', () => this.onConnect());
    // Take data straight from the channel's message events: simple-peer's stream path converts to
    // Buffer and may batch deliveries into one long main-thread task.
    (
      this.peer as unknown as { _onChannelMessage: (ev: MessageEvent<unknown>) => void }
    )._onChannelMessage = (ev) => {
      const d = ev.data;
      if (d instanceof ArrayBuffer) this.onData(new Uint8Array(d));
      else
        this.fail(new MeshError('ERR_MALFORMED_FRAME', `${this.label} sent a non-binary message`));
    };
    this.peer.on('close', () =>
      this.fail(new MeshError('ERR_CONNECTION_CLOSED', `channel to ${this.label} closed`)),
    );
    this.peer.on('error', (err: Error & { code?: string }) =>
      this.fail(
        new MeshError(
          'ERR_WEBRTC',
          `${err.code ?? 'error'} on channel to ${this.label}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
  }

  get cid() {
    return this.o.cid;
  }
  get remoteSignalId() {
    return this.o.remoteSignalId;
  }
  get label() {
    return this.remoteKey ? `${this.remoteKey.slice(0, 12)}…` : `signal:${this.o.remoteSignalId}`;
  }
  /** Bytes waiting in this link's queue plus the data channel's buffer. */
  get pendingBytes() {
    return this.queuedBytes + (this.channel?.bufferedAmount ?? 0);
  }

  /** Feeds a relayed set-up message from the remote. */
  signal(data: unknown) {
    if (this.state === 'down') return;
    try {
      this.peer.signal(data as SimplePeer.SignalData);
    } catch (err) {
      this.fail(
        new MeshError('ERR_SIGNALING', `bad set-up message from ${this.label}`, { cause: err }),
      );
    }
  }

  /** Queues one message on `channel`; takes ownership of `bytes`. */
  send(channel: number, bytes: Uint8Array) {
    if (this.state !== 'up')
      throw new MeshError('ERR_CLOSED', `send to ${this.label}: link is ${this.state}`);
    this.queue.push({ channel, bytes, offset: 0 });
    this.queuedBytes += bytes.length;
    this.pump();
  }

  /**
   * Writes raw bytes on the channel, bypassing framing. Only for tests that play a misbehaving
   * peer (e2e/support); honest code never calls it.
   */
  unsafeSendRaw(bytes: Uint8Array) {
    this.channel?.send(bytes as Uint8Array<ArrayBuffer>);
  }
  /** The next sequence number this end will use (tests build replays with it). */
  get unsafeNextSeq() {
    return this.sendSeq;
  }

  /** Test hook: tears the connection down as a network failure would (the mesh reconnects). */
  unsafeDrop() {
    this.peer.destroy();
  }

  close(reason = 'closed locally') {
    this.fail(new MeshError('ERR_CLOSED', reason));
  }

  private fail(err: MeshError) {
    if (this.state === 'down') return;
    this.state = 'down';
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pollTimer);
    this.queue.length = 0;
    this.control.length = 0;
    this.queuedBytes = 0;
    this.pendingWhileVerifying = [];
    try {
      this.peer.destroy();
    } catch {
      /* already gone */
    }
    this.o.onDown(this, err);
  }

  private onConnect() {
    if (this.state !== 'connecting') return;
    this.channel = (this.peer as unknown as { _channel: RTCDataChannel })._channel;
    this.channel.bufferedAmountLowThreshold = LOW_WATER;
    this.channel.addEventListener('bufferedamountlow', () => this.pump());
    this.state = 'handshaking';
    if (!this.writeFrame(encodeHello(this.sendSeq, this.o.identity.publicKey, this.nonce))) return;
    this.drainPending();
  }

  private drainPending() {
    const pending = this.pendingWhileVerifying;
    this.pendingWhileVerifying = [];
    for (const p of pending) {
      if (this.state === 'verifying') this.pendingWhileVerifying.push(p);
      else if (this.state !== 'down') this.handle(p);
    }
  }

  /**
   * Writes one frame; false when the link is down or went down here. A channel can close between
   * events (RTCDataChannel.send then throws): that fails the link like any other loss, so it is
   * reconnected, instead of escaping as an uncaught error from the handshake, which left the link
   * stuck until its set-up timeout (seen in CI: a node missing from an upload's committee).
   */
  private writeFrame(frame: Uint8Array): boolean {
    const ch = this.channel;
    if (!ch || this.state === 'down') return false;
    // seq is already embedded; advance it in the same step so no frame reuses a number.
    this.sendSeq++;
    this.bytesSent += frame.length;
    try {
      ch.send(frame as Uint8Array<ArrayBuffer>);
    } catch (err) {
      this.fail(new MeshError('ERR_WEBRTC', `send to ${this.label} failed`, { cause: err }));
      return false;
    }
    if (ch.bufferedAmount > this.peakBuffered) this.peakBuffered = ch.bufferedAmount;
    return true;
  }

  private pump() {
    if (this.pumping || this.state === 'down' || !this.channel) return;
    this.pumping = true;
    let budget = CHUNKS_PER_TASK;
    try {
      while (this.channel.bufferedAmount < HIGH_WATER && budget > 0) {
        const c = this.control.shift();
        if (c) {
          new DataView(c.buffer).setUint32(1, this.sendSeq);
          if (!this.writeFrame(c)) break;
          continue;
        }
        const m = this.queue[0];
        if (!m) break;
        const first = m.offset === 0;
        const end = Math.min(m.bytes.length, m.offset + CHUNK_BYTES);
        const last = end === m.bytes.length;
        // RTCDataChannel.send copies the bytes before it returns: one scratch buffer per link
        // spares a 64 KiB allocation per chunk (and the major GCs that external memory triggers).
        const sent = this.writeFrame(
          encodeData(
            this.sendSeq,
            m.channel,
            m.bytes.subarray(m.offset, end),
            first,
            last,
            m.bytes.length,
            this.scratch,
          ),
        );
        if (!sent) break;
        this.queuedBytes -= end - m.offset;
        m.offset = end;
        budget--;
        if (last) this.queue.shift();
      }
    } catch (err) {
      this.pumping = false;
      return this.fail(new MeshError('ERR_WEBRTC', `send to ${this.label} failed`, { cause: err }));
    }
    this.pumping = false;
    // (writeFrame may have failed the link inside the loop)
    if ((this.state as State) === 'down') return;
    if ((this.queue.length || this.control.length) && this.pollTimer === undefined) {
      // Out of budget: continue in a new task so the UI thread never runs one long send loop.
      // Buffer full: bufferedamountlow normally wakes us; poll too, for stacks where it never fires.
      this.pollTimer = setTimeout(
        () => {
          this.pollTimer = undefined;
          this.pump();
        },
        budget === 0 ? 0 : 10,
      );
    }
  }

  private onData(bytes: Uint8Array) {
    if (this.state === 'down') return;
    this.lastHeard = Date.now();
    this.bytesReceived += bytes.length;
    let f: Frame;
    try {
      f = decodeFrame(bytes);
    } catch (err) {
      return this.fail(
        err instanceof MeshError ? err : new MeshError('ERR_MALFORMED_FRAME', String(err)),
      );
    }
    if (f.seq !== this.recvSeq)
      return this.fail(
        new MeshError(
          'ERR_REPLAY',
          `frame seq ${f.seq} from ${this.label}, expected ${this.recvSeq} (replayed or injected)`,
        ),
      );
    this.recvSeq++;
    // A frame can arrive before our own 'connect' event (the remote opened first) or while the
    // registration check runs: hold it, in order, until we can handle it.
    if (this.state === 'verifying' || this.state === 'connecting') {
      this.pendingWhileVerifying.push(f);
      if (this.pendingWhileVerifying.length > 10_000)
        this.fail(
          new MeshError(
            'ERR_HANDSHAKE',
            `${this.label} sent too much before the handshake finished`,
          ),
        );
      return;
    }
    this.handle(f);
  }

  private handle(f: Frame) {
    try {
      if (this.state === 'handshaking') return this.handshakeStep(f);
      if (this.state !== 'up') return;
      switch (f.kind) {
        case FRAME_PING:
          this.control.push(encodePing(FRAME_PONG, 0, f.clock));
          return this.pump();
        case FRAME_PONG:
          this.rttMs = performance.now() - f.clock;
          return;
        case FRAME_DATA: {
          const msg = this.reasm.push(f);
          if (msg) this.o.onMessage(this, f.channel, msg);
          return;
        }
        default:
          throw new MeshError(
            'ERR_HANDSHAKE',
            `handshake frame kind ${f.kind} from ${this.label} after the handshake`,
          );
      }
    } catch (err) {
      this.fail(
        err instanceof MeshError
          ? err
          : new MeshError('ERR_MALFORMED_FRAME', String(err), { cause: err }),
      );
    }
  }

  private handshakeStep(f: Frame) {
    if (!this.remoteHello) {
      if (f.kind !== FRAME_HELLO)
        throw new MeshError('ERR_HANDSHAKE', `${this.label} sent kind ${f.kind} before HELLO`);
      const keyHex = bytesToHex(f.publicKey);
      if (keyHex === this.o.identity.id)
        throw new MeshError('ERR_HANDSHAKE', `${this.label} claims our own key`);
      if (this.o.isBanned(keyHex))
        throw new MeshError('ERR_HANDSHAKE', `key ${keyHex.slice(0, 12)}… is banned`);
      this.remoteHello = { publicKey: f.publicKey, nonce: f.nonce };
      const pc = (this.peer as unknown as { _pc: RTCPeerConnection })._pc;
      const localFp = dtlsFingerprint(pc.localDescription?.sdp ?? '');
      const remoteFp = dtlsFingerprint(pc.remoteDescription?.sdp ?? '');
      const me = this.o.identity.publicKey;
      this.transcript = this.o.initiator
        ? {
            room: this.o.room,
            initiatorFingerprint: localFp,
            responderFingerprint: remoteFp,
            initiatorNonce: this.nonce,
            responderNonce: f.nonce,
            initiatorKey: me,
            responderKey: f.publicKey,
          }
        : {
            room: this.o.room,
            initiatorFingerprint: remoteFp,
            responderFingerprint: localFp,
            initiatorNonce: f.nonce,
            responderNonce: this.nonce,
            initiatorKey: f.publicKey,
            responderKey: me,
          };
      const sig = this.o.identity.sign(
        handshakeMessage(this.transcript, this.o.initiator ? 'I' : 'R'),
      );
      this.writeFrame(encodeAuth(this.sendSeq, sig));
      return;
    }
    if (f.kind !== FRAME_AUTH)
      throw new MeshError('ERR_HANDSHAKE', `${this.label} sent kind ${f.kind} instead of AUTH`);
    const expected = handshakeMessage(this.transcript!, this.o.initiator ? 'R' : 'I');
    if (!verifySignature(f.signature, expected, this.remoteHello.publicKey))
      throw new MeshError(
        'ERR_HANDSHAKE',
        `${this.label}: handshake signature does not verify for the key it claimed`,
      );
    const keyHex = bytesToHex(this.remoteHello.publicKey);
    this.state = 'verifying';
    void Promise.resolve()
      .then(() => this.o.isRegisteredNode(keyHex))
      .then(
        (ok) => {
          if (this.state !== 'verifying') return;
          if (!ok)
            return this.fail(
              new MeshError(
                'ERR_NOT_REGISTERED',
                `key ${keyHex.slice(0, 12)}… is not a registered node`,
              ),
            );
          this.remoteKey = keyHex;
          this.state = 'up';
          clearTimeout(this.connectTimer);
          this.startHeartbeat();
          this.o.onUp(this);
          this.drainPending();
        },
        (err: unknown) =>
          this.fail(
            new MeshError(
              'ERR_NOT_REGISTERED',
              `registration check failed for ${keyHex.slice(0, 12)}…`,
              { cause: err },
            ),
          ),
      );
  }

  private startHeartbeat() {
    this.lastHeard = Date.now();
    let lastTick = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      // If our own thread was blocked (timer fired late), the silence may be ours, not the
      // peer's: its frames are queued behind us. Give it a fresh deadline instead of dropping it.
      if (now - lastTick > this.o.timeouts.heartbeatMs + 2000) this.lastHeard = now;
      lastTick = now;
      if (now - this.lastHeard > this.o.timeouts.deadAfterMs)
        return this.fail(
          new MeshError(
            'ERR_HEARTBEAT_TIMEOUT',
            `nothing from ${this.label} for ${this.o.timeouts.deadAfterMs} ms`,
          ),
        );
      this.control.push(encodePing(FRAME_PING, 0, performance.now()));
      this.pump();
    }, this.o.timeouts.heartbeatMs);
  }
}
