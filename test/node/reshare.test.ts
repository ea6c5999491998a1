/**
 * The re-share plan is a security boundary: a plan comes from another node over the mesh and, if
 * taken, moves a dataset's shares to new nodes. Every party checks it against a real chain (anvil
 * with the contracts) and its own view before dealing anything. Each forged or stale plan below is
 * refused with a reason, and never reaches the worker; a valid one does.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { resizeMessage, type ReshareReq } from '../../src/app/protocol';
import { publishedSchemaHash } from '../../src/app/schema';
import type { ChainConfig } from '../../src/chain/config';
import { registerDataset, registerNode, type ConfideWallet } from '../../src/chain/confide';
import { compressedPublicKey, keyAddress, randomNodeKey } from '../../src/chain/keys';
import { Field } from '../../src/mpc/index';
import { Resharer, type ReshareHost } from '../../src/node/reshare';
import type { JobInput } from '../../src/node/runtime';
import type { DatasetSchema } from '../../src/query/schema';
import { IdbShareStore } from '../../src/storage/idb-store';
import { setupFixture, TEST_PARAMS, type Fixture } from '../../contracts/fixture';

const F = new Field();
const schema: DatasetSchema = {
  name: 'cohort',
  rows: 8,
  columns: [{ name: 'age', type: { kind: 'integer', min: 0, max: 120 } }],
};
const ROOTS = Array.from({ length: 5 }, (_, i) => `0x${String(i + 1).repeat(64)}` as Hex);

let f: Fixture;
/** Node keys (hex, compressed): 0..4 the committee, 5 a registered spare. */
const keys: string[] = [];
let ds: string;

beforeAll(async () => {
  f = await setupFixture(22911, 2); // below the ephemeral port range (see specPorts in e2e/support/app-network.ts)
  for (let i = 0; i < 6; i++) {
    const sk = randomNodeKey();
    const op = await f.newWallet();
    await registerNode(op, f.pub, f.address, sk, TEST_PARAMS.minDeposit);
    keys.push(compressedPublicKey(sk).slice(2));
  }
  const owner: ConfideWallet = f.wallets[0]!;
  const reg = await registerDataset(owner, f.pub, f.address, {
    salt: 'reshare-test',
    schemaHash: publishedSchemaHash(schema),
    rowCount: schema.rows,
    threshold: 2,
    committee: keys.slice(0, 5).map((k) => keyAddress(`0x${k}`)),
    partitionRoots: ROOTS,
  });
  ds = reg.datasetId.slice(2);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

/** A node of the committee (or the spare) with a real store, a fake mesh and a worker that records. */
async function nodeAt(self: number, up: readonly number[]) {
  const store = await IdbShareStore.open(`reshare-test-${self}-${Math.random()}`);
  if (self < 5)
    await store.writePartition({
      datasetId: ds,
      version: 1,
      memberIndex: self,
      columns: [{ name: 'age', shares: F.random(schema.rows) }],
      meta: {
        name: 'cohort',
        schema: JSON.stringify(schema),
        threshold: 2,
        committee: keys.slice(0, 5).join(','),
      },
    });
  const jobs: JobInput[] = [];
  const host: ReshareHost = {
    id: keys[self]!,
    isUp: (k) => up.some((i) => keys[i] === k),
    send: () => undefined,
    secretKey: () => new Uint8Array(32),
    wallet: () => {
      throw new Error('no wallet in this test');
    },
    runJob: async (_id, _committee, spec) => {
      jobs.push(spec);
      throw new Error('the worker was reached');
    },
    log: () => undefined,
    changed: () => undefined,
  };
  const r = new Resharer(host, store, {
    pub: f.pub,
    address: f.address,
    cfg: {} as ChainConfig,
  });
  const outcome = async (from: number | string, plan: ReshareReq) => {
    await r.onPlan(typeof from === 'number' ? keys[from]! : from, plan);
    return r.events()[0]?.message ?? '';
  };
  return { r, jobs, outcome };
}

/** Slot 2 replaced by the spare (node 5). */
function plan(over: Partial<ReshareReq> = {}): ReshareReq {
  const committee = [...keys.slice(0, 5)];
  committee[2] = keys[5]!;
  return {
    t: 'reshare',
    req: Math.random().toString(16).slice(2).padEnd(16, '0'),
    datasetId: ds,
    fromVersion: 1,
    committee,
    slots: [2],
    meta: {
      name: 'cohort',
      schema: JSON.stringify(schema),
      threshold: 2,
      committee: committee.join(','),
    },
    columns: ['age'],
    rows: schema.rows,
    ...over,
  };
}

describe('re-share plans checked against the chain before any dealing', () => {
  const everyoneButSlot2 = [0, 1, 3, 4, 5];

  it('a valid plan from a staying member reaches the worker with the staying members as dealers', async () => {
    const n = await nodeAt(1, everyoneButSlot2);
    expect(await n.outcome(0, plan())).toBe('the worker was reached');
    expect(n.jobs).toHaveLength(1);
    expect(n.jobs[0]).toMatchObject({ kind: 'reshare', t: 2, dealers: [0, 1, 3, 4], width: 1 });
    expect((n.jobs[0] as { columns: BigUint64Array[] }).columns[0]).toHaveLength(schema.rows);
  });

  it('the new member takes the plan when its schema matches the chain, and deals nothing', async () => {
    const n = await nodeAt(5, everyoneButSlot2);
    expect(await n.outcome(0, plan())).toBe('the worker was reached');
    expect(n.jobs[0]).toMatchObject({ kind: 'reshare', dealers: [0, 1, 3, 4] });
    expect((n.jobs[0] as { columns?: unknown }).columns).toBeUndefined();
  });

  const forged: [string, number, () => ReshareReq, RegExp, number[]?][] = [
    [
      'a member online here is not evicted',
      1,
      () => plan(),
      /member 2 is online here/,
      [0, 1, 2, 3, 4, 5],
    ],
    [
      'a stale version',
      1,
      () => plan({ fromVersion: 2 }),
      /chain is at version 1, the plan re-shares version 2/,
    ],
    [
      'a replacement that is not registered',
      1,
      () => {
        const p = plan();
        const c = [...p.committee];
        c[2] = compressedPublicKey(randomNodeKey()).slice(2);
        return { ...p, committee: c, meta: { ...p.meta, committee: c.join(',') } };
      },
      /member 2: the replacement is not an active registered node/,
    ],
    [
      'a staying slot that changes its node',
      1,
      () => {
        const p = plan();
        const c = [...p.committee];
        [c[3], c[4]] = [c[4]!, c[3]!];
        return { ...p, committee: c, meta: { ...p.meta, committee: c.join(',') } };
      },
      /member 3: a staying slot changes its node/,
    ],
    [
      'a node listed twice',
      1,
      () => {
        const p = plan();
        const c = [...p.committee];
        c[2] = c[0]!;
        return { ...p, committee: c };
      },
      /repeats a node/,
    ],
    ['other columns than the stored ones', 1, () => plan({ columns: ['bmi'] }), /other columns/],
    [
      'replaced slots that keep their nodes',
      1,
      () => {
        const c = [...keys.slice(0, 5)];
        return plan({ slots: [2, 3, 4], committee: c });
      },
      /a replaced slot keeps its node/,
    ],
    [
      'a forged schema handed to the new member',
      5,
      () =>
        plan({
          meta: {
            ...plan().meta,
            schema: JSON.stringify({ ...schema, rows: 9 }),
          },
        }),
      /does not match the hash registered on chain/,
    ],
    [
      'metadata naming another committee',
      1,
      () => plan({ meta: { ...plan().meta, committee: keys.slice(0, 5).join(',') } }),
      /metadata names another committee/,
    ],
  ];
  it.each(forged)('%s: refused, nothing dealt', async (_, self, make, msg, up) => {
    const n = await nodeAt(self, up ?? everyoneButSlot2);
    expect(await n.outcome(0, make())).toMatch(msg);
    expect(n.jobs).toHaveLength(0);
  });

  it('a plan sent by the replacement itself (not a staying member) is refused', async () => {
    const n = await nodeAt(1, everyoneButSlot2);
    expect(await n.outcome(5, plan())).toMatch(/does not come from a staying member/);
    expect(n.jobs).toHaveLength(0);
  });

  it('a member that announced it leaves this dataset may be replaced while online', async () => {
    const n = await nodeAt(1, [0, 1, 2, 3, 4, 5]);
    n.r.peerLeaving(keys[2]!, ds);
    expect(await n.outcome(0, plan())).toBe('the worker was reached');
    // leaving another dataset's committee does not count for this one
    const m = await nodeAt(3, [0, 1, 2, 3, 4, 5]);
    m.r.peerLeaving(keys[2]!, 'ab'.repeat(32));
    expect(await m.outcome(0, plan())).toMatch(/member 2 is online here/);
  });

  describe('committee size changes need the owner', () => {
    /** Grow to 6: everyone stays, the spare (node 5) joins at slot 5. */
    const grow = (ownerProof?: string): ReshareReq => {
      const committee = keys.slice(0, 6);
      return {
        ...plan(),
        committee,
        slots: [5],
        meta: { ...plan().meta, committee: committee.join(',') },
        ...(ownerProof ? { ownerProof } : {}),
      };
    };
    const sign = (w: ConfideWallet, size: number, t = 2) =>
      w.signMessage({ account: w.account, message: resizeMessage(ds, 1, size, t) });
    const all = [0, 1, 2, 3, 4, 5];

    it('without the owner’s signature: refused', async () => {
      const n = await nodeAt(1, all);
      expect(await n.outcome(0, grow())).toMatch(/without the owner’s request/);
      expect(n.jobs).toHaveLength(0);
    });
    it('signed by someone else, or for another size: refused', async () => {
      const n = await nodeAt(1, all);
      expect(await n.outcome(0, grow(await sign(f.wallets[1]!, 6)))).toMatch(
        /not signed by the dataset’s owner/,
      );
      expect(await n.outcome(0, grow(await sign(f.wallets[0]!, 7)))).toMatch(
        /not signed by the dataset’s owner/,
      );
      expect(n.jobs).toHaveLength(0);
    });
    it('signed by the owner: the old members deal to a committee of 6', async () => {
      const n = await nodeAt(1, all);
      expect(await n.outcome(0, grow(await sign(f.wallets[0]!, 6)))).toBe('the worker was reached');
      expect(n.jobs[0]).toMatchObject({ kind: 'reshare', dealers: [0, 1, 2, 3, 4] });
    });
    it('a threshold change is the owner’s too, and the job deals at the new t from the old one', async () => {
      // same committee (slot 2 replaced), t 2 → 1
      const lower = (ownerProof?: string): ReshareReq => ({
        ...plan(),
        meta: { ...plan().meta, threshold: 1 },
        ...(ownerProof ? { ownerProof } : {}),
      });
      const n = await nodeAt(1, everyoneButSlot2);
      expect(await n.outcome(0, lower())).toMatch(/size or threshold without the owner’s request/);
      expect(await n.outcome(0, lower(await sign(f.wallets[0]!, 5, 2)))).toMatch(
        /not signed by the dataset’s owner/,
      );
      expect(n.jobs).toHaveLength(0);
      expect(await n.outcome(0, lower(await sign(f.wallets[0]!, 5, 1)))).toBe(
        'the worker was reached',
      );
      expect(n.jobs[0]).toMatchObject({ kind: 'reshare', t: 1, oldT: 2, dealers: [0, 1, 3, 4] });
    });
    it('the owner’s request itself is checked before the leader acts on it', async () => {
      const n = await nodeAt(0, all);
      const req = {
        t: 'resize',
        req: '0123456789abcdef',
        datasetId: ds,
        fromVersion: 1,
        size: 6,
        threshold: 2,
      } as const;
      await expect(n.r.wantResize({ ...req, proof: await sign(f.wallets[1]!, 6) })).rejects.toThrow(
        /not signed by the dataset’s owner/,
      );
      await expect(
        n.r.wantResize({ ...req, size: 4, proof: await sign(f.wallets[0]!, 4) }),
      ).rejects.toThrow(/cannot hold t = 2/);
      await expect(
        n.r.wantResize({ ...req, fromVersion: 3, proof: await sign(f.wallets[0]!, 6) }),
      ).rejects.toThrow(/at version 1, not 3/);
    });
  });

  it('a second plan for the same version while one runs is ignored, not taken', async () => {
    const n = await nodeAt(1, everyoneButSlot2);
    const first = plan();
    const both = Promise.all([n.r.onPlan(keys[0]!, first), n.r.onPlan(keys[3]!, plan())]);
    await both;
    expect(n.jobs).toHaveLength(1);
  });
});
