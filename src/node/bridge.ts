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

export function bridgeTransport(
  port: MessagePort,
  transport: Transport,
): { stats: BridgeStats; close(): void } {
  const stats: BridgeStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  let closed = false;
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
    close() {
      closed = true;
      port.onmessage = null;
      port.close();
      transport.close();
    },
  };
}
