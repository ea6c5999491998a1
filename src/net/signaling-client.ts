/**
 * Browser client of the signaling service (src/signaling): joins one room, relays WebRTC set-up
 * messages, and reconnects with back-off when the socket drops (existing peer connections do not
 * depend on it).
 */
import { MeshError } from './errors';

type Incoming =
  | { type: 'joined'; room: string; id: string; peers: string[] }
  | { type: 'peer-joined'; id: string }
  | { type: 'peer-left'; id: string }
  | { type: 'signal'; from: string; data: Record<string, unknown> }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

export interface SignalingEvents {
  joined(id: string, peers: string[]): void;
  peerJoined(id: string): void;
  peerLeft(id: string): void;
  signal(from: string, data: Record<string, unknown>): void;
  error(err: MeshError): void;
}

const ID_RE = /^[0-9a-f]{16}$/;

function parse(text: unknown): Incoming | undefined {
  if (typeof text !== 'string' || text.length > 256 * 1024) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case 'joined':
      return typeof m.id === 'string' &&
        ID_RE.test(m.id) &&
        Array.isArray(m.peers) &&
        m.peers.every((p) => typeof p === 'string' && ID_RE.test(p))
        ? { type: 'joined', room: String(m.room), id: m.id, peers: m.peers as string[] }
        : undefined;
    case 'peer-joined':
    case 'peer-left':
      return typeof m.id === 'string' && ID_RE.test(m.id) ? { type: m.type, id: m.id } : undefined;
    case 'signal':
      return typeof m.from === 'string' &&
        ID_RE.test(m.from) &&
        typeof m.data === 'object' &&
        m.data !== null
        ? { type: 'signal', from: m.from, data: m.data as Record<string, unknown> }
        : undefined;
    case 'error':
      return { type: 'error', code: String(m.code), message: String(m.message).slice(0, 500) };
    case 'pong':
      return { type: 'pong' };
    default:
      return undefined;
  }
}

export class SignalingClient {
  private ws: WebSocket | undefined;
  private closed = false;
  private attempt = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  id: string | undefined;

  constructor(
    private readonly url: string,
    private readonly room: string,
    private readonly events: SignalingEvents,
  ) {}

  /** Resolves once joined; rejects with ERR_SIGNALING if the first connection fails within `timeoutMs`. */
  start(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new MeshError(
              'ERR_SIGNALING',
              `no answer from signaling service ${this.url} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      this.connect(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private connect(onJoined?: () => void) {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'join', room: this.room }));
      this.pingTimer = setInterval(() => this.raw({ type: 'ping' }), 20_000);
    };
    ws.onmessage = (ev) => {
      const m = parse(ev.data);
      if (!m)
        return this.events.error(
          new MeshError('ERR_SIGNALING', 'signaling: unparsable message from service ignored'),
        );
      switch (m.type) {
        case 'joined':
          this.id = m.id;
          this.events.joined(m.id, m.peers);
          onJoined?.();
          return;
        case 'peer-joined':
          return this.events.peerJoined(m.id);
        case 'peer-left':
          return this.events.peerLeft(m.id);
        case 'signal':
          return this.events.signal(m.from, m.data);
        case 'error':
          return this.events.error(
            new MeshError('ERR_SIGNALING', `service refused: ${m.code}: ${m.message}`),
          );
      }
    };
    ws.onclose = () => {
      clearInterval(this.pingTimer);
      if (this.closed) return;
      const delay = Math.min(10_000, 250 * 2 ** this.attempt++);
      setTimeout(() => this.connect(), delay);
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
  }

  private raw(m: object) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  signal(to: string, data: Record<string, unknown>) {
    this.raw({ type: 'signal', to, data });
  }

  close() {
    this.closed = true;
    clearInterval(this.pingTimer);
    this.ws?.close();
  }
}
