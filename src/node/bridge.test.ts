/**
 * The worker ↔ main-thread frame relay with real MessagePorts (Node's MessageChannel) between the
 * worker-side PortTransport and the main-side bridge, over the engine's in-memory network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../mpc/index';
import { PortTransport } from '../../workers/port-transport';
import { bridgeTransport, type Bridge } from './bridge';

const open: Array<{ close(): void }> = [];
afterEach(() => open.splice(0).forEach((o) => o.close()));

function setup() {
  const net = createMemoryNetwork(3);
  const { port1, port2 } = new MessageChannel();
  const bridge: Bridge = bridgeTransport(port1, net.transports[0]!);
  const worker = new PortTransport(port2, 0, 3);
  open.push(bridge, worker);
  const at1: Uint8Array[] = [];
  net.transports[1]!.onMessage((from, b) => {
    expect(from).toBe(0);
    at1.push(b);
  });
  return { net, bridge, worker, at1, port1 };
}

describe('worker transport bridge', () => {
  it('relays every frame in order, both ways, and signals the end after the last frame', async () => {
    const { net, bridge, worker, at1 } = setup();
    const got: Array<[number, number[]]> = [];
    worker.onMessage((from, b) => got.push([from, Array.from(b)]));
    net.transports[2]!.send(0, new Uint8Array([9, 9]));
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([[2, [9, 9]]]);
    // A view into a larger buffer is copied before transfer, so the rest of the buffer survives.
    const big = new Uint8Array(100).fill(7);
    for (let i = 0; i < 50; i++)
      worker.send(1, i === 3 ? big.subarray(10, 20) : new Uint8Array([i]));
    expect(big[50]).toBe(7);
    worker.close(); // posts the end marker after the 50 frames
    await bridge.drained;
    expect(bridge.stats.framesOut).toBe(50);
    await new Promise((r) => setTimeout(r, 10));
    expect(at1.map((b) => b[0])).toEqual(Array.from({ length: 50 }, (_, i) => (i === 3 ? 7 : i)));
    expect(at1[3]!.length).toBe(10);
  });

  it('tells the worker about gone peers and ignores malformed port messages', async () => {
    const { net, worker, port1 } = setup();
    const gone: Array<[number, string]> = [];
    const msgs: number[] = [];
    worker.onPeerGone((p, r) => gone.push([p, r]));
    worker.onMessage((from) => msgs.push(from));
    port1.postMessage({ k: 'm', from: 0, b: new Uint8Array(1) }); // from itself
    port1.postMessage({ k: 'm', from: 7, b: new Uint8Array(1) }); // out of range
    port1.postMessage({ k: 'm', from: 1, b: 'not bytes' });
    port1.postMessage({ k: 'x' });
    port1.postMessage(null);
    net.disconnect(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(msgs).toEqual([]);
    expect(gone.map(([p]) => p)).toEqual([2]);
  });
});
