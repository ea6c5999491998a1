import { describe, expect, it } from 'vitest';
import { encodeData } from './codec';
import { MpcError } from './errors';
import { Field } from './field';
import { createMemoryNetwork } from './memnet';
import { Party, type Incident } from './runtime';

const F = new Field();

function trio(opts: { timeoutMs?: number } = {}) {
  const net = createMemoryNetwork(3);
  const incidents: Incident[] = [];
  const parties = net.transports.map(
    (tr) =>
      new Party({
        transport: tr,
        t: 1,
        session: 5,
        field: F,
        timeoutMs: opts.timeoutMs ?? 2000,
        onIncident: (i) => incidents.push(i),
      }),
  );
  return { net, parties, incidents };
}

describe('Party runtime', () => {
  it('exchanges one vector per peer per step, whatever order frames arrive in', async () => {
    const { parties } = trio();
    const results = await Promise.all(
      parties.map(async (p) => {
        const op1 = p.nextOp();
        const op2 = p.nextOp();
        // send step 2 first: peers must buffer it
        for (const j of p.parties) p.send(j, op2, [BigUint64Array.of(BigInt(10 * p.self + 2))]);
        for (const j of p.parties) p.send(j, op1, [BigUint64Array.of(BigInt(10 * p.self + 1))]);
        const a = await p.recv(op1, p.parties, 1);
        const b = await p.recv(op2, p.parties, 1);
        return [...a.values(), ...b.values()].map((v) => v[0]);
      }),
    );
    for (const r of results) expect(r).toEqual([1n, 11n, 21n, 2n, 12n, 22n]);
  });

  it('drops and reports a replayed frame and a frame of another session', async () => {
    const { net, parties, incidents } = trio();
    const [p0, p1] = [parties[0]!, parties[1]!];
    const op = p0.nextOp();
    p1.nextOp();
    p1.send(0, op, [BigUint64Array.of(7n)]);
    const got = await p0.recv(op, [1], 1);
    expect(got.get(1)![0]).toBe(7n);
    net.inject(1, 0, encodeData(1, 5, op, [BigUint64Array.of(8n)])); // replay of step 0
    net.inject(1, 0, encodeData(1, 6, 1, [BigUint64Array.of(8n)])); // wrong session
    await new Promise((r) => setTimeout(r, 10));
    expect(incidents.map((i) => [i.peer, i.code])).toEqual([
      [1, 'ERR_DUPLICATE'],
      [1, 'ERR_SESSION'],
    ]);
    expect(p0.gone.size).toBe(0);
  });

  it('excludes a peer that sends the wrong length, and fails the step naming it', async () => {
    const { parties, incidents } = trio();
    const [p0, p1] = [parties[0]!, parties[1]!];
    const op = p0.nextOp();
    p1.nextOp();
    p1.send(0, op, [BigUint64Array.of(1n, 2n)]);
    await expect(p0.recv(op, [1, 2], 1)).rejects.toMatchObject({
      code: 'ERR_PEER_GONE',
      suspects: [1],
    });
    expect(incidents[0]).toMatchObject({ peer: 1, code: 'ERR_FRAME_LENGTH' });
  });

  it('refuses frames for steps far in the future (bounded buffering)', async () => {
    const { net, parties, incidents } = trio();
    net.inject(2, 0, encodeData(2, 5, 5000, [BigUint64Array.of(1n)]));
    await new Promise((r) => setTimeout(r, 10));
    expect(incidents[0]).toMatchObject({ peer: 2, code: 'ERR_UNKNOWN_OP' });
    expect(parties[0]!.gone.has(2)).toBe(true);
  });

  it('times out naming the silent peer, and a vanished peer fails the steps that need it', async () => {
    const { net, parties } = trio({ timeoutMs: 50 });
    const op = parties[0]!.nextOp();
    await expect(parties[0]!.recv(op, [1], 1)).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      suspects: [1],
    });
    const q = trio();
    const op2 = q.parties[1]!.nextOp();
    const pending = q.parties[1]!.recv(op2, [0, 2], 1);
    q.net.disconnect(2);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_PEER_GONE' });
    void net;
  });

  it('an abort from one party stops the others with a clear error', async () => {
    const { parties } = trio();
    const op = parties[1]!.nextOp();
    const pending = parties[1]!.recv(op, [0], 1);
    parties[0]!.abort(new MpcError('ERR_CHEATING', 'test'));
    await expect(pending).rejects.toMatchObject({
      code: 'ERR_ABORTED',
      message: expect.stringMatching(/party 0 aborted/),
    });
    expect(() => parties[1]!.nextOp()).toThrow(/aborted earlier/);
  });
});
