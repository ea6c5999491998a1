/**
 * Wire format of the signaling service (JSON text frames over a WebSocket). The service relays
 * only connection set-up messages (SDP offers/answers and ICE candidates) between peers of one
 * room; it never sees MPC data, and peers authenticate each other end to end over the data channel
 * (src/net/handshake.ts), so a lying signaling server can at worst deny service.
 *
 * client → server
 *   { type: 'join', room }                 join one room (once per socket)
 *   { type: 'signal', to, data }           relay `data` (an object) to peer `to` of the same room
 *   { type: 'ping' }                       keep-alive; answered with { type: 'pong' }
 * server → client
 *   { type: 'joined', room, id, peers }    your peer id and the ids already in the room
 *   { type: 'peer-joined', id }            somebody joined your room
 *   { type: 'peer-left', id }              somebody left your room
 *   { type: 'signal', from, data }         relayed set-up message
 *   { type: 'error', code, message }       a request was refused (the socket may stay open)
 *   { type: 'pong' }
 */

/** Largest accepted frame; an SDP with a few dozen candidates is ~5 KiB. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Room names: short, printable, no spaces. */
export const ROOM_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Peer ids are assigned by the server: 16 lowercase hex digits. */
export const PEER_ID_RE = /^[0-9a-f]{16}$/;

export type ClientMessage =
  | { type: 'join'; room: string }
  | { type: 'signal'; to: string; data: Record<string, unknown> }
  | { type: 'ping' };

export type ServerMessage =
  | { type: 'joined'; room: string; id: string; peers: string[] }
  | { type: 'peer-joined'; id: string }
  | { type: 'peer-left'; id: string }
  | { type: 'signal'; from: string; data: Record<string, unknown> }
  | { type: 'error'; code: SignalingErrorCode; message: string }
  | { type: 'pong' };

export type SignalingErrorCode =
  | 'ERR_MALFORMED'
  | 'ERR_TOO_LARGE'
  | 'ERR_RATE_LIMIT'
  | 'ERR_NOT_JOINED'
  | 'ERR_ALREADY_JOINED'
  | 'ERR_UNKNOWN_ROOM'
  | 'ERR_ROOM_FULL'
  | 'ERR_UNKNOWN_PEER'
  | 'ERR_SERVER_FULL';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates one client frame; returns a coded error description instead of throwing. */
export function parseClientMessage(
  text: string,
): { ok: true; msg: ClientMessage } | { ok: false; code: SignalingErrorCode; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, code: 'ERR_MALFORMED', message: 'signaling: frame is not valid JSON' };
  }
  if (!isPlainObject(v))
    return { ok: false, code: 'ERR_MALFORMED', message: 'signaling: frame must be a JSON object' };
  switch (v.type) {
    case 'join':
      if (typeof v.room !== 'string' || !ROOM_RE.test(v.room))
        return {
          ok: false,
          code: 'ERR_MALFORMED',
          message: `signaling: join.room must match ${ROOM_RE}`,
        };
      return { ok: true, msg: { type: 'join', room: v.room } };
    case 'signal':
      if (typeof v.to !== 'string' || !PEER_ID_RE.test(v.to))
        return {
          ok: false,
          code: 'ERR_MALFORMED',
          message: 'signaling: signal.to must be a peer id (16 hex digits)',
        };
      if (!isPlainObject(v.data))
        return {
          ok: false,
          code: 'ERR_MALFORMED',
          message: 'signaling: signal.data must be an object',
        };
      return { ok: true, msg: { type: 'signal', to: v.to, data: v.data } };
    case 'ping':
      return { ok: true, msg: { type: 'ping' } };
    default:
      return {
        ok: false,
        code: 'ERR_MALFORMED',
        message: `signaling: unknown message type ${JSON.stringify(String(v.type)).slice(0, 40)}`,
      };
  }
}
