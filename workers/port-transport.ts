/**
 * The engine's Transport inside a worker, over a MessagePort to the main thread, which relays
 * frames to and from the mesh (src/node/bridge.ts). Frames move with transfer lists (no copy).
 * Like every worker module, it imports nothing but the engine.
 *
 * Port messages (both directions validated where they enter):
 *   main → worker  { k: 'm', from, b: Uint8Array }   a frame from party `from`
 *                  { k: 'g', peer, reason }          party `peer` is gone for good
 *   worker → main  { k: 's', to, b: Uint8Array }     send a frame to party `to`
 *                  { k: 'end' }                      no more frames (sent by close(); messages on
 *                                                    one port keep their order, so the main thread
 *                                                    knows every frame before it was relayed)
 */
import type { Transport } from '../src/mpc/index';

export type ToWorker =
  { k: 'm'; from: number; b: Uint8Array } | { k: 'g'; peer: number; reason: string };
export type FromWorker = { k: 's'; to: number; b: Uint8Array } | { k: 'end' };

/** The whole buffer of `b`, copied first when `b` is a view into a larger buffer. */
export function ownBuffer(b: Uint8Array): Uint8Array<ArrayBuffer> {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer)
    return b as Uint8Array<ArrayBuffer>;
  return b.slice() as Uint8Array<ArrayBuffer>;
}

export class PortTransport implements Transport {
  private msg: ((from: number, bytes: Uint8Array) => void) | undefined;
  private gone: ((peer: number, reason: string) => void) | undefined;
  private readonly early: ToWorker[] = [];
  private closed = false;

  constructor(
    private readonly port: MessagePort,
    readonly self: number,
    readonly n: number,
  ) {
    port.onmessage = (ev: MessageEvent<unknown>) => this.onPort(ev.data);
    port.start();
  }

  private onPort(d: unknown) {
    if (this.closed || typeof d !== 'object' || d === null) return;
    const m = d as Record<string, unknown>;
    const idx = (v: unknown) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < this.n && v !== this.self;
    let ev: ToWorker;
    if (m.k === 'm' && idx(m.from) && m.b instanceof Uint8Array)
      ev = { k: 'm', from: m.from as number, b: m.b };
    else if (m.k === 'g' && idx(m.peer) && typeof m.reason === 'string')
      ev = { k: 'g', peer: m.peer as number, reason: m.reason.slice(0, 500) };
    else return console.warn('worker transport: ignored a malformed port message');
    this.deliver(ev);
  }

  private deliver(ev: ToWorker) {
    if (ev.k === 'm') {
      if (this.msg) this.msg(ev.from, ev.b);
      else this.early.push(ev);
    } else if (this.gone) this.gone(ev.peer, ev.reason);
    else this.early.push(ev);
  }

  send(to: number, bytes: Uint8Array): void {
    if (this.closed) return;
    const b = ownBuffer(bytes);
    const m: FromWorker = { k: 's', to, b };
    this.port.postMessage(m, [b.buffer]);
  }

  onMessage(handler: (from: number, bytes: Uint8Array) => void): void {
    this.msg = handler;
    this.flush();
  }

  onPeerGone(handler: (peer: number, reason: string) => void): void {
    this.gone = handler;
    this.flush();
  }

  private flush() {
    const pending = this.early.splice(0);
    for (const e of pending) this.deliver(e);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ k: 'end' } satisfies FromWorker);
    this.port.onmessage = null;
    this.port.close();
  }
}
