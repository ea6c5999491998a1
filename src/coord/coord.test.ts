import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Coord, MSG_AWARENESS, MSG_SYNC, type CoordNetwork } from './coord';

const KEYS = ['02' + 'a'.repeat(64), '03' + 'b'.repeat(64), '02' + 'c'.repeat(64)];

/** Fully connected in-memory network with asynchronous delivery (each message in a new task). */
function network(keys: string[]) {
  const handlers = new Map<string, (from: string, b: Uint8Array) => void>();
  const ups = new Map<string, (k: string) => void>();
  const nets = keys.map((self): CoordNetwork => ({
    self,
    peers: () => keys.filter((k) => k !== self),
    send: (to, bytes) => setTimeout(() => handlers.get(to)?.(self, bytes), 0),
    onMessage: (h) => handlers.set(self, h),
    onPeerUp: (h) => ups.set(self, h),
  }));
  return {
    nets,
    inject: (from: string, to: string, bytes: Uint8Array) => handlers.get(to)!(from, bytes),
  };
}
const settle = () => new Promise((r) => setTimeout(r, 30));

function syncUpdate(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_SYNC);
  syncProtocol.writeUpdate(e, update);
  return encoding.toUint8Array(e);
}
/** An update made by a rogue writer on top of the victim's current state. */
function rogueUpdate(base: Y.Doc, edit: (d: Y.Doc) => void): Uint8Array {
  const d = new Y.Doc();
  Y.applyUpdate(d, Y.encodeStateAsUpdate(base));
  const sv = Y.encodeStateVector(d);
  edit(d);
  return Y.encodeStateAsUpdate(d, sv);
}

describe('coordination documents over a network', () => {
  it('syncs jobs, drafts and presence between three nodes', async () => {
    const { nets } = network(KEYS);
    const cs = nets.map((net, i) => new Coord({ net, name: `node${i}` }));
    await Promise.all(cs.map((c) => c.start()));
    cs[0]!.putJob({ id: 'q1', title: 'count', status: 'running', progress: 0.25, committee: KEYS });
    cs[1]!.draft('d1').insert(0, 'SELECT COUNT(*) FROM ds');
    await settle();
    cs[2]!.draft('d1').insert(6, ' ');
    cs[2]!.putJob({ id: 'q1', title: 'count', status: 'done', progress: 1, committee: KEYS });
    await settle();
    for (const c of cs) {
      expect(c.jobs().map((j) => [j.id, j.status, j.progress, j.updatedBy])).toEqual([
        ['q1', 'done', 1, KEYS[2]],
      ]);
      expect(c.draft('d1').toString()).toBe('SELECT  COUNT(*) FROM ds');
      expect(
        c
          .presence()
          .map((p) => p.node)
          .sort(),
      ).toEqual([...KEYS].sort());
    }
    expect(cs.flatMap((c) => c.rejections)).toEqual([]);
    expect(() =>
      cs[0]!.putJob({ id: 'q2', title: 'x', status: 'running', progress: 2, committee: [] }),
    ).toThrow(/progress/);
  });

  it('a peer timing out another peer’s presence (a reloaded tab’s old client) tells no one', async () => {
    const { nets } = network(KEYS);
    const cs = nets.map((net, i) => new Coord({ net, name: `node${i}` }));
    await Promise.all(cs.map((c) => c.start()));
    await settle();
    const gone = cs[2]!.doc.clientID;
    // What y-protocols' outdated check does after 30 s without an update from that client.
    awarenessProtocol.removeAwarenessStates(cs[0]!.awareness, [gone], 'timeout');
    await settle();
    expect(cs.flatMap((c) => c.rejections)).toEqual([]);
    expect(cs[0]!.presence().map((p) => p.node)).not.toContain(KEYS[2]);
    expect(cs[1]!.presence().map((p) => p.node)).toContain(KEYS[2]);
    // Our own changes still go out.
    cs[0]!.awareness.setLocalStateField('name', 'renamed');
    await settle();
    expect(cs[1]!.presence().find((p) => p.node === KEYS[0])?.name).toBe('renamed');
  });

  it('rejects invalid, binary, oversized and garbage updates from a peer; honest state is unchanged', async () => {
    const { nets, inject } = network(KEYS.slice(0, 2));
    const victim = new Coord({ net: nets[0]! });
    await victim.start();
    victim.putJob({ id: 'q1', title: 'ok', status: 'queued', progress: 0, committee: [] });
    const before = Y.encodeStateAsUpdate(victim.doc);
    const evil = KEYS[1]!;
    const job = {
      id: 'q9',
      title: 't',
      status: 'running',
      progress: 0.5,
      committee: [],
      updatedBy: evil,
      updatedAt: 1,
    };
    const attacks: Array<[string, Uint8Array, RegExp]> = [
      [
        'unknown top-level type',
        syncUpdate(rogueUpdate(victim.doc, (d) => d.getMap('shares').set('x', 1))),
        /unknown top-level/,
      ],
      [
        'binary in a job',
        syncUpdate(rogueUpdate(victim.doc, (d) => d.getMap('jobs').set('q9', new Uint8Array(8)))),
        /not an object/,
      ],
      [
        'share vector in a job field',
        syncUpdate(
          rogueUpdate(victim.doc, (d) => d.getMap('jobs').set('q9', { ...job, shares: [1, 2] })),
        ),
        /unknown field/,
      ],
      [
        'bad status',
        syncUpdate(
          rogueUpdate(victim.doc, (d) => d.getMap('jobs').set('q9', { ...job, status: 'pwned' })),
        ),
        /status/,
      ],
      [
        'binary in a draft',
        syncUpdate(rogueUpdate(victim.doc, (d) => d.getText('draft:d').insertEmbed(0, { x: 1 }))),
        /non-text/,
      ],
      [
        'huge draft',
        syncUpdate(
          rogueUpdate(victim.doc, (d) => d.getText('draft:d').insert(0, 'x'.repeat(30_000))),
        ),
        /longer than/,
      ],
      [
        'a map disguised as a draft',
        syncUpdate(rogueUpdate(victim.doc, (d) => d.getMap('draft:m').set('k', 'v'))),
        /not text/,
      ],
      [
        'formatted draft text',
        syncUpdate(
          rogueUpdate(victim.doc, (d) => d.getText('draft:f').insert(0, 'x', { bold: true })),
        ),
        /non-text/,
      ],
      [
        'the old nested drafts map',
        syncUpdate(rogueUpdate(victim.doc, (d) => d.getMap('drafts').set('d', 'x'))),
        /unknown top-level/,
      ],
      ['oversized message', new Uint8Array(300 * 1024), /> 262144/],
      ['garbage', new Uint8Array([0, 2, 200, 1, 2, 3]), /unparsable|does not decode/],
      ['unknown kind', new Uint8Array([7, 0]), /unknown message kind/],
    ];
    for (const [what, bytes, reason] of attacks) {
      const n = victim.rejections.length;
      inject(evil, KEYS[0]!, bytes);
      expect(victim.rejections.length, what).toBe(n + 1);
      expect(victim.rejections.at(-1)!.reason, what).toMatch(reason);
    }
    expect(Y.encodeStateAsUpdate(victim.doc)).toEqual(before);
    expect(victim.jobs().map((j) => j.id)).toEqual(['q1']);
    victim.destroy();
  });

  it('two peers starting the same draft at once keep both texts (no last-writer-wins race)', async () => {
    const { nets } = network(KEYS.slice(0, 2));
    const [a, b] = nets.map((net) => new Coord({ net })) as [Coord, Coord];
    // both create and edit the draft before either hears from the other
    a.draft('same').insert(0, 'SELECT COUNT(*) FROM ds');
    b.draft('same').insert(0, '-- from b\n');
    await a.start();
    await b.start();
    await new Promise((r) => setTimeout(r, 50));
    const text = a.draft('same').toString();
    expect(b.draft('same').toString()).toBe(text);
    expect(text).toContain('SELECT COUNT(*) FROM ds');
    expect(text).toContain('-- from b\n');
    a.destroy();
    b.destroy();
  });

  it('drops a flood of messages from one peer beyond its rate', async () => {
    const { nets, inject } = network(KEYS.slice(0, 2));
    const victim = new Coord({ net: nets[0]! });
    await victim.start();
    const junk = new Uint8Array([7, 0]); // unknown kind: rejected either way, but only 200 get parsed
    for (let i = 0; i < 500; i++) inject(KEYS[1]!, KEYS[0]!, junk);
    // The first 200 (the burst) are parsed and rejected as unknown; the rest are rate-limited.
    expect(victim.stats.rejected).toBe(500);
    expect(victim.stats.rateLimited).toBeGreaterThanOrEqual(290);
    expect(victim.stats.rateLimited).toBeLessThanOrEqual(300);
    expect(victim.rejections.filter((r) => r.reason.startsWith('rate limit'))).toHaveLength(1);
    victim.destroy();
  });

  it('accepts presence only for the sender itself', async () => {
    const { nets, inject } = network(KEYS.slice(0, 2));
    const victim = new Coord({ net: nets[0]! });
    await victim.start();
    const other = new awarenessProtocol.Awareness(new Y.Doc());
    const msg = (state: object) => {
      other.setLocalState(state);
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MSG_AWARENESS);
      encoding.writeVarUint8Array(
        e,
        awarenessProtocol.encodeAwarenessUpdate(other, [other.clientID]),
      );
      return encoding.toUint8Array(e);
    };
    inject(KEYS[1]!, KEYS[0]!, msg({ node: KEYS[2]!, status: 'idle' }));
    expect(victim.rejections.at(-1)?.reason).toMatch(/not the sender/);
    inject(KEYS[1]!, KEYS[0]!, msg({ node: KEYS[1]!, status: 'computing', progress: 0.5 }));
    expect(victim.presence().find((p) => p.node === KEYS[1])).toEqual({
      node: KEYS[1],
      status: 'computing',
      progress: 0.5,
    });
    // Another node may not speak for that client id afterwards.
    inject(KEYS[2]!, KEYS[0]!, msg({ node: KEYS[2]!, status: 'idle' }));
    expect(victim.rejections.at(-1)?.reason).toMatch(/owned by another node/);
    victim.destroy();
  });
});
