/**
 * The engine's only view of the network. A transport connects this party to the other parties
 * of one committee; parties are numbered 0..n-1 and party i evaluates shares at x = i + 1.
 *
 * Implementations: `createMemoryNetwork` (src/mpc/memnet.ts, seeded scheduler for tests and
 * benchmarks) and the WebRTC mesh (src/net/). The engine never imports either.
 *
 * Contract:
 * - `send` takes ownership of `bytes` (the caller must not modify it afterwards); delivery is
 *   reliable and in order per (sender, receiver) pair while the peer is connected, or the peer is
 *   reported gone. The engine itself detects duplicates, replays and malformed frames.
 * - `from` in a delivered message is the *authenticated* sender index (the transport binds it to a
 *   peer key); the engine checks that the frame's own sender field agrees.
 */
export interface Transport {
  /** This party's index, 0..n-1. */
  readonly self: number;
  /** Number of parties in the committee. */
  readonly n: number;
  /** Sends one frame to party `to` (never to `self`). */
  send(to: number, bytes: Uint8Array): void;
  /** Registers the single handler for incoming frames. */
  onMessage(handler: (from: number, bytes: Uint8Array) => void): void;
  /** Registers the single handler for a peer that is gone for good (closed, timed out, failed). */
  onPeerGone(handler: (peer: number, reason: string) => void): void;
  /** Releases resources; no event fires afterwards. */
  close(): void;
}
