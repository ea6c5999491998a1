/**
 * One MPC party: a message-driven state machine over an abstract Transport.
 *
 * Operation ids: every protocol step calls `nextOp()` at every party in the same order (protocol
 * code is deterministic and runs one step at a time per Party), so the counter names the same step
 * everywhere — no ids travel in the protocol logic itself. A step carries at most one frame per
 * (sender, receiver) holding a whole vector, so the number of rounds never depends on the number of
 * rows.
 *
 * Untrusted input: every frame is decoded and validated (codec.ts). A peer that sends a malformed
 * frame, a frame of the wrong length for its step, or a frame for a step that cannot exist is
 * reported as an incident and excluded (treated as gone); duplicates of an already received frame
 * (replays) are reported and dropped. Frames for future steps are buffered up to a bound.
 */
import { MpcError, type MpcErrorCode } from './errors';
import { Field, type Vec } from './field';
import { FRAME_ABORT, decodeFrame, encodeAbort, encodeData } from './codec';
import { cryptoRng, type Rng } from './rng';
import { checkParams } from './shamir';
import type { Transport } from './transport';

export interface Incident {
  peer: number;
  code: MpcErrorCode;
  message: string;
}

export interface PartyOptions {
  transport: Transport;
  /** Threshold: up to t parties may collude; t < n/2. */
  t: number;
  /** Tag of this computation, the same at every party (e.g. derived from the job id). */
  session: number;
  field?: Field;
  rng?: Rng;
  /** How long to wait for one peer's frame of one step (default 60 s). */
  timeoutMs?: number;
  /** How many steps ahead a peer may run before its frames are refused (default 1024). */
  maxAheadOps?: number;
  /** Bytes a peer may have buffered for future steps (default 1 GiB). */
  maxBufferedBytes?: number;
  onIncident?: (incident: Incident) => void;
}

interface Slot {
  got: Map<number, Vec>;
  /** Set once the step's receive finished; later frames for it are duplicates or unexpected. */
  closed: boolean;
  expected?: Set<number>;
  waiter?:
    | {
        from: readonly number[];
        len: (peer: number) => number;
        allowGone: boolean;
        resolve: (m: Map<number, Vec>) => void;
        reject: (e: MpcError) => void;
        timer: ReturnType<typeof setTimeout> | undefined;
      }
    | undefined;
}

/** Keep closed slots this many steps back for replay detection. */
const CLOSED_HISTORY = 1 << 16;

export class Party {
  readonly n: number;
  private readonly allParties: readonly number[];
  readonly t: number;
  readonly self: number;
  readonly session: number;
  readonly F: Field;
  readonly rng: Rng;
  readonly incidents: Incident[] = [];
  /** Peers gone for good (left, failed, or excluded for misbehaving). */
  readonly gone = new Set<number>();
  readonly stats = { framesSent: 0, bytesSent: 0, steps: 0 };

  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly maxAhead: number;
  private readonly maxBuffered: number;
  private readonly onIncident: ((i: Incident) => void) | undefined;
  private op = 0;
  private readonly slots = new Map<number, Slot>();
  private readonly buffered: number[];
  private abortErr: MpcError | undefined;

  constructor(opts: PartyOptions) {
    const tr = opts.transport;
    checkParams(tr.n, opts.t, 'Party');
    if (!Number.isInteger(tr.self) || tr.self < 0 || tr.self >= tr.n) {
      throw new MpcError('ERR_PARAM', `Party: transport.self ${tr.self} outside 0..${tr.n - 1}`);
    }
    this.transport = tr;
    this.n = tr.n;
    this.t = opts.t;
    this.self = tr.self;
    this.session = opts.session >>> 0;
    this.F = opts.field ?? new Field();
    this.rng = opts.rng ?? cryptoRng;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxAhead = opts.maxAheadOps ?? 1024;
    this.maxBuffered = opts.maxBufferedBytes ?? 1 << 30;
    this.onIncident = opts.onIncident;
    this.buffered = new Array<number>(this.n).fill(0);
    this.allParties = Object.freeze(Array.from({ length: this.n }, (_, i) => i));
    tr.onMessage((from, bytes) => this.onFrame(from, bytes));
    tr.onPeerGone((peer, reason) => this.peerGone(peer, `left: ${reason}`));
  }

  /** All party indices, 0..n-1 (one frozen array: protocol steps read it several times each). */
  get parties(): readonly number[] {
    return this.allParties;
  }

  get aborted(): MpcError | undefined {
    return this.abortErr;
  }

  /** Allocates the id of the next protocol step (every party calls this in the same order). */
  nextOp(): number {
    this.ensureRunning();
    this.stats.steps++;
    return this.op++;
  }

  /** Sends this party's message of step `op` to `to` (to self: kept locally). */
  send(to: number, op: number, parts: readonly Vec[]): void {
    this.ensureRunning();
    if (to === this.self) {
      const slot = this.slot(op);
      slot.got.set(to, parts.length === 1 ? parts[0]! : concat(parts));
      this.check(op, slot);
      return;
    }
    if (this.gone.has(to)) return;
    const bytes = encodeData(this.self, this.session, op, parts);
    this.stats.framesSent++;
    this.stats.bytesSent += bytes.length;
    this.transport.send(to, bytes);
  }

  /**
   * Waits for the messages of step `op` from `from` (self included if listed), each of length
   * `len(peer)`. With `allowGone`, peers that are gone are skipped instead of failing the step.
   */
  recv(
    op: number,
    from: readonly number[],
    len: number | ((peer: number) => number),
    allowGone = false,
  ): Promise<Map<number, Vec>> {
    this.ensureRunning();
    const lenFn = typeof len === 'number' ? () => len : len;
    const slot = this.slot(op);
    if (slot.waiter) throw new MpcError('ERR_PARAM', `recv: step ${op} is already awaited`);
    slot.expected = new Set(from);
    // validate what arrived early
    for (const [peer, v] of slot.got) {
      if (!slot.expected.has(peer)) {
        slot.got.delete(peer);
        this.fault(
          peer,
          'ERR_UNKNOWN_OP',
          `party ${peer} sent a frame for step ${op}, which expects nothing from it`,
        );
      } else if (v.length !== lenFn(peer)) {
        slot.got.delete(peer);
        this.fault(
          peer,
          'ERR_FRAME_LENGTH',
          `party ${peer} sent ${v.length} elements for step ${op}, expected ${lenFn(peer)}`,
        );
      }
    }
    if (!allowGone) {
      const goneNeeded = from.filter((p) => this.gone.has(p) && !slot.got.has(p));
      if (goneNeeded.length) {
        slot.closed = true;
        const err = new MpcError(
          'ERR_PEER_GONE',
          `step ${op} needs part${goneNeeded.length > 1 ? 'ies' : 'y'} ${goneNeeded.join(', ')}, which ${goneNeeded.length > 1 ? 'are' : 'is'} gone`,
          { suspects: goneNeeded },
        );
        this.abort(err);
        return Promise.reject(err);
      }
    }
    return new Promise<Map<number, Vec>>((resolve, reject) => {
      const timer =
        this.timeoutMs > 0
          ? setTimeout(() => {
              const missing = from.filter((p) => !slot.got.has(p) && !this.gone.has(p));
              this.failSlot(
                op,
                new MpcError(
                  'ERR_TIMEOUT',
                  `step ${op}: no message from part${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')} within ${this.timeoutMs} ms`,
                  { suspects: missing },
                ),
              );
            }, this.timeoutMs)
          : undefined;
      slot.waiter = { from, len: lenFn, allowGone, resolve, reject, timer };
      this.check(op, slot);
    });
  }

  /** Sends `outgoing[peer]` to each listed peer, then receives from `from`. */
  async exchange(
    op: number,
    outgoing: ReadonlyMap<number, readonly Vec[]>,
    from: readonly number[],
    len: number | ((peer: number) => number),
    allowGone = false,
  ): Promise<Map<number, Vec>> {
    for (const [to, parts] of outgoing) this.send(to, op, parts);
    return this.recv(op, from, len, allowGone);
  }

  /** Peers that are still present (self included). */
  alive(): number[] {
    return this.parties.filter((p) => !this.gone.has(p));
  }

  /** Aborts the computation: tells every peer, fails every pending step. Idempotent. */
  abort(err: MpcError): MpcError {
    if (this.abortErr) return this.abortErr;
    this.abortErr = err;
    // tell everyone, excluded peers included, so that nobody waits for a timeout
    for (const p of this.parties) {
      if (p === this.self) continue;
      try {
        this.transport.send(p, encodeAbort(this.self, this.session, this.op, `${err.code}`));
      } catch {
        // the peer may be unreachable; abort is best effort
      }
    }
    for (const [op] of this.slots) this.failSlot(op, err);
    return err;
  }

  /** Stops listening; pending steps fail with ERR_ABORTED. */
  close(): void {
    if (!this.abortErr) this.abortErr = new MpcError('ERR_ABORTED', 'party closed');
    for (const [op] of this.slots) this.failSlot(op, this.abortErr);
    this.transport.close();
  }

  private ensureRunning(): void {
    if (this.abortErr)
      throw new MpcError('ERR_ABORTED', `computation aborted earlier (${this.abortErr.code})`, {
        cause: this.abortErr,
        suspects: this.abortErr.suspects,
      });
  }

  private slot(op: number): Slot {
    let s = this.slots.get(op);
    if (!s) {
      s = { got: new Map(), closed: false };
      this.slots.set(op, s);
    }
    return s;
  }

  private incident(peer: number, code: MpcErrorCode, message: string): void {
    const i = { peer, code, message };
    this.incidents.push(i);
    if (this.incidents.length > 1000) this.incidents.shift();
    this.onIncident?.(i);
  }

  /** A peer misbehaved: record it and exclude it from the rest of the computation. */
  private fault(peer: number, code: MpcErrorCode, message: string): void {
    this.incident(peer, code, message);
    this.peerGone(peer, `excluded: ${code}`);
  }

  private peerGone(peer: number, reason: string): void {
    if (peer === this.self || peer < 0 || peer >= this.n || this.gone.has(peer)) return;
    this.gone.add(peer);
    for (const [op, slot] of this.slots) {
      const w = slot.waiter;
      if (!w || !w.from.includes(peer) || slot.got.has(peer)) continue;
      if (w.allowGone) this.check(op, slot);
      else
        this.failSlot(
          op,
          new MpcError(
            'ERR_PEER_GONE',
            `step ${op} needs party ${peer}, which is gone (${reason})`,
            { suspects: [peer] },
          ),
        );
    }
  }

  /** A step failed: the whole computation aborts (every pending step fails with the same error). */
  private failSlot(op: number, err: MpcError): void {
    if (!this.abortErr) {
      this.abort(err);
      return;
    }
    const slot = this.slots.get(op);
    if (!slot?.waiter) return;
    const w = slot.waiter;
    if (w.timer) clearTimeout(w.timer);
    slot.waiter = undefined;
    slot.closed = true;
    slot.got.clear();
    w.reject(err);
  }

  private check(op: number, slot: Slot): void {
    const w = slot.waiter;
    if (!w) return;
    for (const p of w.from) if (!slot.got.has(p) && !(w.allowGone && this.gone.has(p))) return;
    if (w.timer) clearTimeout(w.timer);
    slot.waiter = undefined;
    slot.closed = true;
    const out = new Map<number, Vec>();
    for (const p of w.from) {
      const v = slot.got.get(p);
      if (v) {
        out.set(p, v);
        if (p !== this.self) this.buffered[p]! -= v.byteLength;
      }
    }
    slot.got.clear();
    // keep closed slots for replay detection, drop very old ones
    const old = op - CLOSED_HISTORY;
    if (old >= 0) this.slots.delete(old);
    w.resolve(out);
  }

  private onFrame(from: number, bytes: Uint8Array): void {
    if (from === this.self || from < 0 || from >= this.n || this.gone.has(from)) return;
    let frame;
    try {
      frame = decodeFrame(bytes, from, this.n);
    } catch (e) {
      const err =
        e instanceof MpcError
          ? e
          : new MpcError('ERR_FRAME_MAGIC', `undecodable frame from party ${from}`);
      this.fault(from, err.code, err.message);
      return;
    }
    if (frame.session !== this.session) {
      this.incident(
        from,
        'ERR_SESSION',
        `party ${from} sent a frame of session ${frame.session}, this is session ${this.session}`,
      );
      return;
    }
    if (frame.type === FRAME_ABORT) {
      const err = new MpcError(
        'ERR_ABORTED',
        `party ${from} aborted the computation (${frame.reason.slice(0, 64)})`,
        { details: { by: from } },
      );
      this.abort(err);
      return;
    }
    const { op, payload } = frame;
    if (op >= this.op + this.maxAhead) {
      this.fault(
        from,
        'ERR_UNKNOWN_OP',
        `party ${from} sent a frame for step ${op}, too far ahead of step ${this.op}`,
      );
      return;
    }
    const existing = this.slots.get(op);
    if (existing?.closed || op < this.op - CLOSED_HISTORY) {
      this.incident(
        from,
        'ERR_DUPLICATE',
        `party ${from} sent a frame for step ${op}, which is already complete (replay)`,
      );
      return;
    }
    const slot = existing ?? this.slot(op);
    if (slot.got.has(from)) {
      this.incident(from, 'ERR_DUPLICATE', `party ${from} sent a second frame for step ${op}`);
      return;
    }
    if (slot.expected && !slot.expected.has(from)) {
      this.fault(
        from,
        'ERR_UNKNOWN_OP',
        `party ${from} sent a frame for step ${op}, which expects nothing from it`,
      );
      return;
    }
    if (slot.waiter && payload.length !== slot.waiter.len(from)) {
      this.fault(
        from,
        'ERR_FRAME_LENGTH',
        `party ${from} sent ${payload.length} elements for step ${op}, expected ${slot.waiter.len(from)}`,
      );
      return;
    }
    this.buffered[from]! += payload.byteLength;
    if (this.buffered[from]! > this.maxBuffered) {
      this.fault(
        from,
        'ERR_INBOX_FULL',
        `party ${from} has more than ${this.maxBuffered} bytes buffered`,
      );
      return;
    }
    slot.got.set(from, payload);
    this.check(op, slot);
  }
}

export function concat(parts: readonly Vec[]): Vec {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new BigUint64Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
