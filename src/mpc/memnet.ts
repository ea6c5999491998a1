/**
 * An in-memory network of n parties for tests and benchmarks, with a seeded scheduler that can
 * delay, reorder and drop messages, disconnect parties, and let a test tamper with frames in flight.
 * With no options it delivers every frame, in order, on the next microtask — the fastest setting,
 * used by the benchmarks (all parties then share one thread, as BENCH.md states).
 */
import type { Transport } from './transport';

export interface MemoryNetworkOptions {
  /** Seed of the scheduler's random choices (delays, order, drops). */
  seed?: number;
  /** Each frame is delayed by a random 0..maxDelayMs milliseconds (0: next microtask). */
  maxDelayMs?: number;
  /** Deliver frames in a random order, even between the same pair of parties. */
  reorder?: boolean;
  /** Probability that a frame is silently lost. */
  dropRate?: number;
  /** Sees every frame; returns the bytes to deliver (possibly altered) or null to drop it. */
  tamper?: (from: number, to: number, bytes: Uint8Array) => Uint8Array | null;
}

export interface MemoryNetwork {
  readonly transports: Transport[];
  /** Party `p` leaves for good: everyone is told, and nothing more is delivered to or from it. */
  disconnect(p: number): void;
  /** Injects raw bytes as if `from` had sent them to `to` (forged or replayed frames in tests). */
  inject(from: number, to: number, bytes: Uint8Array): void;
  readonly stats: { frames: number; bytes: number };
}

interface Pending {
  from: number;
  to: number;
  bytes: Uint8Array;
}

export function createMemoryNetwork(n: number, opts: MemoryNetworkOptions = {}): MemoryNetwork {
  let s = (opts.seed ?? 1) >>> 0 || 1;
  const rand = (): number => {
    // xorshift32: deterministic scheduling decisions from the seed
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  const handlers: ((from: number, bytes: Uint8Array) => void)[] = [];
  const goneHandlers: ((peer: number, reason: string) => void)[] = [];
  const gone = new Set<number>();
  const closed = new Set<number>();
  const stats = { frames: 0, bytes: 0 };
  let queue: Pending[] = [];
  let flushScheduled = false;
  const maxDelay = opts.maxDelayMs ?? 0;

  const deliver = (m: Pending): void => {
    if (gone.has(m.from) || gone.has(m.to) || closed.has(m.to)) return;
    handlers[m.to]?.(m.from, m.bytes);
  };

  const flush = (): void => {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    if (opts.reorder) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
    }
    for (const m of batch) deliver(m);
  };

  const enqueue = (m: Pending): void => {
    if (maxDelay > 0) {
      setTimeout(() => deliver(m), Math.floor(rand() * (maxDelay + 1)));
      return;
    }
    queue.push(m);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };

  const route = (from: number, to: number, bytes: Uint8Array): void => {
    if (gone.has(from) || gone.has(to)) return;
    if (opts.dropRate && rand() < opts.dropRate) return;
    const out = opts.tamper ? opts.tamper(from, to, bytes) : bytes;
    if (!out) return;
    stats.frames++;
    stats.bytes += out.length;
    enqueue({ from, to, bytes: out });
  };

  const transports: Transport[] = Array.from({ length: n }, (_, self) => ({
    self,
    n,
    send(to: number, bytes: Uint8Array): void {
      if (to === self || to < 0 || to >= n)
        throw new RangeError(`memnet: party ${self} cannot send to ${to}`);
      route(self, to, bytes);
    },
    onMessage(h: (from: number, bytes: Uint8Array) => void): void {
      handlers[self] = h;
    },
    onPeerGone(h: (peer: number, reason: string) => void): void {
      goneHandlers[self] = h;
    },
    close(): void {
      closed.add(self);
    },
  }));

  return {
    transports,
    stats,
    disconnect(p: number): void {
      if (gone.has(p)) return;
      gone.add(p);
      for (let i = 0; i < n; i++) {
        if (i === p) continue;
        if (!closed.has(i)) queueMicrotask(() => goneHandlers[i]?.(p, 'disconnected'));
        // the vanished party loses everyone too (its own network is gone)
        if (!closed.has(p)) queueMicrotask(() => goneHandlers[p]?.(i, 'disconnected'));
      }
    },
    inject(from: number, to: number, bytes: Uint8Array): void {
      enqueue({ from, to, bytes });
    },
  };
}
