/**
 * Typed read/write helpers over the Confide contract (viem). Plain functions, no React: the UI hooks,
 * the node runtime and the tests all call these. Committees are not stored on chain (only their hash);
 * `datasetCommittee` reads them back from the dataset's events.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  bytesToHex,
  hexToBytes,
  stringToHex,
  decodeEventLog,
  encodeAbiParameters,
  keccak256,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Account,
} from 'viem';
import { ConfideAbi } from './generated/contracts';
import { ChainError } from './errors';
import { QUERY_KINDS, type Policy, type QueryKind } from '../query/policy';

export { QUERY_KINDS };
import { compressedPublicKey, keyAddress, signDigest } from './keys';

export const confideAbi = ConfideAbi;
export type ConfideWallet = WalletClient<Transport, Chain, Account>;

/**
 * Query kinds are the query layer's (`QUERY_KINDS` in src/query/policy.ts: count, sum, avg, …,
 * filter, group_by, compare_columns); bit k of a grant's or a query's `kinds` mask is
 * `QUERY_KINDS[k]`. Append-only: a new kind takes the next bit.
 */
export type QueryKindName = QueryKind;
export function kindsMask(kinds: readonly string[]): number {
  let m = 0;
  for (const k of kinds) {
    const bit = (QUERY_KINDS as readonly string[]).indexOf(k);
    if (bit < 0) throw new ChainError('CHAIN_BAD_INPUT', `kindsMask: unknown query kind "${k}"`);
    m |= 1 << bit;
  }
  return m >>> 0;
}
export function kindsOf(mask: number): QueryKind[] {
  return QUERY_KINDS.filter((_, i) => (mask >>> i) & 1);
}
/** A grant's policy as the query layer takes it (`enforcePolicy`). */
export function grantPolicy(g: { kinds: number; minCohort: number }): Policy {
  return { allowedKinds: kindsOf(g.kinds), minCohort: g.minCohort };
}

export const NodeStatus = ['None', 'Active', 'Leaving', 'Exited', 'Slashed'] as const;
export const QueryStatus = ['None', 'Requested', 'Running', 'Completed', 'Refunded'] as const;

/** Send a contract write and wait for a successful receipt; returns the receipt. */
async function send(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  functionName: string,
  args: readonly unknown[],
  value?: bigint,
  extraGas?: bigint,
) {
  const call = {
    address,
    abi: confideAbi,
    functionName,
    args,
    account: wallet.account,
    ...(value !== undefined ? { value } : {}),
  };
  // Estimated through our own RPC, so a revert surfaces as the contract's named error
  // (GrantExpired, BudgetExhausted, …) whatever the wallet does with revert data, and the wallet
  // is handed the gas limit instead of estimating again. A gas estimate holds for the state it was
  // made in: where a transaction may run a costlier branch once others land first, the caller adds
  // that branch's cost (`extraGas`).
  const gas =
    (await pub.estimateContractGas(
      call as unknown as Parameters<PublicClient['estimateContractGas']>[0],
    )) + (extraGas ?? 0n);
  const req = {
    ...call,
    chain: wallet.chain,
    gas,
  } as unknown as Parameters<ConfideWallet['writeContract']>[0];
  const hash = await wallet.writeContract(req);
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success')
    throw new ChainError('CHAIN_TX_FAILED', `${functionName}: transaction ${hash} reverted`);
  return receipt;
}

function eventArg<T>(
  receipt: { logs: readonly { data: Hex; topics: readonly Hex[] }[] },
  eventName: string,
  field: string,
): T {
  for (const log of receipt.logs) {
    try {
      const ev = decodeEventLog({
        abi: confideAbi,
        data: log.data,
        topics: log.topics as [Hex, ...Hex[]],
      });
      if (ev.eventName === eventName) return (ev.args as Record<string, unknown>)[field] as T;
    } catch {
      // not one of ours
    }
  }
  throw new ChainError('CHAIN_TX_FAILED', `${eventName} not found in receipt`);
}

// ─── nodes ───

export async function registerNode(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  nodeKey: Uint8Array,
  deposit: bigint,
) {
  const pubkey = compressedPublicKey(nodeKey);
  const nodeId = keyAddress(pubkey);
  const digest = await pub.readContract({
    address,
    abi: confideAbi,
    functionName: 'registrationDigest',
    args: [wallet.account.address, nodeId],
  });
  const receipt = await send(
    wallet,
    pub,
    address,
    'registerNode',
    [pubkey, signDigest(nodeKey, digest)],
    deposit,
  );
  return { nodeId, pubkey, receipt };
}

/**
 * The mesh's hook: is `pubkey` (33-byte compressed, hex or bytes) the current key of an active node?
 * Malformed keys are simply not registered.
 */
export async function isRegisteredNode(
  pub: PublicClient,
  address: Address,
  pubkey: Hex | Uint8Array,
): Promise<boolean> {
  let addr: Address;
  try {
    addr = keyAddress(pubkey);
  } catch {
    return false;
  }
  return pub.readContract({
    address,
    abi: confideAbi,
    functionName: 'isActiveNodeKey',
    args: [addr],
  });
}

/**
 * `isRegisteredNode` shaped for the mesh (`MeshOptions.isRegisteredNode`): takes the peer's key as
 * hex (with or without 0x) and caches answers for `ttlMs` so a reconnect storm does not flood the
 * RPC. A key that stops being registered (left, slashed, rotated) is refused after at most `ttlMs`.
 */
export function registeredNodeHook(
  pub: PublicClient,
  address: Address,
  opts: { ttlMs?: number; now?: () => number } = {},
): (publicKeyHex: string) => Promise<boolean> {
  const ttl = opts.ttlMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { ok: boolean; at: number }>();
  return async (publicKeyHex: string) => {
    const hex = publicKeyHex.toLowerCase().replace(/^0x/, '');
    if (!/^[0-9a-f]{66}$/.test(hex)) return false;
    const hit = cache.get(hex);
    if (hit && now() - hit.at < ttl) return hit.ok;
    const ok = await isRegisteredNode(pub, address, `0x${hex}`);
    if (cache.size > 10_000) cache.clear();
    cache.set(hex, { ok, at: now() });
    return ok;
  };
}

/** A node of the registry: its id (key address), current key (compressed, hex without 0x). */
export interface RegistryNode {
  nodeId: Address;
  key: string;
  /** Status Active: eligible for committees (not leaving, exited or slashed). */
  active: boolean;
}

/** Every node ever registered, with its current key (registration and key-update events). */
export async function nodeRegistry(pub: PublicClient, address: Address): Promise<RegistryNode[]> {
  const logs = await pub.getContractEvents({ address, abi: confideAbi, fromBlock: 0n });
  const keys = new Map<string, string>();
  for (const l of logs) {
    const a = l.args as Record<string, unknown>;
    if (l.eventName === 'NodeRegistered' || l.eventName === 'NodeKeyUpdated')
      keys.set(String(a.nodeId).toLowerCase(), String(a.pubkey).replace(/^0x/, '').toLowerCase());
  }
  return Promise.all(
    [...keys].map(async ([nodeId, key]) => {
      const n = await pub.readContract({
        address,
        abi: confideAbi,
        functionName: 'getNode',
        args: [nodeId as Address],
      });
      return { nodeId: nodeId as Address, key, active: n.status === 1 };
    }),
  );
}

// ─── datasets ───

export interface DatasetSpec {
  /** The dataset id is sha256("confide/dataset/v1" ‖ owner ‖ utf8(salt)), see `datasetIdFor`. */
  salt: string;
  schemaHash: Hex;
  rowCount: number;
  threshold: number;
  /** Node ids in member order (member i holds the shares at x = i + 1); distinct. */
  committee: readonly Address[];
  /** One Merkle root per member, in member order. */
  partitionRoots: readonly Hex[];
}

/** sha256("confide/dataset/v1" ‖ owner (20 bytes) ‖ utf8(salt)) — same as the contract and storage. */
export function datasetIdFor(owner: Address, salt: string): Hex {
  const tag = new TextEncoder().encode('confide/dataset/v1');
  const saltBytes = new TextEncoder().encode(salt);
  const buf = new Uint8Array(tag.length + 20 + saltBytes.length);
  buf.set(tag, 0);
  buf.set(hexToBytes(owner), tag.length);
  buf.set(saltBytes, tag.length + 20);
  return bytesToHex(sha256(buf));
}

export async function registerDataset(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  spec: DatasetSpec,
) {
  if (spec.committee.length !== spec.partitionRoots.length) {
    throw new ChainError(
      'CHAIN_BAD_INPUT',
      `registerDataset: ${spec.committee.length} members but ${spec.partitionRoots.length} roots`,
    );
  }
  const receipt = await send(wallet, pub, address, 'registerDataset', [
    stringToHex(spec.salt),
    spec.schemaHash,
    spec.rowCount,
    spec.threshold,
    spec.committee,
    spec.partitionRoots,
  ]);
  return { datasetId: eventArg<Hex>(receipt, 'DatasetRegistered', 'datasetId'), receipt };
}

/** A dataset version's members as the contract takes them (committee + hash of partition roots). */
export interface Members {
  committee: readonly Address[];
  partitionsHash: Hex;
}

/** keccak256(abi.encodePacked(bytes32[])) — the contract's hash of the partition roots. */
export function packedRootsHash(roots: readonly Hex[]): Hex {
  return keccak256(`0x${roots.map((r) => r.slice(2)).join('')}`);
}

export function members(committee: readonly Address[], roots: readonly Hex[]): Members {
  return { committee, partitionsHash: packedRootsHash(roots) };
}

/** keccak256(abi.encode(keccak256(abi.encodePacked(committee)), partitionsHash)) — `membersHashAt`. */
export function membersHash(m: Members): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }],
      [packedAddressesHash(m.committee), m.partitionsHash],
    ),
  );
}

/** Latest committee, partition roots, threshold and version of a dataset, read from its events. */
export async function datasetCommittee(
  pub: PublicClient,
  address: Address,
  datasetId: Hex,
  fromBlock = 0n,
) {
  const reg = await pub.getContractEvents({
    address,
    abi: confideAbi,
    eventName: 'DatasetRegistered',
    args: { datasetId },
    fromBlock,
  });
  if (reg.length === 0)
    throw new ChainError(
      'CHAIN_BAD_INPUT',
      `datasetCommittee: dataset ${datasetId} not registered`,
    );
  const first = reg[0]!.args;
  let cur = {
    version: 1,
    threshold: first.threshold!,
    committee: [...first.committee!],
    partitionRoots: [...first.partitionRoots!],
  };
  const re = await pub.getContractEvents({
    address,
    abi: confideAbi,
    eventName: 'DatasetReshared',
    args: { datasetId },
    fromBlock,
  });
  for (const e of re) {
    if (e.args.version! > cur.version) {
      cur = {
        version: e.args.version!,
        threshold: e.args.threshold!,
        committee: [...e.args.committee!],
        partitionRoots: [...e.args.partitionRoots!],
      };
    }
  }
  return cur;
}

/** The digest t+1 current members sign to move a dataset to a new committee without its owner. */
export async function reshareDigest(
  pub: PublicClient,
  address: Address,
  r: {
    datasetId: Hex;
    fromVersion: number;
    threshold: number;
    committee: readonly Address[];
    roots: readonly Hex[];
  },
): Promise<Hex> {
  return pub.readContract({
    address,
    abi: confideAbi,
    functionName: 'reshareDigest',
    args: [r.datasetId, r.fromVersion, r.threshold, [...r.committee], [...r.roots]],
  });
}

/**
 * Records a re-share on chain, approved by current members: `signatures[k]` is the signature of
 * current member `signerIndexes[k]` (increasing, at least t+1) over `reshareDigest`.
 */
export async function reshareByMembers(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  r: {
    datasetId: Hex;
    threshold: number;
    committee: readonly Address[];
    roots: readonly Hex[];
    current: Members;
    signerIndexes: readonly number[];
    signatures: readonly Hex[];
  },
) {
  return send(wallet, pub, address, 'reshare', [
    r.datasetId,
    r.threshold,
    [...r.committee],
    [...r.roots],
    { members: r.current, signerIndexes: [...r.signerIndexes], signatures: [...r.signatures] },
  ]);
}

// ─── grants ───

export interface GrantPolicy {
  kinds: readonly QueryKindName[];
  minCohort: number;
  budget: number;
  /** Unix seconds. */
  expiry: bigint;
}

export async function grantAccess(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  datasetId: Hex,
  researcher: Address,
  p: GrantPolicy,
) {
  return send(wallet, pub, address, 'grant', [
    datasetId,
    researcher,
    kindsMask(p.kinds),
    p.minCohort,
    p.budget,
    p.expiry,
  ]);
}

export async function revokeAccess(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  datasetId: Hex,
  researcher: Address,
) {
  return send(wallet, pub, address, 'revoke', [datasetId, researcher]);
}

// ─── queries ───

/**
 * The on-chain query hash: sha256 of the canonical query text, as the query layer computes it
 * (`queryHash` in src/query), as 0x-hex.
 */
export function chainQueryHash(hexSha256: string): Hex {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hexSha256)) {
    throw new ChainError(
      'CHAIN_BAD_INPUT',
      `chainQueryHash: expected 32 bytes of hex, got ${JSON.stringify(hexSha256)}`,
    );
  }
  return (hexSha256.startsWith('0x') ? hexSha256 : `0x${hexSha256}`).toLowerCase() as Hex;
}

export async function requestQuery(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  r: { datasetId: Hex; queryHash: Hex; kinds: readonly string[]; encKey: Hex; fee: bigint },
) {
  const receipt = await send(
    wallet,
    pub,
    address,
    'requestQuery',
    [r.datasetId, r.queryHash, kindsMask(r.kinds), r.encKey],
    r.fee,
  );
  return { queryId: eventArg<bigint>(receipt, 'QueryRequested', 'queryId'), receipt };
}

/** Commitment a node posts for its result share: keccak256 of the exact share bytes it will sign. */
export function shareCommitment(share: Uint8Array): Hex {
  return keccak256(share);
}

/**
 * Upper bound on the gas `_complete` adds to the post that completes a query: 2.4k measured without
 * a fee remainder, about 25k when the remainder is credited to a fresh balance slot.
 */
export const POST_COMPLETION_GAS = 60_000n;

export async function postResult(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  r: { queryId: bigint; members: Members; index: number; commitment: Hex },
) {
  // Members post concurrently: a post estimated while others were missing may be the last to land
  // and then also complete the query (status, the fee's remainder credited, an event).
  return send(
    wallet,
    pub,
    address,
    'postResult',
    [r.queryId, r.members, r.index, r.commitment],
    undefined,
    POST_COMPLETION_GAS,
  );
}

/** What a node earned: fees it may claim now, fees claimed, and its operator's withdrawable credit. */
export interface NodeEarnings {
  /** Completed queries this node posted a result share for and whose fee share is unclaimed. */
  claimable: { queryId: bigint; amount: bigint }[];
  claimableTotal: bigint;
  /** Fee shares already credited to the operator. */
  claimed: bigint;
  operator: Address;
  /** The operator's credit in the contract (fees, refunds, exits), pulled with `withdraw`. */
  credit: bigint;
}

export async function nodeEarnings(
  pub: PublicClient,
  address: Address,
  nodeId: Address,
): Promise<NodeEarnings> {
  const [posted, claims, node] = await Promise.all([
    pub.getContractEvents({
      address,
      abi: confideAbi,
      eventName: 'ResultPosted',
      args: { nodeId },
      fromBlock: 0n,
    }),
    pub.getContractEvents({
      address,
      abi: confideAbi,
      eventName: 'FeeClaimed',
      args: { nodeId },
      fromBlock: 0n,
    }),
    pub.readContract({ address, abi: confideAbi, functionName: 'getNode', args: [nodeId] }),
  ]);
  const claimedIds = new Set(claims.map((e) => e.args.queryId!));
  const claimable: NodeEarnings['claimable'] = [];
  for (const queryId of new Set(posted.map((e) => e.args.queryId!))) {
    if (claimedIds.has(queryId)) continue;
    const q = await pub.readContract({
      address,
      abi: confideAbi,
      functionName: 'getQuery',
      args: [queryId],
    });
    if (q.status === 3 && q.postCount > 0)
      claimable.push({ queryId, amount: q.fee / BigInt(q.postCount) });
  }
  const credit = await pub.readContract({
    address,
    abi: confideAbi,
    functionName: 'credits',
    args: [node.operator],
  });
  return {
    claimable,
    claimableTotal: claimable.reduce((a, c) => a + c.amount, 0n),
    claimed: claims.reduce((a, e) => a + e.args.amount!, 0n),
    operator: node.operator,
    credit,
  };
}

/** Credits this node's fee shares of `queryIds` to its operator (anyone may send; one tx each). */
export async function claimFees(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  nodeId: Address,
  queryIds: readonly bigint[],
) {
  for (const q of queryIds) await send(wallet, pub, address, 'claimFee', [q, nodeId]);
}

/** Starts a node's exit (sent by its operator or its own key): no new committees pick it. */
export async function requestNodeLeave(
  wallet: ConfideWallet,
  pub: PublicClient,
  address: Address,
  nodeId: Address,
) {
  return send(wallet, pub, address, 'requestLeave', [nodeId]);
}

export async function withdraw(wallet: ConfideWallet, pub: PublicClient, address: Address) {
  return send(wallet, pub, address, 'withdraw', []);
}

/** Why a node may not compute (see `authorisation` in Confide.sol), or `ok`. */
export type AuthorisationResult =
  | {
      ok: true;
      queryId: bigint;
      datasetId: Hex;
      /** The dataset version whose committee serves: the query's, or the current one after a re-share. */
      version: number;
      researcher: Address;
      /** Query kinds the researcher declared (a subset of the grant's). */
      kinds: QueryKind[];
      /** Researcher's compressed result-encryption key (33 bytes). */
      encKey: Hex;
      fee: bigint;
      deadline: bigint;
      /** The grant's policy for the query layer, plus its expiry. */
      policy: Policy & { expiry: bigint };
    }
  | {
      ok: false;
      code:
        | 'UNKNOWN_QUERY'
        | 'NOT_OPEN'
        | 'DEADLINE_PASSED'
        | 'GRANT_INVALID'
        | 'QUERY_HASH_MISMATCH'
        | 'NOT_IN_COMMITTEE'
        | 'KIND_NOT_DECLARED'
        | 'FEE_TOO_LOW';
      message: string;
    };

const AUTH_CODES = ['UNKNOWN_QUERY', 'NOT_OPEN', 'DEADLINE_PASSED', 'GRANT_INVALID'] as const;

/**
 * What a node calls before computing: the query exists and is open, its deadline has not passed, its
 * grant is still valid if it has not started (not revoked, re-issued or expired; the budget was
 * charged when it was requested), its fee was paid (≥ the minimum), the text the node was given hashes
 * to the on-chain query hash, (if given) the node is in the committee of the query's dataset version,
 * and (if given) every kind the node's checked query uses was declared on chain (hence granted).
 */
export async function isQueryAuthorised(
  pub: PublicClient,
  address: Address,
  r: {
    queryId: bigint;
    queryHash: Hex;
    nodeId?: Address;
    members?: Members;
    kinds?: readonly string[];
  },
): Promise<AuthorisationResult> {
  const [code, q, minFee] = await Promise.all([
    pub.readContract({
      address,
      abi: confideAbi,
      functionName: 'authorisation',
      args: [r.queryId],
    }),
    pub.readContract({ address, abi: confideAbi, functionName: 'getQuery', args: [r.queryId] }),
    pub.readContract({ address, abi: confideAbi, functionName: 'minFee' }),
  ]);
  if (code !== 0) {
    const c = AUTH_CODES[code - 1] ?? 'NOT_OPEN';
    return {
      ok: false,
      code: c,
      message: `query ${r.queryId}: ${c.toLowerCase().replace(/_/g, ' ')}`,
    };
  }
  if (q.fee < minFee)
    return {
      ok: false,
      code: 'FEE_TOO_LOW',
      message: `query ${r.queryId}: fee ${q.fee} below ${minFee}`,
    };
  if (q.queryHash.toLowerCase() !== r.queryHash.toLowerCase()) {
    return {
      ok: false,
      code: 'QUERY_HASH_MISMATCH',
      message: `query ${r.queryId}: the query text does not match the hash on chain`,
    };
  }
  // The committee that serves: the query's version's, or the dataset's current one when the data
  // was re-shared since (a member left mid-query; the contract accepts posts from either).
  let version = q.version;
  if (r.nodeId !== undefined) {
    const inCommittee = async (v: number, given?: Members) => {
      const m = given ?? (await membersAt(pub, address, q.datasetId, v));
      const hash = await pub.readContract({
        address,
        abi: confideAbi,
        functionName: 'membersHashAt',
        args: [q.datasetId, v],
      });
      return (
        membersHash(m) === hash &&
        m.committee.some((a) => a.toLowerCase() === r.nodeId!.toLowerCase())
      );
    };
    // A re-shared dataset's current committee serves first: its members hold the current shares.
    const d = await pub.readContract({
      address,
      abi: confideAbi,
      functionName: 'getDataset',
      args: [q.datasetId],
    });
    if (d.version !== q.version && (await inCommittee(d.version, r.members))) version = d.version;
    else if (!(await inCommittee(q.version, r.members))) {
      return {
        ok: false,
        code: 'NOT_IN_COMMITTEE',
        message: `query ${r.queryId}: node ${r.nodeId} is not in the committee of dataset ${q.datasetId} v${q.version}${d.version !== q.version ? ` or v${d.version}` : ''}`,
      };
    }
  }
  if (r.kinds !== undefined) {
    const used = kindsMask(r.kinds);
    if ((used & ~q.kinds) !== 0) {
      return {
        ok: false,
        code: 'KIND_NOT_DECLARED',
        message: `query ${r.queryId}: uses ${kindsOf(used & ~q.kinds).join(', ')}, not declared on chain (declared: ${kindsOf(q.kinds).join(', ')})`,
      };
    }
  }
  const g = await pub.readContract({
    address,
    abi: confideAbi,
    functionName: 'getGrant',
    args: [q.datasetId, q.researcher],
  });
  return {
    ok: true,
    queryId: r.queryId,
    datasetId: q.datasetId,
    version,
    researcher: q.researcher,
    kinds: kindsOf(q.kinds),
    encKey: `0x${q.encKeyPrefix.toString(16).padStart(2, '0')}${q.encKeyX.slice(2)}`,
    fee: q.fee,
    deadline: q.deadline,
    policy: { ...grantPolicy(g), expiry: g.expiry },
  };
}

/** The members of a dataset version, read from its events. */
export async function membersAt(
  pub: PublicClient,
  address: Address,
  datasetId: Hex,
  version: number,
): Promise<Members> {
  if (version === 1) {
    const reg = await pub.getContractEvents({
      address,
      abi: confideAbi,
      eventName: 'DatasetRegistered',
      args: { datasetId },
      fromBlock: 0n,
    });
    return members([...(reg[0]?.args.committee ?? [])], [...(reg[0]?.args.partitionRoots ?? [])]);
  }
  const re = await pub.getContractEvents({
    address,
    abi: confideAbi,
    eventName: 'DatasetReshared',
    args: { datasetId },
    fromBlock: 0n,
  });
  const e = re.find((x) => x.args.version === version);
  return members([...(e?.args.committee ?? [])], [...(e?.args.partitionRoots ?? [])]);
}

/** keccak256(abi.encodePacked(address[])) — how the contract commits to a committee. */
export function packedAddressesHash(committee: readonly Address[]): Hex {
  const hex = committee.map((a) => a.slice(2).toLowerCase().padStart(64, '0')).join('');
  return keccak256(`0x${hex}`);
}

/** Digest of a signed protocol message (what the mesh signs, what equivocation evidence carries). */
export function opDigest(
  chainId: bigint,
  address: Address,
  m: { datasetId: Hex; version: number; session: Hex; opId: Hex; payloadHash: Hex },
): Hex {
  const OP_TAG = keccak256(new TextEncoder().encode('Confide.op.v1'));
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint256' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'uint32' },
        { type: 'bytes32' },
        { type: 'bytes32' },
        { type: 'bytes32' },
      ],
      [OP_TAG, chainId, address, m.datasetId, m.version, m.session, m.opId, m.payloadHash],
    ),
  );
}

/** Digest a node signs over its result share for `queryId` (its hash must equal its posted commitment). */
export function shareDigest(
  chainId: bigint,
  address: Address,
  queryId: bigint,
  shareHash: Hex,
): Hex {
  const SHARE_TAG = keccak256(new TextEncoder().encode('Confide.resultShare.v1'));
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint256' },
        { type: 'address' },
        { type: 'uint256' },
        { type: 'bytes32' },
      ],
      [SHARE_TAG, chainId, address, queryId, shareHash],
    ),
  );
}

/** The audit log a dashboard shows: every event touching a dataset, oldest first. */
export async function readAuditLog(pub: PublicClient, address: Address, fromBlock = 0n) {
  const logs = await pub.getContractEvents({ address, abi: confideAbi, fromBlock });
  return logs.map((l) => ({
    eventName: l.eventName,
    args: l.args as Record<string, unknown>,
    blockNumber: l.blockNumber,
    txHash: l.transactionHash,
  }));
}
