/**
 * Property-style test (port 18546): a seeded random sequence of operations runs against the real
 * contract and against a small TypeScript model of the expected state. After every step the outcome
 * (success or the exact custom error), every account's credit, the contract's balance (= deposits +
 * credits + fees held) and conservation of ETH (balances + gas paid are constant) must agree; at the
 * end everything is settled and withdrawn and the contract holds exactly zero.
 * Reproduce a failure with CONFIDE_SEED=<printed seed> npm run test:contracts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keccak256, stringToHex, type Address, type Hex } from 'viem';
import { compressedPublicKey, keyAddress, randomNodeKey, signDigest } from '../src/chain/keys';
import {
  datasetIdFor,
  members,
  opDigest,
  type ConfideWallet,
  type Members,
} from '../src/chain/confide';
import { setupFixture, TEST_PARAMS, type Fixture } from './fixture';

const PORT = 18546;
const STEPS = Number(process.env.CONFIDE_MODEL_STEPS ?? 160);
const SEED = Number(process.env.CONFIDE_SEED ?? Math.floor(Math.random() * 2 ** 31));

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type NodeSt = 'Active' | 'Leaving' | 'Exited' | 'Slashed';
interface MNode {
  id: Address;
  key: Uint8Array;
  op: ConfideWallet;
  status: NodeSt;
  deposit: bigint;
  leaveAt: bigint;
}
interface MVersion {
  v: number;
  committee: Address[];
  t: number;
  m: Members;
}
interface MDataset {
  id: Hex;
  owner: ConfideWallet;
  versions: MVersion[];
}
interface MPool {
  id: bigint;
  ver: MVersion;
  per: bigint;
  honest: Set<number>;
  claimed: Set<number>;
}
interface MGrant {
  kinds: number;
  budget: number;
  expiry: bigint;
  nonce: number;
  active: boolean;
}
type QSt = 'Requested' | 'Running' | 'Completed' | 'Refunded';
interface MQuery {
  id: bigint;
  ds: MDataset;
  ver: MVersion;
  researcher: ConfideWallet;
  fee: bigint;
  deadline: bigint;
  grantNonce: number;
  status: QSt;
  posted: Address[];
  claimed: Set<Address>;
}

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture(PORT, 0);
});
afterAll(async () => {
  await f?.stop();
});

it(`random operation sequences match the model (seed ${SEED}, ${STEPS} steps)`, async () => {
  console.log(`[model] CONFIDE_SEED=${SEED} steps=${STEPS}`);
  const rnd = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

  const owners = [await f.newWallet(), await f.newWallet()];
  const researchers = [await f.newWallet(), await f.newWallet(), await f.newWallet()];
  const reporter = await f.newWallet();
  const ops: ConfideWallet[] = [];
  for (let i = 0; i < 7; i++) ops.push(await f.newWallet());
  const eoas = [...owners, ...researchers, reporter, ...ops];

  // Deterministic time: every transaction lands at model.now + 1.
  let now = (await f.now()) + 10n;
  let gasPaid = 0n;
  const credits = new Map<string, bigint>();
  const credit = (a: Address, v: bigint) =>
    credits.set(a.toLowerCase(), (credits.get(a.toLowerCase()) ?? 0n) + v);
  const send = async (w: ConfideWallet, fn: string, args: readonly unknown[], value?: bigint) => {
    now += 1n;
    await f.test.setNextBlockTimestamp({ timestamp: now });
    const r = await f.tx(w, fn, args, value);
    gasPaid += r.gasCost;
    const ts = (await f.pub.getBlock({ blockNumber: r.receipt.blockNumber })).timestamp;
    expect(ts).toBe(now);
    return r;
  };

  // setup: 7 nodes, two datasets
  const nodes: MNode[] = [];
  for (const op of ops) {
    const key = randomNodeKey();
    const pk = compressedPublicKey(key);
    const id = keyAddress(pk);
    const digest = await f.read<Hex>('registrationDigest', [op.account.address, id]);
    const deposit = TEST_PARAMS.minDeposit + BigInt(int(0, 1000)) * 10n ** 15n;
    await send(op, 'registerNode', [pk, signDigest(key, digest)], deposit);
    nodes.push({ id, key, op, status: 'Active', deposit, leaveAt: 0n });
  }
  const byId = (id: Address) => nodes.find((n) => n.id === id)!;
  const sorted = [...nodes].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)).map((n) => n.id);
  const datasets: MDataset[] = [];
  for (const [i, spec] of [
    { committee: [sorted[0]!, sorted[1]!, sorted[3]!, sorted[4]!, sorted[6]!], t: 2 },
    { committee: [sorted[1]!, sorted[2]!, sorted[5]!], t: 1 },
  ].entries()) {
    const owner = owners[i]!;
    await send(owner, 'registerDataset', [
      stringToHex(`model-${i}`),
      keccak256(`0x0${i}`),
      100,
      spec.t,
      spec.committee,
      spec.committee.map((a) => keccak256(a)),
    ]);
    datasets.push({
      id: datasetIdFor(owner.account.address, `model-${i}`),
      owner,
      versions: [
        {
          v: 1,
          ...spec,
          m: members(
            spec.committee,
            spec.committee.map((a) => keccak256(a)),
          ),
        },
      ],
    });
  }
  const grants = new Map<string, MGrant>();
  const gkey = (ds: MDataset, r: ConfideWallet) => `${ds.id}:${r.account.address}`;
  const queries: MQuery[] = [];
  const pools: MPool[] = [];
  let slashes = 0n;
  const encKey = compressedPublicKey(randomNodeKey());
  const live = (s: NodeSt) => s === 'Active' || s === 'Leaving';
  const near = (ts: bigint, boundary: bigint) => ts >= boundary - 2n && ts <= boundary + 2n;

  const totalBefore =
    (await Promise.all(eoas.map((w) => f.pub.getBalance({ address: w.account.address })))).reduce(
      (a, b) => a + b,
      0n,
    ) + (await f.pub.getBalance({ address: f.address }));
  const gasAtStart = gasPaid;

  const held = () => {
    let sum = 0n;
    for (const n of nodes) sum += n.deposit;
    for (const v of credits.values()) sum += v;
    for (const p of pools) sum += p.per * BigInt(p.honest.size - p.claimed.size);
    for (const q of queries) {
      if (q.status === 'Requested' || q.status === 'Running') sum += q.fee;
      if (q.status === 'Completed')
        sum += (q.fee / BigInt(q.posted.length)) * BigInt(q.posted.length - q.claimed.size);
    }
    return sum;
  };

  const check = async (label: string) => {
    const bal = await f.pub.getBalance({ address: f.address });
    expect(bal, `${label}: contract balance vs model`).toBe(held());
    for (const w of eoas) {
      expect(
        await f.read<bigint>('credits', [w.account.address]),
        `${label}: credits of ${w.account.address}`,
      ).toBe(credits.get(w.account.address.toLowerCase()) ?? 0n);
    }
    const eoaSum = (
      await Promise.all(eoas.map((w) => f.pub.getBalance({ address: w.account.address })))
    ).reduce((a, b) => a + b, 0n);
    expect(eoaSum + bal + (gasPaid - gasAtStart), `${label}: ETH conservation`).toBe(totalBefore);
  };

  /** Run `fn` expecting `expected` ('ok' or a custom error name). */
  const attempt = async (
    expected: string,
    w: ConfideWallet,
    fn: string,
    args: readonly unknown[],
    value?: bigint,
  ) => {
    if (expected === 'ok') return send(w, fn, args, value);
    await f.test.setNextBlockTimestamp({ timestamp: now + 1n });
    await f.expectRevert(w, fn, args, expected, undefined, value);
    return null;
  };

  const grantValid = (q: MQuery, ts: bigint) => {
    const g = grants.get(gkey(q.ds, q.researcher));
    return !!g && g.active && g.nonce === q.grantNonce && ts < g.expiry;
  };
  const complete = (q: MQuery) => {
    q.status = 'Completed';
    const rest = q.fee % BigInt(q.posted.length);
    if (rest) credit(q.researcher.account.address, rest);
  };

  const counts: Record<string, number> = {};
  for (let step = 0; step < STEPS; step++) {
    const ts = now + 1n;
    const kind = pick([
      ...(['grant', 'grant', 'revoke', 'request', 'request', 'request', 'request'] as const),
      ...([
        'post',
        'post',
        'post',
        'post',
        'post',
        'post',
        'post',
        'post',
        'time',
        'time',
      ] as const),
      ...([
        'finalize',
        'refund',
        'claim',
        'claim',
        'claim',
        'withdraw',
        'leave',
        'exit',
        'slash',
        'claimSlash',
        'claimSlash',
        'reshare',
      ] as const),
    ]);
    let outcome = 'skip';
    switch (kind) {
      case 'grant': {
        const ds = pick(datasets);
        const r = pick(researchers);
        const g: MGrant = {
          kinds: int(1, 7),
          budget: int(1, 4),
          expiry: ts + BigInt(int(300, 5000)),
          nonce: (grants.get(gkey(ds, r))?.nonce ?? 0) + 1,
          active: true,
        };
        await attempt('ok', ds.owner, 'grant', [
          ds.id,
          r.account.address,
          g.kinds,
          5,
          g.budget,
          g.expiry,
        ]);
        grants.set(gkey(ds, r), g);
        outcome = 'ok';
        break;
      }
      case 'revoke': {
        const ds = pick(datasets);
        const r = pick(researchers);
        const g = grants.get(gkey(ds, r));
        outcome = g?.active ? 'ok' : 'NoActiveGrant';
        await attempt(outcome, ds.owner, 'revoke', [ds.id, r.account.address]);
        if (g && outcome === 'ok') g.active = false;
        break;
      }
      case 'request': {
        const ds = pick(datasets);
        const granted = researchers.filter((x) => grants.get(gkey(ds, x))?.active);
        const r = granted.length && rnd() < 0.8 ? pick(granted) : pick(researchers);
        const qk = int(1, 7); // mask over count, sum, avg
        const fee =
          rnd() < 0.1
            ? TEST_PARAMS.minFee - 1n
            : TEST_PARAMS.minFee + BigInt(int(0, 100)) * 10n ** 13n + BigInt(int(0, 6));
        const g = grants.get(gkey(ds, r));
        if (g && near(ts, g.expiry)) break;
        if (fee < TEST_PARAMS.minFee) outcome = 'FeeTooLow';
        else if (!g?.active) outcome = 'NoActiveGrant';
        else if (ts >= g.expiry) outcome = 'GrantExpired';
        else if (g.budget === 0) outcome = 'BudgetExhausted';
        else if ((qk & ~g.kinds) !== 0) outcome = 'QueryKindNotAllowed';
        else outcome = 'ok';
        const res = await attempt(
          outcome,
          r,
          'requestQuery',
          [ds.id, keccak256(`0x${step.toString(16).padStart(4, '0')}`), qk, encKey],
          fee,
        );
        if (res && g) {
          g.budget -= 1;
          const id = res.events[0]!.args.queryId as bigint;
          expect(id).toBe(BigInt(queries.length + 1));
          queries.push({
            id,
            ds,
            ver: ds.versions[ds.versions.length - 1]!,
            researcher: r,
            fee,
            deadline: ts + TEST_PARAMS.queryTimeout,
            grantNonce: g.nonce,
            status: 'Requested',
            posted: [],
            claimed: new Set(),
          });
        }
        break;
      }
      case 'post': {
        if (!queries.length) break;
        const open = queries.filter((x) => x.status === 'Requested' || x.status === 'Running');
        const q = open.length && rnd() < 0.85 ? pick(open) : pick(queries);
        // members of the query's version, or of the dataset's current one (re-shared since)
        const cur = q.ds.versions[q.ds.versions.length - 1]!;
        const ver = rnd() < 0.3 ? cur : q.ver;
        const idx = int(0, ver.committee.length - 1);
        const n = byId(ver.committee[idx]!);
        const g = grants.get(gkey(q.ds, q.researcher))!;
        if (near(ts, q.deadline) || near(ts, g.expiry)) break;
        if (q.status !== 'Requested' && q.status !== 'Running') outcome = 'QueryNotOpen';
        else if (ts > q.deadline) outcome = 'DeadlinePassed';
        else if (!live(n.status)) outcome = 'NodeNotActive';
        else if (q.posted.includes(n.id)) outcome = 'AlreadyPosted';
        else if (q.status === 'Requested' && !grantValid(q, ts)) outcome = 'GrantNoLongerValid';
        else outcome = 'ok';
        await attempt(outcome, n.op, 'postResult', [q.id, ver.m, idx, keccak256(n.id)]);
        if (outcome === 'ok') {
          q.status = 'Running';
          q.posted.push(n.id);
          if (q.posted.length === q.ver.committee.length) complete(q);
        }
        break;
      }
      case 'time': {
        now += BigInt(rnd() < 0.8 ? int(5, 200) : int(300, 1200));
        await f.test.setNextBlockTimestamp({ timestamp: now });
        await f.test.mine({ blocks: 1 });
        outcome = 'ok';
        break;
      }
      case 'finalize': {
        if (!queries.length) break;
        const q = pick(queries);
        if (near(ts, q.deadline)) break;
        outcome =
          q.status === 'Running' && ts > q.deadline && q.posted.length >= q.ver.t + 1
            ? 'ok'
            : 'FinalizeNotAllowed';
        await attempt(outcome, reporter, 'finalize', [q.id]);
        if (outcome === 'ok') complete(q);
        break;
      }
      case 'refund': {
        if (!queries.length) break;
        const q = pick(queries);
        const g = grants.get(gkey(q.ds, q.researcher))!;
        if (near(ts, q.deadline) || near(ts, g.expiry)) break;
        const open = q.status === 'Requested' || q.status === 'Running';
        const failed = ts > q.deadline && q.posted.length < q.ver.t + 1;
        const voided = q.status === 'Requested' && !grantValid(q, ts);
        outcome = open && (failed || voided) ? 'ok' : 'RefundNotAllowed';
        await attempt(outcome, reporter, 'refund', [q.id]);
        if (outcome === 'ok') {
          q.status = 'Refunded';
          credit(q.researcher.account.address, q.fee);
        }
        break;
      }
      case 'claim': {
        const done = queries.filter((q) => q.status === 'Completed');
        const q =
          done.length && rnd() < 0.8 ? pick(done) : queries.length ? pick(queries) : undefined;
        if (!q) break;
        const nodeId = pick(q.ver.committee);
        if (q.status !== 'Completed') outcome = 'QueryNotCompleted';
        else if (!q.posted.includes(nodeId) || q.claimed.has(nodeId)) outcome = 'NothingToClaim';
        else outcome = 'ok';
        await attempt(outcome, reporter, 'claimFee', [q.id, nodeId]);
        if (outcome === 'ok') {
          q.claimed.add(nodeId);
          credit(byId(nodeId).op.account.address, q.fee / BigInt(q.posted.length));
        }
        break;
      }
      case 'withdraw': {
        const w = pick(eoas);
        const c = credits.get(w.account.address.toLowerCase()) ?? 0n;
        outcome = c > 0n ? 'ok' : 'NothingToWithdraw';
        await attempt(outcome, w, 'withdraw', []);
        if (outcome === 'ok') credits.set(w.account.address.toLowerCase(), 0n);
        break;
      }
      case 'leave': {
        if (rnd() < 0.7) break;
        const n = pick(nodes);
        outcome = n.status === 'Active' ? 'ok' : 'NodeNotActive';
        await attempt(outcome, n.op, 'requestLeave', [n.id]);
        if (outcome === 'ok') {
          n.status = 'Leaving';
          n.leaveAt = ts + TEST_PARAMS.withdrawDelay;
        }
        break;
      }
      case 'exit': {
        const n = pick(nodes);
        if (near(ts, n.leaveAt)) break;
        outcome =
          n.status !== 'Leaving' ? 'NodeNotActive' : ts < n.leaveAt ? 'LeaveNotReady' : 'ok';
        await attempt(outcome, n.op, 'exitNode', [n.id]);
        if (outcome === 'ok') {
          credit(n.op.account.address, n.deposit);
          n.deposit = 0n;
          n.status = 'Exited';
        }
        break;
      }
      case 'reshare': {
        if (rnd() < 0.5) break;
        const ds = pick(datasets);
        const active = nodes.filter((x) => x.status === 'Active').map((x) => x.id);
        const size = active.length >= 5 && rnd() < 0.5 ? 5 : 3;
        if (active.length < size) break;
        // a random subset in random order (member order is kept as given)
        const committee = [...active].sort(() => rnd() - 0.5).slice(0, size);
        const t = size === 5 ? 2 : 1;
        const roots = committee.map((a) =>
          keccak256(`0x${step.toString(16).padStart(4, '0')}${a.slice(2)}`),
        );
        await attempt('ok', ds.owner, 'reshare', [
          ds.id,
          t,
          committee,
          roots,
          {
            members: { committee: [], partitionsHash: keccak256('0x') },
            signerIndexes: [],
            signatures: [],
          },
        ]);
        ds.versions.push({ v: ds.versions.length + 1, committee, t, m: members(committee, roots) });
        outcome = 'ok';
        break;
      }
      case 'claimSlash': {
        if (!pools.length) break;
        const p = pick(pools);
        const idx = int(0, p.ver.committee.length - 1);
        outcome = p.honest.has(idx) && !p.claimed.has(idx) ? 'ok' : 'NoSlashReward';
        await attempt(outcome, reporter, 'claimSlashReward', [p.id, p.ver.m, idx]);
        if (outcome === 'ok') {
          p.claimed.add(idx);
          credit(byId(p.ver.committee[idx]!).op.account.address, p.per);
        }
        break;
      }
      case 'slash': {
        if (rnd() < 0.75) break;
        const ds = pick(datasets);
        const ver = pick(ds.versions);
        const n = byId(pick(ver.committee));
        const m = {
          datasetId: ds.id,
          version: ver.v,
          session: keccak256(`0x${step.toString(16).padStart(4, '0')}`),
          opId: keccak256('0x01'),
        };
        const ev = {
          ...m,
          payloadA: keccak256('0xaa'),
          sigA: signDigest(
            n.key,
            opDigest(f.chainId, f.address, { ...m, payloadHash: keccak256('0xaa') }),
          ),
          payloadB: keccak256('0xbb'),
          sigB: signDigest(
            n.key,
            opDigest(f.chainId, f.address, { ...m, payloadHash: keccak256('0xbb') }),
          ),
        };
        outcome = live(n.status) && n.deposit > 0n ? 'ok' : 'NotSlashable';
        await attempt(outcome, reporter, 'slashEquivocation', [ev, ver.m]);
        if (outcome === 'ok') {
          const amount = n.deposit;
          n.deposit = 0n;
          n.status = 'Slashed';
          const honest = new Set(
            ver.committee.flatMap((id, i) => (id !== n.id && live(byId(id).status) ? [i] : [])),
          );
          slashes += 1n;
          let rep = (amount * BigInt(TEST_PARAMS.reporterBps)) / 10_000n;
          if (honest.size === 0) rep = amount;
          else {
            const per = (amount - rep) / BigInt(honest.size);
            rep = amount - per * BigInt(honest.size);
            pools.push({ id: slashes, ver, per, honest, claimed: new Set() });
          }
          credit(reporter.account.address, rep);
        }
        break;
      }
    }
    counts[`${kind}:${outcome}`] = (counts[`${kind}:${outcome}`] ?? 0) + 1;
    if (outcome !== 'skip') await check(`step ${step} ${kind} → ${outcome} (seed ${SEED})`);
  }
  for (const q of queries) {
    const onChain = await f.read<{ status: number; postCount: number }>('getQuery', [q.id]);
    expect(
      ['None', 'Requested', 'Running', 'Completed', 'Refunded'][onChain.status],
      `query ${q.id} status`,
    ).toBe(q.status);
    expect(onChain.postCount).toBe(q.posted.length);
  }
  console.log(`[model] outcomes: ${JSON.stringify(counts)}`);
  // Several different outcomes must have been exercised, including reverts.
  expect(
    Object.keys(counts).filter((k) => !k.endsWith(':ok') && !k.endsWith(':skip')).length,
  ).toBeGreaterThan(3);

  // Settle everything: after every deadline, finalize or refund each open query, claim every fee,
  // exit every live node, withdraw every credit: the contract must hold exactly zero.
  now += TEST_PARAMS.queryTimeout + TEST_PARAMS.withdrawDelay + 10n;
  await f.test.setNextBlockTimestamp({ timestamp: now });
  await f.test.mine({ blocks: 1 });
  for (const q of queries) {
    if (q.status === 'Running' && q.posted.length >= q.ver.t + 1) {
      await send(reporter, 'finalize', [q.id]);
      complete(q);
    } else if (q.status === 'Requested' || q.status === 'Running') {
      await send(reporter, 'refund', [q.id]);
      q.status = 'Refunded';
      credit(q.researcher.account.address, q.fee);
    }
    if (q.status === 'Completed') {
      for (const id of q.posted) {
        if (q.claimed.has(id)) continue;
        await send(reporter, 'claimFee', [q.id, id]);
        q.claimed.add(id);
        credit(byId(id).op.account.address, q.fee / BigInt(q.posted.length));
      }
    }
  }
  for (const p of pools) {
    for (const idx of p.honest) {
      if (p.claimed.has(idx)) continue;
      await send(reporter, 'claimSlashReward', [p.id, p.ver.m, idx]);
      p.claimed.add(idx);
      credit(byId(p.ver.committee[idx]!).op.account.address, p.per);
    }
  }
  for (const n of nodes) {
    if (n.status === 'Active') {
      await send(n.op, 'requestLeave', [n.id]);
      n.status = 'Leaving';
    }
  }
  now += TEST_PARAMS.withdrawDelay + 1n;
  await f.test.setNextBlockTimestamp({ timestamp: now });
  await f.test.mine({ blocks: 1 });
  for (const n of nodes) {
    if (n.status === 'Leaving') {
      await send(n.op, 'exitNode', [n.id]);
      credit(n.op.account.address, n.deposit);
      n.deposit = 0n;
      n.status = 'Exited';
    }
  }
  await check('settled');
  for (const w of eoas) {
    if ((credits.get(w.account.address.toLowerCase()) ?? 0n) > 0n) {
      await send(w, 'withdraw', []);
      credits.set(w.account.address.toLowerCase(), 0n);
    }
  }
  await check('withdrawn');
  expect(await f.pub.getBalance({ address: f.address })).toBe(0n);
}, 240_000);
