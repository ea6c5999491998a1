/** Errors of the mesh, each with a stable code (simple-peer style) and an optional cause. */
export type MeshErrorCode =
  | 'ERR_MALFORMED_FRAME'
  | 'ERR_REPLAY'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_HANDSHAKE'
  | 'ERR_NOT_REGISTERED'
  | 'ERR_UNEXPECTED_KEY'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_HEARTBEAT_TIMEOUT'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_WEBRTC'
  | 'ERR_SIGNALING'
  | 'ERR_QUEUE_FULL'
  | 'ERR_BAD_ARGUMENT'
  | 'ERR_CLOSED';

export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly code: MeshErrorCode;
  constructor(code: MeshErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Codes that mean the remote end broke the protocol (it is banned, not reconnected). */
export const VIOLATION_CODES: ReadonlySet<MeshErrorCode> = new Set([
  'ERR_MALFORMED_FRAME',
  'ERR_REPLAY',
  'ERR_FRAME_TOO_LARGE',
  'ERR_HANDSHAKE',
  'ERR_NOT_REGISTERED',
  'ERR_UNEXPECTED_KEY',
]);
