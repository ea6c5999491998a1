/**
 * Signaling service: rooms of peers that relay WebRTC set-up messages to each other.
 * Bounded everywhere: frame size, messages per second per socket, peers per room, rooms, sockets.
 * A socket that sends a malformed, oversized or flooding frame is closed at once (code 1008/1009);
 * a socket whose requests are refused too often (unknown peers, full rooms) is closed too.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  MAX_MESSAGE_BYTES,
  parseClientMessage,
  type ServerMessage,
  type SignalingErrorCode,
} from './protocol';

export interface SignalingOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  host?: string;
  /** If given, only these rooms may be joined (others get ERR_UNKNOWN_ROOM and are closed). */
  rooms?: readonly string[];
  maxMessageBytes?: number;
  /** Token bucket per socket: sustained messages per second and burst size. */
  ratePerSecond?: number;
  burst?: number;
  maxPeersPerRoom?: number;
  maxRooms?: number;
  maxSockets?: number;
  /** Refused requests tolerated per socket before it is closed. */
  maxStrikes?: number;
  /** Called for each closed misbehaving socket (for tests and operators); never gets payloads. */
  onViolation?: (code: SignalingErrorCode, peer: string | undefined) => void;
}

export interface SignalingServer {
  readonly port: number;
  readonly url: string;
  /** Current rooms and their member counts (diagnostics). */
  stats(): { sockets: number; rooms: Record<string, number> };
  close(): Promise<void>;
}

interface Client {
  ws: WebSocket;
  id: string;
  room: string | undefined;
  tokens: number;
  last: number;
  strikes: number;
}

export function startSignalingServer(opts: SignalingOptions): Promise<SignalingServer> {
  const maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const rate = opts.ratePerSecond ?? 50;
  const burst = opts.burst ?? 200;
  const maxPeersPerRoom = opts.maxPeersPerRoom ?? 64;
  const maxRooms = opts.maxRooms ?? 1000;
  const maxSockets = opts.maxSockets ?? 2000;
  const maxStrikes = opts.maxStrikes ?? 20;
  const allowed = opts.rooms ? new Set(opts.rooms) : undefined;
  const rooms = new Map<string, Map<string, Client>>();
  let sockets = 0;

  const wss = new WebSocketServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    maxPayload: maxMessageBytes,
  });

  const send = (c: Client, m: ServerMessage) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(m));
  };
  const kill = (c: Client, code: SignalingErrorCode, message: string, wsCode = 1008) => {
    opts.onViolation?.(code, c.id);
    send(c, { type: 'error', code, message });
    c.ws.close(wsCode, code);
    // A socket that keeps sending after close must not keep us busy.
    setTimeout(() => c.ws.terminate(), 1000).unref();
  };
  const refuse = (c: Client, code: SignalingErrorCode, message: string) => {
    c.strikes++;
    if (c.strikes > maxStrikes) kill(c, code, `${message} (too many refused requests)`);
    else send(c, { type: 'error', code, message });
  };
  const leave = (c: Client) => {
    if (c.room === undefined) return;
    const members = rooms.get(c.room);
    c.room = undefined;
    if (!members) return;
    members.delete(c.id);
    if (members.size === 0) for (const [name, m] of rooms) if (m === members) rooms.delete(name);
    for (const other of members.values()) send(other, { type: 'peer-left', id: c.id });
  };

  wss.on('connection', (ws) => {
    const c: Client = {
      ws,
      id: randomBytes(8).toString('hex'),
      room: undefined,
      tokens: burst,
      last: Date.now(),
      strikes: 0,
    };
    sockets++;
    if (sockets > maxSockets) {
      kill(c, 'ERR_SERVER_FULL', 'signaling: too many connections', 1013);
      ws.on('close', () => sockets--);
      return;
    }
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      sockets--;
      leave(c);
    });
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      if (ws.readyState !== ws.OPEN) return;
      const now = Date.now();
      c.tokens = Math.min(burst, c.tokens + ((now - c.last) / 1000) * rate);
      c.last = now;
      if (c.tokens < 1) return kill(c, 'ERR_RATE_LIMIT', `signaling: more than ${rate} messages/s`);
      c.tokens -= 1;
      if (isBinary) return kill(c, 'ERR_MALFORMED', 'signaling: binary frames are not accepted');
      const size = Array.isArray(raw)
        ? raw.reduce((s, b) => s + b.length, 0)
        : (raw as Buffer | ArrayBuffer).byteLength;
      if (size > maxMessageBytes)
        return kill(
          c,
          'ERR_TOO_LARGE',
          `signaling: frame of ${size} bytes > ${maxMessageBytes}`,
          1009,
        );
      const text = Array.isArray(raw)
        ? Buffer.concat(raw).toString('utf8')
        : Buffer.from(raw as ArrayBuffer).toString('utf8');
      const parsed = parseClientMessage(text);
      if (!parsed.ok) return kill(c, parsed.code, parsed.message);
      const msg = parsed.msg;
      switch (msg.type) {
        case 'ping':
          return send(c, { type: 'pong' });
        case 'join': {
          if (c.room !== undefined)
            return refuse(c, 'ERR_ALREADY_JOINED', `signaling: already in room ${c.room}`);
          if (allowed && !allowed.has(msg.room))
            return kill(
              c,
              'ERR_UNKNOWN_ROOM',
              `signaling: unknown room ${JSON.stringify(msg.room)}`,
            );
          let members = rooms.get(msg.room);
          if (!members) {
            if (rooms.size >= maxRooms)
              return refuse(c, 'ERR_SERVER_FULL', 'signaling: too many rooms');
            members = new Map();
            rooms.set(msg.room, members);
          }
          if (members.size >= maxPeersPerRoom)
            return refuse(
              c,
              'ERR_ROOM_FULL',
              `signaling: room ${msg.room} is full (${maxPeersPerRoom} peers)`,
            );
          const peers = [...members.keys()];
          members.set(c.id, c);
          c.room = msg.room;
          send(c, { type: 'joined', room: msg.room, id: c.id, peers });
          for (const other of members.values())
            if (other !== c) send(other, { type: 'peer-joined', id: c.id });
          return;
        }
        case 'signal': {
          if (c.room === undefined)
            return refuse(c, 'ERR_NOT_JOINED', 'signaling: join a room before signaling');
          const target = rooms.get(c.room)?.get(msg.to);
          if (!target || target === c)
            return refuse(c, 'ERR_UNKNOWN_PEER', `signaling: no peer ${msg.to} in room ${c.room}`);
          return send(target, { type: 'signal', from: c.id, data: msg.data });
        }
      }
    });
  });

  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      const port = (wss.address() as AddressInfo).port;
      resolve({
        port,
        url: `ws://${opts.host ?? '127.0.0.1'}:${port}`,
        stats: () => ({
          sockets,
          rooms: Object.fromEntries([...rooms].map(([k, v]) => [k, v.size])),
        }),
        close: () =>
          new Promise<void>((res) => {
            for (const ws of wss.clients) ws.terminate();
            wss.close(() => res());
          }),
      });
    });
  });
}
