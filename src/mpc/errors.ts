/**
 * Typed, coded errors of the engine. Every failure the engine reports is an `MpcError` whose `code`
 * is stable (tests and callers switch on it) and whose message names the place and the bad value —
 * never a share or a secret.
 */
export type MpcErrorCode =
  | 'ERR_PARAM' // a caller passed an invalid argument (n, t, lengths, party index, ...)
  | 'ERR_FRAME_TRUNCATED' // a frame is shorter than its header or its declared payload
  | 'ERR_FRAME_MAGIC' // not an engine frame, or an unsupported version
  | 'ERR_FRAME_TYPE' // unknown frame type
  | 'ERR_FRAME_LENGTH' // declared length disagrees with the bytes, or with what the protocol expects
  | 'ERR_FRAME_OVERSIZE' // payload larger than the engine accepts
  | 'ERR_FIELD_RANGE' // a received value is not a field element (>= p)
  | 'ERR_SENDER' // the frame's sender field disagrees with the authenticated sender
  | 'ERR_SESSION' // a frame for another computation session
  | 'ERR_UNKNOWN_OP' // an operation id that cannot belong to this computation
  | 'ERR_DUPLICATE' // a second frame for the same (operation, sender): replay or equivocation
  | 'ERR_INBOX_FULL' // a peer sent more buffered data than allowed
  | 'ERR_TIMEOUT' // a peer's message did not arrive in time
  | 'ERR_PEER_GONE' // a peer the protocol needs has left
  | 'ERR_INCONSISTENT' // shares do not lie on one polynomial of the expected degree
  | 'ERR_CHEATING' // a verification check failed: some party deviated
  | 'ERR_ABORTED'; // the computation was aborted earlier; nothing more will be computed

export class MpcError extends Error {
  override readonly name = 'MpcError';
  readonly code: MpcErrorCode;
  /** Parties identified as having deviated, when the protocol can tell (0-based indices). */
  readonly suspects: readonly number[];
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(
    code: MpcErrorCode,
    message: string,
    opts: {
      suspects?: readonly number[];
      details?: Record<string, string | number | boolean>;
      cause?: unknown;
    } = {},
  ) {
    super(`${code}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.suspects = opts.suspects ?? [];
    this.details = opts.details ?? {};
  }
}

export function isMpcError(e: unknown, code?: MpcErrorCode): e is MpcError {
  return e instanceof MpcError && (code === undefined || e.code === code);
}
