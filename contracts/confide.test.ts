/**
 * Contract tests for Confide.sol against a real anvil (port 18545): every function's happy path, every
 * custom-error revert, event contents, payouts, revocation, expiry, budget, slashing evidence and a
 * reentrancy attempt by a malicious receiver contract.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  stringToHex,
  bytesToHex,
  encodeDeployData,
  encodeFunctionData,
  hexToBytes,
  keccak256,
  parseEther,
  toFunctionSelector,
  type Address,
  type Hex,
} from 'viem';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { deriveDatasetId } from '../src/storage/placement';
import { Confide, ReentrantReceiver } from '../src/chain/generated/contracts';
import { compressedPublicKey, keyAddress, randomNodeKey, signDigest } from '../src/chain/keys';
import {
  claimFees,
  isQueryAuthorised,
  nodeEarnings,
  isRegisteredNode,
  registeredNodeHook,
  opDigest,
  datasetIdFor,
  members,
  membersHash,
  postResult,
  POST_COMPLETION_GAS,
  type Members,
  shareDigest,
  type ConfideWallet,
} from '../src/chain/confide';
import { deployAttacker, setupFixture, TEST_PARAMS, type Fixture } from './fixture';

const PORT = 18545;
const ZERO = '0x0000000000000000000000000000000000000000';
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const N = secp256k1.Point.CURVE().n;

interface NodeInfo {
  key: Uint8Array;
  pubkey: Hex;
  id: Address;
  op: ConfideWallet;
}

let f: Fixture;
let owner: ConfideWallet;
let researcher: ConfideWallet;
let stranger: ConfideWallet;
let nodes: NodeInfo[]; // sorted by id; nodes[0..4] form dataset 1's committee, nodes[5] is spare
let committee: Address[];
let M: Members;
let roots: Hex[];
let DS: Hex;
const NO_DS = keccak256('0x99');
const FEE = parseEther('0.05');
const encKey = compressedPublicKey(randomNodeKey());
const QH = keccak256(stringToHex('SELECT COUNT(*) FROM ds WHERE age >= 60'));

async function popFor(key: Uint8Array, operator: Address): Promise<Hex> {
  const digest = await f.read<Hex>('registrationDigest', [
    operator,
    keyAddress(compressedPublicKey(key)),
  ]);
  return signDigest(key, digest);
}

async function addNode(op: ConfideWallet, deposit = TEST_PARAMS.minDeposit): Promise<NodeInfo> {
  const key = randomNodeKey();
  const pubkey = compressedPublicKey(key);
  await f.tx(op, 'registerNode', [pubkey, await popFor(key, op.account.address)], deposit);
  return { key, pubkey, id: keyAddress(pubkey), op };
}

async function balance(a: Address) {
  return f.pub.getBalance({ address: a });
}

async function request(w: ConfideWallet = researcher, fee = FEE, kinds = 1) {
  const r = await f.tx(w, 'requestQuery', [DS, QH, kinds, encKey], fee);
  return r.events.find((e) => e.eventName === 'QueryRequested')!.args.queryId as bigint;
}

async function post(q: bigint, i: number, commitment: Hex = keccak256(`0x0${i}`)) {
  return f.tx(nodes[i]!.op, 'postResult', [q, M, i, commitment]);
}

function rootsFor(c: readonly Address[]): Hex[] {
  return c.map((a) => keccak256(a));
}

beforeAll(async () => {
  f = await setupFixture(PORT, 9);
  [owner, researcher, stranger] = f.wallets as [ConfideWallet, ConfideWallet, ConfideWallet];
  const ns: NodeInfo[] = [];
  for (let i = 0; i < 6; i++) ns.push(await addNode(f.wallets[3 + i]!));
  nodes = ns.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  committee = nodes.slice(0, 5).map((n) => n.id);
  roots = rootsFor(committee);
  M = members(committee, roots);
  await f.tx(owner, 'registerDataset', [
    stringToHex('ds1'),
    keccak256('0xabcd'),
    1000,
    2,
    committee,
    roots,
  ]);
  DS = datasetIdFor(owner.account.address, 'ds1');
  const now = await f.now();
  await f.tx(owner, 'grant', [DS, researcher.account.address, 0b101, 10, 3, now + 30n * 86_400n]);
});

afterAll(async () => {
  await f?.stop();
});

let snap: Hex;
beforeEach(async () => {
  snap = await f.snapshot();
});
afterEach(async () => {
  await f.revertTo(snap);
});

describe('deployment', () => {
  it('stores the parameters and rejects a reporter share above 100%', async () => {
    expect(await f.read<bigint>('minDeposit')).toBe(TEST_PARAMS.minDeposit);
    expect(await f.read<bigint>('minFee')).toBe(TEST_PARAMS.minFee);
    expect(await f.read<bigint>('withdrawDelay')).toBe(TEST_PARAMS.withdrawDelay);
    expect(await f.read<bigint>('queryTimeout')).toBe(TEST_PARAMS.queryTimeout);
    expect(await f.read<number>('reporterBps')).toBe(5000);
    const data = encodeDeployData({
      abi: Confide.abi,
      bytecode: Confide.bytecode,
      args: [1n, 1n, 1n, 1n, 10_001],
    });
    const err = await f.pub.call({ data, account: owner.account }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(err)).toContain(toFunctionSelector('InvalidPolicy()').slice(2, 10));
  });
});

describe('nodes', () => {
  it('registers a node: event, storage, key lookups', async () => {
    const op = await f.newWallet();
    const key = randomNodeKey();
    const pubkey = compressedPublicKey(key);
    const id = keyAddress(pubkey);
    const before = await balance(f.address);
    const r = await f.tx(
      op,
      'registerNode',
      [pubkey, await popFor(key, op.account.address)],
      parseEther('1.5'),
    );
    expect(r.events).toEqual([
      {
        eventName: 'NodeRegistered',
        args: { nodeId: id, operator: op.account.address, pubkey, deposit: parseEther('1.5') },
      },
    ]);
    const n = await f.read<{
      operator: Address;
      status: number;
      keyAddr: Address;
      deposit: bigint;
    }>('getNode', [id]);
    expect(n.operator).toBe(op.account.address);
    expect(n.status).toBe(1);
    expect(n.keyAddr).toBe(id);
    expect(n.deposit).toBe(parseEther('1.5'));
    expect(await f.read<Address>('nodeOfKey', [id])).toBe(id);
    expect(await f.read<Hex>('nodePublicKey', [id])).toBe(pubkey);
    expect(await f.read<Hex>('nodePublicKey', [ZERO])).toBe('0x');
    expect(await isRegisteredNode(f.pub, f.address, pubkey)).toBe(true);
    expect(await isRegisteredNode(f.pub, f.address, compressedPublicKey(randomNodeKey()))).toBe(
      false,
    );
    expect(await isRegisteredNode(f.pub, f.address, '0x1234')).toBe(false);
    expect((await balance(f.address)) - before).toBe(parseEther('1.5'));
  });

  it('gives the mesh a cached registered-node hook that follows leaving', async () => {
    let t = 0;
    const hook = registeredNodeHook(f.pub, f.address, { ttlMs: 1000, now: () => t });
    const n = nodes[5]!;
    expect(await hook(n.pubkey)).toBe(true);
    expect(await hook(n.pubkey.slice(2).toUpperCase())).toBe(true);
    expect(await hook(compressedPublicKey(randomNodeKey()).slice(2))).toBe(false);
    expect(await hook('zz')).toBe(false);
    await f.tx(n.op, 'requestLeave', [n.id]);
    expect(await hook(n.pubkey)).toBe(true); // cached
    t = 1001;
    expect(await hook(n.pubkey)).toBe(false);
  });

  it('rejects a deposit below the minimum', async () => {
    const key = randomNodeKey();
    await f.expectRevert(
      stranger,
      'registerNode',
      [compressedPublicKey(key), await popFor(key, stranger.account.address)],
      'InsufficientDeposit',
      [TEST_PARAMS.minDeposit - 1n, TEST_PARAMS.minDeposit],
      TEST_PARAMS.minDeposit - 1n,
    );
  });

  it('rejects amounts that do not fit the packed 96-bit fields', async () => {
    const rich = await f.newWallet(1n << 100n);
    const key = randomNodeKey();
    const big = 1n << 96n;
    await f.expectRevert(
      rich,
      'registerNode',
      [compressedPublicKey(key), await popFor(key, rich.account.address)],
      'AmountTooLarge',
      [big],
      big,
    );
    const now = await f.now();
    await f.tx(owner, 'grant', [DS, rich.account.address, 1, 1, 1, now + 1000n]);
    await f.expectRevert(rich, 'requestQuery', [DS, QH, 1, encKey], 'AmountTooLarge', [big], big);
  });

  it('rejects malformed public keys', async () => {
    const key = randomNodeKey();
    const pk = compressedPublicKey(key);
    const pop = await popFor(key, stranger.account.address);
    const d = TEST_PARAMS.minDeposit;
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk.slice(0, -2) as Hex, pop],
      'InvalidPublicKey',
      [],
      d,
    );
    await f.expectRevert(
      stranger,
      'registerNode',
      [`0x04${pk.slice(4)}` as Hex, pop],
      'InvalidPublicKey',
      [],
      d,
    );
    await f.expectRevert(
      stranger,
      'registerNode',
      [`0x02${'ff'.repeat(32)}` as Hex, pop],
      'InvalidPublicKey',
      [],
      d,
    );
    // an x with no point on the curve
    let x = 1n;
    for (;;) {
      try {
        secp256k1.Point.fromBytes(hexToBytes(`0x02${x.toString(16).padStart(64, '0')}`));
        x++;
      } catch {
        break;
      }
    }
    await f.expectRevert(
      stranger,
      'registerNode',
      [`0x02${x.toString(16).padStart(64, '0')}` as Hex, pop],
      'InvalidPublicKey',
      [],
      d,
    );
  });

  it('requires proof of possession of the node key', async () => {
    const key = randomNodeKey();
    const pk = compressedPublicKey(key);
    const d = TEST_PARAMS.minDeposit;
    // signed by another key
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk, await popFor(randomNodeKey(), stranger.account.address)],
      'InvalidSignature',
      [],
      d,
    );
    // signed for another operator (front-running a registration does not work)
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk, await popFor(key, owner.account.address)],
      'InvalidSignature',
      [],
      d,
    );
    const good = hexToBytes(await popFor(key, stranger.account.address));
    // wrong length
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk, bytesToHex(good.subarray(0, 64))],
      'InvalidSignature',
      [],
      d,
    );
    // high-s twin of a valid signature
    const s = BigInt(bytesToHex(good.subarray(32, 64)));
    const high = new Uint8Array(good);
    high.set(hexToBytes(`0x${(N - s).toString(16).padStart(64, '0')}`), 32);
    high[64] = good[64] === 27 ? 28 : 27;
    expect(N - s > HALF_N).toBe(true);
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk, bytesToHex(high)],
      'InvalidSignature',
      [],
      d,
    );
    // bad v
    const badV = new Uint8Array(good);
    badV[64] = 29;
    await f.expectRevert(
      stranger,
      'registerNode',
      [pk, bytesToHex(badV)],
      'InvalidSignature',
      [],
      d,
    );
  });

  it('rejects a key registered twice', async () => {
    const n = nodes[0]!;
    await f.expectRevert(
      n.op,
      'registerNode',
      [n.pubkey, await popFor(n.key, n.op.account.address)],
      'KeyAlreadyRegistered',
      [n.id],
      TEST_PARAMS.minDeposit,
    );
  });

  it('rotates a node key, keeping the node id', async () => {
    const n = nodes[5]!;
    const key2 = randomNodeKey();
    const pk2 = compressedPublicKey(key2);
    const r = await f.tx(n.op, 'updateNodeKey', [
      n.id,
      pk2,
      await popFor(key2, n.op.account.address),
    ]);
    expect(r.events).toEqual([
      {
        eventName: 'NodeKeyUpdated',
        args: { nodeId: n.id, keyAddr: keyAddress(pk2), pubkey: pk2 },
      },
    ]);
    expect(await f.read<Address>('nodeOfKey', [keyAddress(pk2)])).toBe(n.id);
    expect(await f.read<boolean>('isActiveNodeKey', [n.id])).toBe(false);
    expect(await f.read<boolean>('isActiveNodeKey', [keyAddress(pk2)])).toBe(true);
    expect(await f.read<Hex>('nodePublicKey', [n.id])).toBe(pk2);
    await f.expectRevert(
      n.op,
      'updateNodeKey',
      [n.id, n.pubkey, await popFor(n.key, n.op.account.address)],
      'KeyAlreadyRegistered',
      [n.id],
    );
    const key3 = randomNodeKey();
    const pk3 = compressedPublicKey(key3);
    await f.expectRevert(
      stranger,
      'updateNodeKey',
      [n.id, pk3, await popFor(key3, stranger.account.address)],
      'NotNodeOperator',
      [n.id, stranger.account.address],
    );
    await f.expectRevert(
      n.op,
      'updateNodeKey',
      [stranger.account.address, pk3, await popFor(key3, n.op.account.address)],
      'UnknownNode',
      [stranger.account.address],
    );
    await f.expectRevert(
      n.op,
      'updateNodeKey',
      [n.id, pk3, await popFor(randomNodeKey(), n.op.account.address)],
      'InvalidSignature',
    );
    await f.tx(n.op, 'requestLeave', [n.id]);
    await f.expectRevert(
      n.op,
      'updateNodeKey',
      [n.id, pk3, await popFor(key3, n.op.account.address)],
      'NodeNotActive',
      [n.id],
    );
  });

  it('leaves with a withdrawal delay and returns the deposit by pull payment', async () => {
    const n = nodes[5]!;
    await f.expectRevert(stranger, 'requestLeave', [n.id], 'NotNodeOperator', [
      n.id,
      stranger.account.address,
    ]);
    await f.expectRevert(n.op, 'exitNode', [n.id], 'NodeNotActive', [n.id]);
    const r = await f.tx(n.op, 'requestLeave', [n.id]);
    const at =
      (await f.pub.getBlock({ blockNumber: r.receipt.blockNumber })).timestamp +
      TEST_PARAMS.withdrawDelay;
    expect(r.events).toEqual([
      { eventName: 'NodeLeaveRequested', args: { nodeId: n.id, availableAt: at } },
    ]);
    expect(await f.read<boolean>('isActiveNodeKey', [n.id])).toBe(false);
    await f.expectRevert(n.op, 'requestLeave', [n.id], 'NodeNotActive', [n.id]);
    await f.expectRevert(n.op, 'exitNode', [n.id], 'LeaveNotReady', [n.id, at]);
    await f.increaseTime(Number(TEST_PARAMS.withdrawDelay));
    const e = await f.tx(n.op, 'exitNode', [n.id]);
    expect(e.events).toEqual([
      {
        eventName: 'NodeExited',
        args: { nodeId: n.id, operator: n.op.account.address, deposit: TEST_PARAMS.minDeposit },
      },
    ]);
    expect(await f.read<bigint>('credits', [n.op.account.address])).toBe(TEST_PARAMS.minDeposit);
    await f.expectRevert(n.op, 'exitNode', [n.id], 'NodeNotActive', [n.id]);
    const b0 = await balance(n.op.account.address);
    const c0 = await balance(f.address);
    const w = await f.tx(n.op, 'withdraw', []);
    expect(w.events).toEqual([
      {
        eventName: 'Withdrawn',
        args: { account: n.op.account.address, amount: TEST_PARAMS.minDeposit },
      },
    ]);
    expect((await balance(n.op.account.address)) - b0 + w.gasCost).toBe(TEST_PARAMS.minDeposit);
    expect(c0 - (await balance(f.address))).toBe(TEST_PARAMS.minDeposit);
    await f.expectRevert(n.op, 'withdraw', [], 'NothingToWithdraw', [n.op.account.address]);
    await f.expectRevert(n.op, 'exitNode', [stranger.account.address], 'UnknownNode', [
      stranger.account.address,
    ]);
  });
});

describe('datasets', () => {
  it('registers a dataset: event with committee and roots, stored hashes', async () => {
    const id2 = datasetIdFor(owner.account.address, 'ds2');
    // the same id the storage layer derives for DHT placement, and the contract's own view
    expect(id2).toBe(`0x${deriveDatasetId(owner.account.address, 'ds2')}`);
    expect(await f.read<Hex>('datasetIdFor', [owner.account.address, stringToHex('ds2')])).toBe(
      id2,
    );
    // member order is kept as given (not sorted)
    const order = [committee[2]!, committee[0]!, committee[1]!];
    const oroots = rootsFor(order);
    const r = await f.tx(owner, 'registerDataset', [
      stringToHex('ds2'),
      keccak256('0x01'),
      42,
      1,
      order,
      oroots,
    ]);
    expect(r.events).toEqual([
      {
        eventName: 'DatasetRegistered',
        args: {
          datasetId: id2,
          owner: owner.account.address,
          schemaHash: keccak256('0x01'),
          rowCount: 42,
          threshold: 1,
          committee: order,
          partitionRoots: oroots,
        },
      },
    ]);
    const d = await f.read<{
      owner: Address;
      threshold: number;
      size: number;
      version: number;
      rowCount: number;
    }>('getDataset', [id2]);
    expect(d).toMatchObject({
      owner: owner.account.address,
      threshold: 1,
      size: 3,
      version: 1,
      rowCount: 42,
    });
    const rootsHash = keccak256(`0x${oroots.map((x) => x.slice(2)).join('')}`);
    expect(await f.read<Hex>('membersHashAt', [id2, 1])).toBe(
      await f.read<Hex>('membersHash', [order, rootsHash]),
    );
    expect(await f.read<Hex>('membersHashAt', [id2, 1])).toBe(membersHash(members(order, oroots)));
    await f.expectRevert(
      owner,
      'registerDataset',
      [stringToHex('ds2'), keccak256('0x01'), 42, 1, order, oroots],
      'DatasetExists',
      [id2],
    );
    // another owner with the same salt gets another id
    await f.tx(stranger, 'registerDataset', [
      stringToHex('ds2'),
      keccak256('0x01'),
      42,
      1,
      order,
      oroots,
    ]);
  });

  it('rejects bad datasets', async () => {
    const s0 = keccak256('0x01');
    const salt = stringToHex('bad');
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 0, 1, committee, roots],
      'InvalidRowCount',
    );
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, [], []],
      'InvalidCommitteeSize',
      [0n],
    );
    const many = Array.from(
      { length: 17 },
      (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Address,
    );
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, many, rootsFor(many)],
      'InvalidCommitteeSize',
      [17n],
    );
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, committee, roots.slice(1)],
      'LengthMismatch',
      [5n, 4n],
    );
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 0, committee, roots],
      'InvalidThreshold',
      [0n, 5n],
    );
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 3, committee, roots],
      'InvalidThreshold',
      [3n, 5n],
    );
    const dup = [committee[0]!, committee[1]!, committee[0]!];
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, dup, rootsFor(dup)],
      'DuplicateMember',
      [2n],
    );
    const withStranger = [
      committee[0]!,
      committee[1]!,
      '0xffffffffffffffffffffffffffffffffffffffff' as Address,
    ];
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, withStranger, rootsFor(withStranger)],
      'NodeNotActive',
      [withStranger[2]],
    );
    await f.tx(nodes[1]!.op, 'requestLeave', [nodes[1]!.id]);
    await f.expectRevert(
      owner,
      'registerDataset',
      [salt, s0, 5, 1, committee.slice(0, 3), roots.slice(0, 3)],
      'NodeNotActive',
      [committee[1]],
    );
  });

  it('re-shares by the owner and bumps the version', async () => {
    const next = nodes.slice(1, 6).map((n) => n.id);
    const emptyApproval = {
      members: { committee: [], partitionsHash: keccak256('0x') },
      signerIndexes: [],
      signatures: [],
    };
    const r = await f.tx(owner, 'reshare', [DS, 2, next, rootsFor(next), emptyApproval]);
    expect(r.events).toEqual([
      {
        eventName: 'DatasetReshared',
        args: {
          datasetId: DS,
          version: 2,
          threshold: 2,
          committee: next,
          partitionRoots: rootsFor(next),
          by: owner.account.address,
        },
      },
    ]);
    expect(await f.read<Hex>('membersHashAt', [DS, 2])).toBe(
      membersHash(members(next, rootsFor(next))),
    );
    expect((await f.read<{ version: number }>('getDataset', [DS])).version).toBe(2);
    await f.expectRevert(
      owner,
      'reshare',
      [NO_DS, 2, next, rootsFor(next), emptyApproval],
      'UnknownDataset',
      [NO_DS],
    );
    await f.expectRevert(
      owner,
      'reshare',
      [DS, 0, next, rootsFor(next), emptyApproval],
      'InvalidThreshold',
      [0n, 5n],
    );
  });

  it('re-shares without the owner only with t+1 committee signatures', async () => {
    const next = nodes.slice(1, 6).map((n) => n.id);
    const nextRoots = rootsFor(next);
    const digest = await f.read<Hex>('reshareDigest', [DS, 1, 2, next, nextRoots]);
    const sig = (i: number) => signDigest(nodes[i]!.key, digest);
    const ok = { members: M, signerIndexes: [0, 2, 4], signatures: [sig(0), sig(2), sig(4)] };
    await f.expectRevert(
      stranger,
      'reshare',
      [DS, 2, next, nextRoots, { ...ok, signerIndexes: [0, 2], signatures: [sig(0), sig(2)] }],
      'NotEnoughSignatures',
      [2n, 3n],
    );
    await f.expectRevert(
      stranger,
      'reshare',
      [DS, 2, next, nextRoots, { ...ok, signerIndexes: [0, 2] }],
      'LengthMismatch',
      [2n, 3n],
    );
    await f.expectRevert(
      stranger,
      'reshare',
      [
        DS,
        2,
        next,
        nextRoots,
        { ...ok, signerIndexes: [0, 4, 2], signatures: [sig(0), sig(4), sig(2)] },
      ],
      'SignersNotIncreasing',
      [2n],
    );
    await f.expectRevert(
      stranger,
      'reshare',
      [
        DS,
        2,
        next,
        nextRoots,
        { ...ok, signerIndexes: [0, 0, 2], signatures: [sig(0), sig(0), sig(2)] },
      ],
      'SignersNotIncreasing',
      [1n],
    );
    await f.expectRevert(
      stranger,
      'reshare',
      [
        DS,
        2,
        next,
        nextRoots,
        { ...ok, signerIndexes: [0, 2, 4], signatures: [sig(0), sig(2), sig(3)] },
      ],
      'InvalidSignature',
    );
    await f.expectRevert(
      stranger,
      'reshare',
      [DS, 2, next, nextRoots, { ...ok, members: members(next, nextRoots) }],
      'CommitteeMismatch',
      [DS, 1],
    );
    // signatures over another proposal do not transfer
    await f.expectRevert(stranger, 'reshare', [DS, 1, next, nextRoots, ok], 'InvalidSignature');
    const r = await f.tx(stranger, 'reshare', [DS, 2, next, nextRoots, ok]);
    expect(r.events[0]!.args).toMatchObject({ version: 2, by: stranger.account.address });
    // the same approval cannot be replayed for version 2
    await f.expectRevert(stranger, 'reshare', [DS, 2, next, nextRoots, ok], 'CommitteeMismatch', [
      DS,
      2,
    ]);
  });
});

describe('grants', () => {
  it('grants, re-grants (new nonce) and revokes, with events', async () => {
    const now = await f.now();
    const r = await f.tx(owner, 'grant', [DS, stranger.account.address, 0b10, 5, 7, now + 1000n]);
    expect(r.events).toEqual([
      {
        eventName: 'GrantIssued',
        args: {
          datasetId: DS,
          researcher: stranger.account.address,
          nonce: 1,
          kinds: 2,
          minCohort: 5,
          budget: 7,
          expiry: now + 1000n,
        },
      },
    ]);
    const r2 = await f.tx(owner, 'grant', [DS, stranger.account.address, 0b11, 6, 8, now + 2000n]);
    expect(r2.events[0]!.args.nonce).toBe(2);
    expect(await f.read('getGrant', [DS, stranger.account.address])).toEqual({
      kinds: 3,
      minCohort: 6,
      budget: 8,
      used: 0,
      expiry: now + 2000n,
      nonce: 2,
      active: true,
    });
    const v = await f.tx(owner, 'revoke', [DS, stranger.account.address]);
    expect(v.events).toEqual([
      {
        eventName: 'GrantRevoked',
        args: { datasetId: DS, researcher: stranger.account.address, nonce: 2 },
      },
    ]);
    await f.expectRevert(owner, 'revoke', [DS, stranger.account.address], 'NoActiveGrant', [
      DS,
      stranger.account.address,
    ]);
  });

  it('rejects grants and revocations by non-owners and bad policies', async () => {
    const now = await f.now();
    const r = researcher.account.address;
    await f.expectRevert(stranger, 'grant', [DS, r, 1, 5, 1, now + 100n], 'NotDatasetOwner', [
      DS,
      stranger.account.address,
    ]);
    await f.expectRevert(stranger, 'revoke', [DS, r], 'NotDatasetOwner', [
      DS,
      stranger.account.address,
    ]);
    await f.expectRevert(owner, 'grant', [NO_DS, r, 1, 5, 1, now + 100n], 'UnknownDataset', [
      NO_DS,
    ]);
    await f.expectRevert(owner, 'revoke', [NO_DS, r], 'UnknownDataset', [NO_DS]);
    await f.expectRevert(owner, 'grant', [DS, r, 0, 5, 1, now + 100n], 'InvalidPolicy');
    await f.expectRevert(owner, 'grant', [DS, r, 1, 5, 0, now + 100n], 'InvalidPolicy');
    await f.expectRevert(owner, 'grant', [DS, r, 1, 5, 1, now - 1n], 'InvalidPolicy');
    await f.expectRevert(owner, 'grant', [DS, ZERO, 1, 5, 1, now + 100n], 'InvalidPolicy');
  });
});

describe('queries', () => {
  it('requests a query: event, stored query, budget charged, authorised for nodes', async () => {
    const r = await f.tx(researcher, 'requestQuery', [DS, QH, 0b101, encKey], FEE);
    const deadline =
      (await f.pub.getBlock({ blockNumber: r.receipt.blockNumber })).timestamp +
      TEST_PARAMS.queryTimeout;
    expect(r.events).toEqual([
      {
        eventName: 'QueryRequested',
        args: {
          queryId: 1n,
          datasetId: DS,
          researcher: researcher.account.address,
          queryHash: QH,
          kinds: 5,
          encKey,
          fee: FEE,
          deadline,
        },
      },
    ]);
    const g = await f.read<{ budget: number; used: number }>('getGrant', [
      DS,
      researcher.account.address,
    ]);
    expect([g.budget, g.used]).toEqual([2, 1]);
    expect(await f.read<number>('authorisation', [1n])).toBe(0);
    const a = await isQueryAuthorised(f.pub, f.address, {
      queryId: 1n,
      queryHash: QH,
      nodeId: committee[0]!,
      members: M,
    });
    expect(a).toMatchObject({
      ok: true,
      datasetId: DS,
      version: 1,
      researcher: researcher.account.address,
      kinds: ['count', 'avg'],
      encKey,
      fee: FEE,
      deadline,
      policy: { allowedKinds: ['count', 'avg'], minCohort: 10 },
    });
    // a node whose checked query uses a kind the researcher did not declare refuses it
    expect(
      await isQueryAuthorised(f.pub, f.address, { queryId: 1n, queryHash: QH, kinds: ['count'] }),
    ).toMatchObject({ ok: true });
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: 1n,
        queryHash: QH,
        kinds: ['count', 'filter'],
      }),
    ).toMatchObject({ ok: false, code: 'KIND_NOT_DECLARED' });
    // node reads the committee from events itself
    expect(
      (
        await isQueryAuthorised(f.pub, f.address, {
          queryId: 1n,
          queryHash: QH,
          nodeId: committee[3]!,
        })
      ).ok,
    ).toBe(true);
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: 1n,
        queryHash: QH,
        nodeId: nodes[5]!.id,
      }),
    ).toMatchObject({ ok: false, code: 'NOT_IN_COMMITTEE' });
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: 1n,
        queryHash: keccak256(stringToHex('SELECT 1')),
      }),
    ).toMatchObject({ ok: false, code: 'QUERY_HASH_MISMATCH' });
    expect(await isQueryAuthorised(f.pub, f.address, { queryId: 9n, queryHash: QH })).toMatchObject(
      { ok: false, code: 'UNKNOWN_QUERY' },
    );
  });

  it('rejects unauthorised or under-funded requests', async () => {
    const r = researcher.account.address;
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 1, encKey],
      'FeeTooLow',
      [TEST_PARAMS.minFee - 1n, TEST_PARAMS.minFee],
      TEST_PARAMS.minFee - 1n,
    );
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 1, encKey.slice(0, -2) as Hex],
      'InvalidPublicKey',
      [],
      FEE,
    );
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 1, `0x04${encKey.slice(4)}` as Hex],
      'InvalidPublicKey',
      [],
      FEE,
    );
    await f.expectRevert(
      stranger,
      'requestQuery',
      [DS, QH, 1, encKey],
      'NoActiveGrant',
      [DS, stranger.account.address],
      FEE,
    );
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 0b11, encKey],
      'QueryKindNotAllowed',
      [2],
      FEE,
    );
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 0, encKey],
      'QueryKindNotAllowed',
      [0],
      FEE,
    );
    await f.expectRevert(
      researcher,
      'requestQuery',
      [NO_DS, QH, 1, encKey],
      'UnknownDataset',
      [NO_DS],
      FEE,
    );
    await f.tx(owner, 'revoke', [DS, r]);
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 1, encKey],
      'NoActiveGrant',
      [DS, r],
      FEE,
    );
  });

  it('exhausts the budget', async () => {
    for (let i = 0; i < 3; i++) await request();
    await f.expectRevert(
      researcher,
      'requestQuery',
      [DS, QH, 1, encKey],
      'BudgetExhausted',
      [DS, researcher.account.address],
      FEE,
    );
  });

  it('expires grants', async () => {
    const now = await f.now();
    await f.tx(owner, 'grant', [DS, stranger.account.address, 1, 10, 5, now + 100n]);
    const q = await request(stranger);
    await f.increaseTime(200);
    // requested before expiry, not started: void
    expect(await f.read<number>('authorisation', [q])).toBe(4);
    await f.expectRevert(
      nodes[0]!.op,
      'postResult',
      [q, M, 0, keccak256('0x01')],
      'GrantNoLongerValid',
      [q],
    );
    await f.expectRevert(
      stranger,
      'requestQuery',
      [DS, QH, 1, encKey],
      'GrantExpired',
      [DS, stranger.account.address, now + 100n],
      FEE,
    );
  });

  it('posts results (by node key or operator), starts, completes and pays members who posted', async () => {
    const q = await request();
    const c = (i: number) => keccak256(`0x0${i}`);
    const r0 = await post(q, 0);
    expect(r0.events).toEqual([
      {
        eventName: 'ResultPosted',
        args: { queryId: q, nodeId: committee[0], memberIndex: 0, commitment: c(0) },
      },
    ]);
    expect((await f.read<{ status: number }>('getQuery', [q])).status).toBe(2);
    // the node key itself may send (fund it first)
    const n1 = nodes[1]!;
    await f.test.setBalance({ address: n1.id, value: parseEther('1') });
    const { createWalletClient, http } = await import('viem');
    const { privateKeyToAccount } = await import('viem/accounts');
    const keyWallet = createWalletClient({
      account: privateKeyToAccount(bytesToHex(n1.key)),
      chain: researcher.chain,
      transport: http(f.anvil.rpcUrl),
    });
    await f.tx(keyWallet, 'postResult', [q, M, 1, c(1)]);
    expect(await f.read<Hex>('resultOf', [q, n1.id])).toBe(c(1));
    await post(q, 2);
    await post(q, 3);
    const last = await post(q, 4);
    expect(last.events.map((e) => e.eventName)).toEqual(['ResultPosted', 'QueryCompleted']);
    expect(last.events[1]!.args).toEqual({ queryId: q, postCount: 5 });
    expect(await f.read<number>('authorisation', [q])).toBe(2);
    // fee split: 0.05 ETH / 5 each, no remainder; the node console's view of it
    const op0 = nodes[0]!.op.account.address;
    expect(await nodeEarnings(f.pub, f.address, committee[0]!)).toMatchObject({
      claimable: [{ queryId: q, amount: FEE / 5n }],
      claimableTotal: FEE / 5n,
      claimed: 0n,
      operator: op0,
    });
    const cl = await f.tx(stranger, 'claimFee', [q, committee[0]]);
    expect(cl.events).toEqual([
      {
        eventName: 'FeeClaimed',
        args: { queryId: q, nodeId: committee[0], operator: op0, amount: FEE / 5n },
      },
    ]);
    expect(await f.read<bigint>('credits', [op0])).toBe(FEE / 5n);
    expect(await nodeEarnings(f.pub, f.address, committee[0]!)).toMatchObject({
      claimable: [],
      claimableTotal: 0n,
      claimed: FEE / 5n,
      credit: FEE / 5n,
    });
    // claimFees sends one claim per query; a member that did not post has nothing to claim
    await claimFees(stranger, f.pub, f.address, committee[2]!, [q]);
    expect((await nodeEarnings(f.pub, f.address, committee[2]!)).claimed).toBe(FEE / 5n);
    expect((await nodeEarnings(f.pub, f.address, nodes[5]!.id)).claimable).toEqual([]);
    expect(await f.read<boolean>('feeClaimed', [q, committee[0]])).toBe(true);
    expect(await f.read<boolean>('feeClaimed', [q, committee[1]])).toBe(false);
    expect(await f.read<bigint>('queryCount')).toBe(q);
    const sd = await f.read<Hex>('shareDigest', [q, keccak256('0x01')]);
    expect(sd).toBe(shareDigest(f.chainId, f.address, q, keccak256('0x01')));
    await f.expectRevert(stranger, 'claimFee', [q, committee[0]], 'NothingToClaim', [
      q,
      committee[0],
    ]);
    await f.expectRevert(stranger, 'claimFee', [q, nodes[5]!.id], 'NothingToClaim', [
      q,
      nodes[5]!.id,
    ]);
    await f.expectRevert(nodes[0]!.op, 'postResult', [q, M, 0, c(0)], 'QueryNotOpen', [q, 3]);
  });

  it('the post that completes a query costs at most POST_COMPLETION_GAS more than the others', async () => {
    const q = await request();
    for (let i = 0; i < 3; i++) await post(q, i);
    const est = (i: number) =>
      f.pub.estimateContractGas({
        address: f.address,
        abi: Confide.abi,
        functionName: 'postResult',
        args: [q, M, i, keccak256(`0x0${i}`)],
        account: nodes[i]!.op.account,
      });
    const notLast = await est(3);
    await post(q, 3);
    const completing = await est(4);
    const extra = completing - notLast;
    console.log(`[gas] completing post: ${extra} gas more than an ordinary one`);
    expect(extra).toBeGreaterThan(0n);
    expect(extra).toBeLessThan(POST_COMPLETION_GAS);
  });

  it('members posting at once all land, whichever completes the query (postResult adds the margin)', async () => {
    const q = await request();
    await post(q, 0);
    // Sent together: each estimate sees the state before the others are mined.
    await f.test.setAutomine(false);
    try {
      const sent = [1, 2, 3, 4].map((i) =>
        postResult(nodes[i]!.op, f.pub, f.address, {
          queryId: q,
          members: M,
          index: i,
          commitment: keccak256(`0x0${i}`),
        }),
      );
      for (let k = 0; (await f.test.getTxpoolStatus()).pending < 4; k++) {
        if (k > 200) throw new Error('the 4 posts never reached the pool');
        await new Promise((r) => setTimeout(r, 50));
      }
      await f.test.mine({ blocks: 1 });
      await Promise.all(sent);
    } finally {
      await f.test.setAutomine(true);
    }
    expect((await f.read<{ status: number; postCount: number }>('getQuery', [q])).status).toBe(3);
  });

  it("a query is answered by its version's committee or by the one its data was re-shared to", async () => {
    const q = await request();
    const next = nodes.slice(1, 6).map((n) => n.id);
    const emptyApproval = {
      members: { committee: [], partitionsHash: keccak256('0x') },
      signerIndexes: [],
      signatures: [],
    };
    await f.tx(owner, 'reshare', [DS, 2, next, rootsFor(next), emptyApproval]);
    // version-1 members can still post for the version-1 query, and so can version-2 members (the
    // replacement of a member that left mid-query); a member posts once, whichever list it uses
    await post(q, 0);
    await f.tx(nodes[5]!.op, 'postResult', [
      q,
      members(next, rootsFor(next)),
      4,
      keccak256('0x05'),
    ]);
    await post(q, 1);
    await f.expectRevert(
      nodes[1]!.op,
      'postResult',
      [q, members(next, rootsFor(next)), 0, keccak256('0x01')],
      'AlreadyPosted',
    );
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: q,
        queryHash: QH,
        nodeId: nodes[5]!.id,
      }),
    ).toMatchObject({ ok: true, version: 2 });
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: q,
        queryHash: QH,
        nodeId: nodes[0]!.id,
      }),
    ).toMatchObject({ ok: true, version: 1 });
    // a new query runs on version 2: version-1-only members are not in its committee
    const q2 = await request();
    expect((await f.read<{ version: number }>('getQuery', [q2])).version).toBe(2);
    await f.tx(nodes[5]!.op, 'postResult', [
      q2,
      members(next, rootsFor(next)),
      4,
      keccak256('0x01'),
    ]);
    expect(
      await isQueryAuthorised(f.pub, f.address, {
        queryId: q2,
        queryHash: QH,
        nodeId: nodes[0]!.id,
      }),
    ).toMatchObject({ ok: false, code: 'NOT_IN_COMMITTEE' });
    await f.expectRevert(
      nodes[0]!.op,
      'postResult',
      [
        q2,
        members(
          nodes.slice(0, 5).map((n) => n.id),
          rootsFor(nodes.slice(0, 5).map((n) => n.id)),
        ),
        0,
        keccak256('0x01'),
      ],
      'CommitteeMismatch',
      [DS, 2],
    );
    // after a second re-share, the version-2 list no longer answers the version-1 query
    const third = [nodes[0]!.id, ...nodes.slice(2, 6).map((n) => n.id)];
    await f.tx(owner, 'reshare', [DS, 2, third, rootsFor(third), emptyApproval]);
    await f.expectRevert(
      nodes[2]!.op,
      'postResult',
      [q, members(next, rootsFor(next)), 1, keccak256('0x02')],
      'CommitteeMismatch',
      [DS, 1],
    );
    await f.tx(nodes[2]!.op, 'postResult', [
      q,
      members(third, rootsFor(third)),
      1,
      keccak256('0x02'),
    ]);
  });

  it('a node posts with its rotated key; the old key can no longer send', async () => {
    const q = await request();
    const n = nodes[2]!;
    const key2 = randomNodeKey();
    await f.tx(n.op, 'updateNodeKey', [
      n.id,
      compressedPublicKey(key2),
      await popFor(key2, n.op.account.address),
    ]);
    const { createWalletClient, http } = await import('viem');
    const { privateKeyToAccount } = await import('viem/accounts');
    const asKey = async (k: Uint8Array) => {
      const account = privateKeyToAccount(bytesToHex(k));
      await f.test.setBalance({ address: account.address, value: parseEther('1') });
      return createWalletClient({
        account,
        chain: researcher.chain,
        transport: http(f.anvil.rpcUrl),
      });
    };
    const oldKey = await asKey(n.key);
    await f.expectRevert(oldKey, 'postResult', [q, M, 2, keccak256('0x01')], 'NotNodeSender', [
      n.id,
      n.id,
    ]);
    await f.tx(await asKey(key2), 'postResult', [q, M, 2, keccak256('0x01')]);
    expect(await f.read<Hex>('resultOf', [q, n.id])).toBe(keccak256('0x01'));
  });

  it('rejects bad result posts', async () => {
    const q = await request();
    const op0 = nodes[0]!.op;
    await f.expectRevert(op0, 'postResult', [99n, M, 0, keccak256('0x01')], 'UnknownQuery', [99n]);
    await f.expectRevert(op0, 'postResult', [q, M, 0, `0x${'00'.repeat(32)}`], 'ZeroCommitment');
    await f.expectRevert(
      op0,
      'postResult',
      [q, members(committee.slice(0, 4), roots.slice(0, 4)), 0, keccak256('0x01')],
      'CommitteeMismatch',
      [DS, 1],
    );
    await f.expectRevert(op0, 'postResult', [q, M, 7, keccak256('0x01')], 'NotCommitteeMember', [
      q,
      7n,
      ZERO,
    ]);
    await f.expectRevert(op0, 'postResult', [q, M, 1, keccak256('0x01')], 'NotNodeSender', [
      committee[1],
      op0.account.address,
    ]);
    await post(q, 0);
    await f.expectRevert(op0, 'postResult', [q, M, 0, keccak256('0x02')], 'AlreadyPosted', [
      q,
      committee[0],
    ]);
    await f.increaseTime(Number(TEST_PARAMS.queryTimeout) + 1);
    const dl = (await f.read<{ deadline: bigint }>('getQuery', [q])).deadline;
    await f.expectRevert(
      nodes[1]!.op,
      'postResult',
      [q, M, 1, keccak256('0x01')],
      'DeadlinePassed',
      [q, dl],
    );
  });

  it('revocation voids queries not yet started and only those', async () => {
    const started = await request();
    const waiting = await request();
    await post(started, 0);
    await f.tx(owner, 'revoke', [DS, researcher.account.address]);
    expect(await f.read<number>('authorisation', [started])).toBe(0);
    expect(await f.read<number>('authorisation', [waiting])).toBe(4);
    expect(
      await isQueryAuthorised(f.pub, f.address, { queryId: waiting, queryHash: QH }),
    ).toMatchObject({ ok: false, code: 'GRANT_INVALID' });
    await f.expectRevert(
      nodes[0]!.op,
      'postResult',
      [waiting, M, 0, keccak256('0x01')],
      'GrantNoLongerValid',
      [waiting],
    );
    await post(started, 1);
    // re-granting does not revive the void query (new nonce)
    await f.tx(owner, 'grant', [DS, researcher.account.address, 1, 1, 1, (await f.now()) + 1000n]);
    expect(await f.read<number>('authorisation', [waiting])).toBe(4);
    // the void query is refundable at once; the started one is not
    await f.expectRevert(stranger, 'refund', [started], 'RefundNotAllowed', [started]);
    const r = await f.tx(stranger, 'refund', [waiting]);
    expect(r.events).toEqual([
      {
        eventName: 'QueryRefunded',
        args: { queryId: waiting, researcher: researcher.account.address, amount: FEE },
      },
    ]);
    expect(await f.read<bigint>('credits', [researcher.account.address])).toBe(FEE);
    await f.expectRevert(stranger, 'refund', [waiting], 'RefundNotAllowed', [waiting]);
    await f.expectRevert(
      nodes[0]!.op,
      'postResult',
      [waiting, M, 0, keccak256('0x01')],
      'QueryNotOpen',
      [waiting, 4],
    );
  });

  it('finalizes after the deadline with t+1 results; refunds a failed committee', async () => {
    const good = await request(researcher, FEE + 2n);
    const bad = await request();
    for (const i of [0, 2, 4]) await post(good, i);
    await post(bad, 0);
    await post(bad, 1);
    await f.expectRevert(stranger, 'finalize', [good], 'FinalizeNotAllowed', [good]);
    await f.expectRevert(stranger, 'refund', [bad], 'RefundNotAllowed', [bad]);
    await f.increaseTime(Number(TEST_PARAMS.queryTimeout) + 1);
    expect(await f.read<number>('authorisation', [good])).toBe(3);
    await f.expectRevert(stranger, 'finalize', [bad], 'FinalizeNotAllowed', [bad]);
    await f.expectRevert(stranger, 'refund', [good], 'RefundNotAllowed', [good]);
    await f.expectRevert(stranger, 'claimFee', [good, committee[0]], 'QueryNotCompleted', [good]);
    await f.expectRevert(stranger, 'finalize', [77n], 'UnknownQuery', [77n]);
    const fin = await f.tx(stranger, 'finalize', [good]);
    expect(fin.events).toEqual([
      { eventName: 'QueryCompleted', args: { queryId: good, postCount: 3 } },
    ]);
    // (FEE + 2) / 3 each, remainder to the researcher at completion
    const share = (FEE + 2n) / 3n;
    const rest = FEE + 2n - 3n * share;
    expect(await f.read<bigint>('credits', [researcher.account.address])).toBe(rest);
    for (const i of [0, 2, 4]) await f.tx(stranger, 'claimFee', [good, committee[i]]);
    await f.expectRevert(stranger, 'claimFee', [good, committee[1]], 'NothingToClaim', [
      good,
      committee[1],
    ]);
    const paid = (
      await Promise.all(
        [0, 2, 4].map((i) => f.read<bigint>('credits', [nodes[i]!.op.account.address])),
      )
    ).reduce((a, b) => a + b, 0n);
    expect(paid + rest).toBe(FEE + 2n);
    await f.tx(stranger, 'refund', [bad]);
    expect(await f.read<bigint>('credits', [researcher.account.address])).toBe(rest + FEE);
    await f.expectRevert(stranger, 'finalize', [good], 'FinalizeNotAllowed', [good]);
  });
});

describe('penalties', () => {
  async function equivocation(signer: Uint8Array, a: Hex, b: Hex, signer2: Uint8Array = signer) {
    const m = { datasetId: DS, version: 1, session: keccak256('0x5e'), opId: keccak256('0x0b') };
    const da = opDigest(f.chainId, f.address, { ...m, payloadHash: a });
    const db = opDigest(f.chainId, f.address, { ...m, payloadHash: b });
    expect(da).toBe(await f.read<Hex>('opDigest', [DS, 1, m.session, m.opId, a]));
    return {
      ...m,
      payloadA: a,
      sigA: signDigest(signer, da),
      payloadB: b,
      sigB: signDigest(signer2, db),
    };
  }

  it('slashes equivocation and splits the deposit between reporter and honest members', async () => {
    const bad = nodes[2]!;
    await f.tx(nodes[4]!.op, 'requestLeave', [nodes[4]!.id]); // leaving members are still honest members
    const ev = await equivocation(bad.key, keccak256('0xaa'), keccak256('0xbb'));
    const before = await balance(f.address);
    const r = await f.tx(stranger, 'slashEquivocation', [ev, M]);
    const dep = TEST_PARAMS.minDeposit;
    const per = dep / 2n / 4n;
    expect(r.events).toEqual([
      {
        eventName: 'NodeSlashed',
        args: {
          nodeId: bad.id,
          reporter: stranger.account.address,
          slashId: 1n,
          kind: 0,
          amount: dep,
          reporterReward: dep - 4n * per,
          perHonestMember: per,
          honestMembers: 4n,
        },
      },
    ]);
    expect(await f.read<bigint>('credits', [stranger.account.address])).toBe(dep - 4n * per);
    expect(await f.read<bigint>('slashCount')).toBe(1n);
    // honest members pull their shares (anyone may trigger the credit)
    expect(await f.read<readonly unknown[]>('slashPools', [1n])).toEqual([
      per,
      0b11011,
      0,
      membersHash(M).slice(0, 34),
    ]);
    await f.expectRevert(stranger, 'claimSlashReward', [1n, M, 2], 'NoSlashReward', [1n, 2n]);
    await f.expectRevert(stranger, 'claimSlashReward', [1n, M, 16], 'NoSlashReward', [1n, 16n]);
    await f.expectRevert(stranger, 'claimSlashReward', [9n, M, 0], 'NoSlashReward', [9n, 0n]);
    await f.expectRevert(
      stranger,
      'claimSlashReward',
      [1n, members(committee.slice(1), roots.slice(1)), 0],
      'SlashCommitteeMismatch',
      [1n],
    );
    for (const i of [0, 1, 3, 4]) {
      const c = await f.tx(stranger, 'claimSlashReward', [1n, M, i]);
      expect(c.events).toEqual([
        {
          eventName: 'SlashRewardClaimed',
          args: {
            slashId: 1n,
            nodeId: committee[i],
            operator: nodes[i]!.op.account.address,
            amount: per,
          },
        },
      ]);
      expect(await f.read<bigint>('credits', [nodes[i]!.op.account.address])).toBe(per);
    }
    await f.expectRevert(stranger, 'claimSlashReward', [1n, M, 0], 'NoSlashReward', [1n, 0n]);
    expect(await f.read<bigint>('credits', [bad.op.account.address])).toBe(0n);
    expect((await f.read<{ status: number; deposit: bigint }>('getNode', [bad.id])).status).toBe(4);
    expect(await balance(f.address)).toBe(before);
    expect(await isRegisteredNode(f.pub, f.address, bad.pubkey)).toBe(false);
    await f.expectRevert(stranger, 'slashEquivocation', [ev, M], 'NotSlashable', [bad.id]);
    // a slashed member can no longer post and is not counted as honest in later slashes
    const q = await request();
    await f.expectRevert(bad.op, 'postResult', [q, M, 2, keccak256('0x01')], 'NodeNotActive', [
      bad.id,
    ]);
    const ev2 = await equivocation(nodes[0]!.key, keccak256('0x01'), keccak256('0x02'));
    const r2 = await f.tx(stranger, 'slashEquivocation', [ev2, M]);
    expect(r2.events[0]!.args.honestMembers).toBe(3n);
  });

  it('slashes only with valid evidence', async () => {
    const k = nodes[1]!.key;
    await f.expectRevert(
      stranger,
      'slashEquivocation',
      [await equivocation(k, keccak256('0xaa'), keccak256('0xaa')), M],
      'NoConflict',
    );
    const other = nodes[3]!.key;
    await f.expectRevert(
      stranger,
      'slashEquivocation',
      [await equivocation(k, keccak256('0xaa'), keccak256('0xbb'), other), M],
      'SignerMismatch',
      [nodes[1]!.id, nodes[3]!.id],
    );
    const unknown = randomNodeKey();
    await f.expectRevert(
      stranger,
      'slashEquivocation',
      [await equivocation(unknown, keccak256('0xaa'), keccak256('0xbb')), M],
      'UnknownNode',
      [keyAddress(compressedPublicKey(unknown))],
    );
    const ev = await equivocation(k, keccak256('0xaa'), keccak256('0xbb'));
    await f.expectRevert(
      stranger,
      'slashEquivocation',
      [ev, members(committee.slice(1), roots.slice(1))],
      'CommitteeMismatch',
      [DS, 1],
    );
    await f.expectRevert(
      stranger,
      'slashEquivocation',
      [{ ...ev, sigB: '0x1234' }, M],
      'InvalidSignature',
    );
    // a signature moved to another payload recovers to some other address: not the same signer
    const moved = { ...ev, payloadB: keccak256('0xcc') };
    await f.expectRevert(stranger, 'slashEquivocation', [moved, M], 'SignerMismatch');
    expect((await f.read<{ status: number }>('getNode', [nodes[1]!.id])).status).toBe(1);
  });

  it('slashes with evidence signed by a key the node has since rotated away from', async () => {
    const n = nodes[1]!;
    const key2 = randomNodeKey();
    await f.tx(n.op, 'updateNodeKey', [
      n.id,
      compressedPublicKey(key2),
      await popFor(key2, n.op.account.address),
    ]);
    const ev = await equivocation(n.key, keccak256('0xaa'), keccak256('0xbb'));
    const r = await f.tx(stranger, 'slashEquivocation', [ev, M]);
    expect(r.events[0]!.args.nodeId).toBe(n.id);
  });

  it('slashes a node whose signed result share fails its posted commitment', async () => {
    const q = await request();
    const share = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    await post(q, 3, keccak256(share));
    const sign = (key: Uint8Array, s: Uint8Array) =>
      signDigest(key, shareDigest(f.chainId, f.address, q, keccak256(s)));
    // honest: the signed share matches the commitment
    await f.expectRevert(
      researcher,
      'slashBadResult',
      [q, bytesToHex(share), sign(nodes[3]!.key, share), M],
      'ShareMatchesCommitment',
      [q, committee[3]],
    );
    // a member that posted nothing
    await f.expectRevert(
      researcher,
      'slashBadResult',
      [q, bytesToHex(share), sign(nodes[1]!.key, share), M],
      'NoResultPosted',
      [q, committee[1]],
    );
    await f.expectRevert(
      researcher,
      'slashBadResult',
      [55n, bytesToHex(share), sign(nodes[3]!.key, share), M],
      'UnknownQuery',
      [55n],
    );
    const stray = randomNodeKey();
    await f.expectRevert(
      researcher,
      'slashBadResult',
      [q, bytesToHex(share), sign(stray, share), M],
      'UnknownNode',
      [keyAddress(compressedPublicKey(stray))],
    );
    const lie = new Uint8Array([9, 9, 9]);
    const r = await f.tx(researcher, 'slashBadResult', [
      q,
      bytesToHex(lie),
      sign(nodes[3]!.key, lie),
      M,
    ]);
    expect(r.events[0]).toMatchObject({
      eventName: 'NodeSlashed',
      args: {
        nodeId: committee[3],
        reporter: researcher.account.address,
        kind: 1,
        amount: TEST_PARAMS.minDeposit,
        honestMembers: 4n,
      },
    });
  });
});

describe('payouts and reentrancy', () => {
  async function attackerNode() {
    const attacker = await deployAttacker(f, stranger);
    const key = randomNodeKey();
    const pk = compressedPublicKey(key);
    const pop = await popFor(key, attacker);
    const call = async (data: Hex, value = 0n) => {
      const hash = await stranger.writeContract({
        address: attacker,
        abi: ReentrantReceiver.abi,
        functionName: 'forward',
        args: [data],
        value,
        chain: stranger.chain,
        account: stranger.account,
      });
      const rc = await f.pub.waitForTransactionReceipt({ hash });
      expect(rc.status).toBe('success');
      return rc;
    };
    const id = keyAddress(pk);
    await call(
      encodeFunctionData({ abi: Confide.abi, functionName: 'registerNode', args: [pk, pop] }),
      TEST_PARAMS.minDeposit,
    );
    await call(encodeFunctionData({ abi: Confide.abi, functionName: 'requestLeave', args: [id] }));
    await f.increaseTime(Number(TEST_PARAMS.withdrawDelay));
    await call(encodeFunctionData({ abi: Confide.abi, functionName: 'exitNode', args: [id] }));
    expect(await f.read<bigint>('credits', [attacker])).toBe(TEST_PARAMS.minDeposit);
    return { attacker, call };
  }
  const readA = <T>(
    attacker: Address,
    fn: 'attempts' | 'successes' | 'lastRevert' | 'rejectPayments',
  ) =>
    f.pub.readContract({
      address: attacker,
      abi: ReentrantReceiver.abi,
      functionName: fn,
    }) as Promise<T>;

  it('a malicious receiver cannot re-enter withdraw() or any other payout', async () => {
    const { attacker, call } = await attackerNode();
    // other funds in the contract that a successful re-entry could steal
    await request();
    const c0 = await balance(f.address);
    await call(encodeFunctionData({ abi: Confide.abi, functionName: 'withdraw' }));
    expect(await readA<bigint>(attacker, 'attempts')).toBe(1n);
    expect(await readA<bigint>(attacker, 'successes')).toBe(0n);
    expect(await readA<Hex>(attacker, 'lastRevert')).toBe(toFunctionSelector('Reentrancy()'));
    expect(await balance(attacker)).toBe(TEST_PARAMS.minDeposit);
    expect(c0 - (await balance(f.address))).toBe(TEST_PARAMS.minDeposit);
    expect(await f.read<bigint>('credits', [attacker])).toBe(0n);
  });

  it('re-entry into refund() during a payout is blocked too', async () => {
    const { attacker, call } = await attackerNode();
    const q = await request();
    await f.tx(owner, 'revoke', [DS, researcher.account.address]);
    const set = await stranger.writeContract({
      address: attacker,
      abi: ReentrantReceiver.abi,
      functionName: 'setReentryCall',
      args: [encodeFunctionData({ abi: Confide.abi, functionName: 'refund', args: [q] })],
      chain: stranger.chain,
      account: stranger.account,
    });
    expect((await f.pub.waitForTransactionReceipt({ hash: set })).status).toBe('success');
    await call(encodeFunctionData({ abi: Confide.abi, functionName: 'withdraw' }));
    expect(await readA<Hex>(attacker, 'lastRevert')).toBe(toFunctionSelector('Reentrancy()'));
    expect((await f.read<{ status: number }>('getQuery', [q])).status).toBe(1);
  });

  it('a receiver that rejects ETH keeps its credit (TransferFailed)', async () => {
    const { attacker } = await attackerNode();
    const hash = await stranger.writeContract({
      address: attacker,
      abi: ReentrantReceiver.abi,
      functionName: 'setRejectPayments',
      args: [true],
      chain: stranger.chain,
      account: stranger.account,
    });
    // wait for it to be mined: the eth_call below must see the receiver rejecting payments
    expect((await f.pub.waitForTransactionReceipt({ hash })).status).toBe('success');
    const data = encodeFunctionData({ abi: Confide.abi, functionName: 'withdraw' });
    const err = await f.pub
      .call({
        to: attacker,
        data: encodeFunctionData({
          abi: ReentrantReceiver.abi,
          functionName: 'forward',
          args: [data],
        }),
        account: stranger.account,
      })
      .then(
        () => null,
        (e: unknown) => String(e),
      );
    expect(err).toContain(toFunctionSelector('TransferFailed(address,uint256)').slice(2));
    expect(await f.read<bigint>('credits', [attacker])).toBe(TEST_PARAMS.minDeposit);
  });
});
