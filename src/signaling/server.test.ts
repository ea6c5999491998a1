import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from './protocol';
import { startSignalingServer, type SignalingServer } from './server';

const PORT = 18601;
let server: SignalingServer;
const violations: string[] = [];

beforeAll(async () => {
  server = await startSignalingServer({
    port: PORT,
    rooms: ['alpha', 'beta', 'tiny'],
    ratePerSecond: 20,
    burst: 40,
    maxPeersPerRoom: 3,
    maxStrikes: 3,
    onViolation: (code) => violations.push(code),
  });
});
afterAll(() => server.close());

interface TestClient {
  ws: WebSocket;
  next(type?: ServerMessage['type']): Promise<ServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
  send(v: unknown): void;
}

function connect(): Promise<TestClient> {
  const ws = new WebSocket(server.url);
  const queue: ServerMessage[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d) => {
    queue.push(JSON.parse(String(d)) as ServerMessage);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((res) =>
    ws.on('close', (code, reason) => res({ code, reason: String(reason) })),
  );
  const next = async (type?: ServerMessage['type']): Promise<ServerMessage> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = queue.findIndex((m) => type === undefined || m.type === type);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      if (Date.now() > deadline)
        throw new Error(`no ${type ?? 'message'} within 5 s; got ${JSON.stringify(queue)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  const send = (v: unknown) => ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  return new Promise((res, rej) => {
    ws.once('open', () => res({ ws, next, closed, send }));
    ws.once('error', rej);
  });
}

async function joined(room: string) {
  const c = await connect();
  c.send({ type: 'join', room });
  const m = await c.next('joined');
  if (m.type !== 'joined') throw new Error('unreachable');
  return { ...c, id: m.id, peers: m.peers };
}

describe('signaling service', () => {
  it('announces peers and relays signals only within a room', async () => {
    const a = await joined('alpha');
    expect(a.peers).toEqual([]);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    const b = await joined('alpha');
    expect(b.peers).toEqual([a.id]);
    expect(await a.next('peer-joined')).toEqual({ type: 'peer-joined', id: b.id });
    b.send({ type: 'signal', to: a.id, data: { type: 'offer', sdp: 'v=0 fake' } });
    expect(await a.next('signal')).toEqual({
      type: 'signal',
      from: b.id,
      data: { type: 'offer', sdp: 'v=0 fake' },
    });

    // A peer in another room cannot reach a.
    const c = await joined('beta');
    c.send({ type: 'signal', to: a.id, data: { x: 1 } });
    const err = await c.next('error');
    expect(err).toMatchObject({ type: 'error', code: 'ERR_UNKNOWN_PEER' });

    b.ws.close();
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', id: b.id });
    a.ws.close();
    c.ws.close();
  });

  it('refuses signaling before join, double joins, and full rooms', async () => {
    const x = await connect();
    x.send({ type: 'signal', to: '0123456789abcdef', data: {} });
    expect(await x.next('error')).toMatchObject({ code: 'ERR_NOT_JOINED' });
    x.send({ type: 'join', room: 'tiny' });
    await x.next('joined');
    x.send({ type: 'join', room: 'tiny' });
    expect(await x.next('error')).toMatchObject({ code: 'ERR_ALREADY_JOINED' });
    const y = await joined('tiny');
    const z = await joined('tiny');
    const w = await connect();
    w.send({ type: 'join', room: 'tiny' });
    expect(await w.next('error')).toMatchObject({ code: 'ERR_ROOM_FULL' });
    for (const c of [x, y, z, w]) c.ws.close();
  });

  it('closes sockets that join unknown rooms', async () => {
    const c = await connect();
    c.send({ type: 'join', room: 'nosuchroom' });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_UNKNOWN_ROOM' });
    expect((await c.closed).code).toBe(1008);
  });

  it.each([
    ['not json', '{"type": "join", room'],
    ['an array', '[1,2,3]'],
    ['an unknown type', { type: 'hello' }],
    ['a bad room name', { type: 'join', room: 'has space' }],
    ['an over-long room name', { type: 'join', room: 'r'.repeat(65) }],
    ['a bad peer id', { type: 'signal', to: '../../etc', data: {} }],
    ['non-object data', { type: 'signal', to: '0123456789abcdef', data: 'sdp' }],
  ])('closes a socket that sends %s', async (_what, frame) => {
    const c = await connect();
    c.send(frame);
    expect(await c.next('error')).toMatchObject({ code: 'ERR_MALFORMED' });
    expect((await c.closed).code).toBe(1008);
  });

  it('closes a socket that sends binary frames', async () => {
    const c = await connect();
    c.ws.send(new Uint8Array([1, 2, 3]));
    expect(await c.next('error')).toMatchObject({ code: 'ERR_MALFORMED' });
    expect((await c.closed).code).toBe(1008);
  });

  it('closes a socket that sends an oversized frame and keeps serving others', async () => {
    const a = await joined('alpha');
    const b = await joined('alpha');
    await a.next('peer-joined');
    const big = await connect();
    big.send({ type: 'join', room: 'beta', pad: 'x'.repeat(70 * 1024) });
    expect((await big.closed).code).toBe(1009);
    b.send({ type: 'signal', to: a.id, data: { ok: true } });
    expect(await a.next('signal')).toMatchObject({ from: b.id, data: { ok: true } });
    a.ws.close();
    b.ws.close();
  });

  it('closes a flooding socket; a neighbour in the room is unaffected', async () => {
    const a = await joined('beta');
    const f = await joined('beta');
    await a.next('peer-joined');
    for (let i = 0; i < 200; i++) f.send({ type: 'ping' });
    const closed = await f.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe('ERR_RATE_LIMIT');
    expect(await a.next('peer-left')).toEqual({ type: 'peer-left', id: f.id });
    a.send({ type: 'ping' });
    expect(await a.next('pong')).toEqual({ type: 'pong' });
    a.ws.close();
  });

  it('closes a socket after too many refused requests', async () => {
    const c = await joined('alpha');
    for (let i = 0; i < 5; i++) c.send({ type: 'signal', to: 'ffffffffffffffff', data: {} });
    expect((await c.closed).code).toBe(1008);
    expect(violations).toContain('ERR_UNKNOWN_PEER');
  });

  it('runs standalone on a configured port', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/signaling/main.ts', '--port', '18602'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((res, rej) => {
        const t = setTimeout(
          () => rej(new Error('standalone signaling did not start in 20 s')),
          20_000,
        );
        child.stdout.on('data', (d: Buffer) => {
          clearTimeout(t);
          res(String(d));
        });
        child.on('exit', (code) => rej(new Error(`exited ${code}`)));
      });
      expect(line.trim()).toBe('signaling listening on ws://127.0.0.1:18602');
      const ws = new WebSocket('ws://127.0.0.1:18602');
      const msg = await new Promise<string>((res, rej) => {
        ws.once('open', () => ws.send(JSON.stringify({ type: 'ping' })));
        ws.once('message', (d) => res(String(d)));
        ws.once('error', rej);
      });
      expect(JSON.parse(msg)).toEqual({ type: 'pong' });
      ws.close();
    } finally {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
