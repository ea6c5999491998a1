/**
 * Main-thread side of the worker transport: relays frames between a mesh Transport and the
 * worker's PortTransport (workers/port-transport.ts). Frames move with transfer lists; nothing is
 * decoded or logged here (they are shares).
 */
import type { Transport } from '../mpc/transport';
import { ownBuffer, type ToWorker } from '../../workers/port-transport';

export interface BridgeStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface Bridge {
  stats: BridgeStats;
  /**
   * Resolves when the worker said it will send no more frames. The job's result comes back on a
   * different port than the frames, so it can overtake the last frames: wait for this before
   * closing, or the last frames of a protocol are lost and the other parties time out.
   */
  drained: Promise<void>;
  close(): void;
}

export function bridgeTransport(port: MessagePort, transport: Transport): Bridge {
  const stats: BridgeStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  let closed = false;
  let onEnd: () => void = () => undefined;
  const drained = new Promise<void>((r) => (onEnd = r));
  transport.onMessage((from, bytes) => {
    if (closed) return;
    const b = ownBuffer(bytes);
    stats.framesIn++;
    stats.bytesIn += b.length;
    const m: ToWorker = { k: 'm', from, b };
    port.postMessage(m, [b.buffer]);
  });
  transport.onPeerGone((peer, reason) => {
    if (!closed) port.postMessage({ k: 'g', peer, reason } satisfies ToWorker);
  });
  port.onmessage = (ev: MessageEvent<unknown>) => {
    const d = ev.data as { k?: unknown; to?: unknown; b?: unknown } | null;
    if (d?.k === 'end') return onEnd();
    if (closed || !d || d.k !== 's' || typeof d.to !== 'number' || !(d.b instanceof Uint8Array))
      return;
    stats.framesOut++;
    stats.bytesOut += d.b.length;
    try {
      transport.send(d.to, d.b);
    } catch (err) {
      // A bad index from our own worker is a bug; a closed link is reported through onPeerGone.
      console.error(`bridge: send to party ${d.to} failed: ${(err as Error).message}`);
    }
  };
  port.start();
  return {
    stats,
    drained,
    close() {
      closed = true;
      port.onmessage = null;
      port.close();
      transport.close();
    },
  };
}
