/**
 * `createClient`: the hospital / researcher tab's side of the network. Joins the mesh as a client
 * with a fresh key (it is never a committee member: committees are chosen among nodes registered on
 * chain), reads the chain, and implements `ConfideClient` (see ./api.ts).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Address, Hex, PublicClient } from 'viem';
import type { ChainConfig } from '../chain/config';
import {
  chainQueryHash,
  confideAbi,
  nodeRegistry,
  datasetIdFor,
  grantPolicy,
  registerDataset,
  requestQuery,
  type ConfideWallet,
} from '../chain/confide';
import { keyAddress } from '../chain/keys';
import { Coord } from '../coord/coord';
import { meshCoordNetwork } from '../coord/mesh-network';
import { randomIdentity } from '../net/identity';
import { configFromEnvironment } from '../node/runtime';
import { Mesh } from '../net/mesh';
import { openAnswer } from '../query/answer';
import { checkQuery } from '../query/check';
import { parse } from '../query/parser';
import { enforcePolicy } from '../query/policy';
import type { DatasetSchema } from '../query/schema';
import { nodeIdFromPublicKey, selectCommittee, type DirectoryEntry } from '../storage/placement';
import type { Receipt } from '../storage/receipt';
import type { AcceptedDataset } from '../storage/schema';
import { collectReceipts, type UploadTarget } from '../storage/upload';
import { createUploadWorker } from '../storage/upload-client';
import {
  AppError,
  type CommitteeHealth,
  type ConfideClient,
  type DatasetInfo,
  type NodeInfo,
  type QueryOutcome,
  type QueryProgress,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
} from './api';
import {
  decodeMessage,
  encodeMessage,
  newRequestId,
  queryTextsMessage,
  resizeMessage,
  MAX_TEXTS_PER_REQUEST,
  SERVICE_CHANNEL,
  type ServiceHeader,
  type ServiceMessage,
} from './protocol';
import { parsePublishedSchema, publishedSchema, publishedSchemaHash, bitSpecs } from './schema';

export interface ClientOptions {
  chain: {
    cfg: ChainConfig;
    pub: PublicClient;
    account: Address;
    wallet(): Promise<ConfideWallet>;
  };
  /** Defaults to the page's configuration (query string, then VITE_* variables). */
  mesh?: { signalingUrl: string; room: string; iceServers?: RTCIceServer[] };
  /** How long to wait for nodes to connect at start (ms, default 10 s). */
  connectTimeoutMs?: number;
}

interface Pending {
  to: string;
  resolve: (m: ServiceMessage) => void;
  reject: (e: Error) => void;
  onStatus?: (m: ServiceMessage) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface RegistryEntry {
  nodeId: Address;
  key: string;
  active: boolean;
}

const hex0 = (h: string) => h.replace(/^0x/, '').toLowerCase();

export async function createClient(opts: ClientOptions): Promise<ConfideClient> {
  const c = new Client(opts);
  await c.start();
  return c;
}

class Client implements ConfideClient {
  readonly key: string;
  readonly coord: Coord;
  private readonly mesh: Mesh;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<() => void>();
  private registry = new Map<string, RegistryEntry>();
  private readonly schemas = new Map<string, DatasetSchema>();
  private closed = false;

  constructor(private readonly o: ClientOptions) {
    const identity = randomIdentity();
    this.key = identity.id;
    const net = o.mesh ?? configFromEnvironment();
    this.mesh = new Mesh({
      signalingUrl: net.signalingUrl,
      room: net.room,
      identity,
      iceServers: net.iceServers ?? [],
    });
    this.coord = new Coord({ net: meshCoordNetwork(this.mesh) });
  }

  async start() {
    this.mesh.listen(SERVICE_CHANNEL, (from, bytes) => this.onMessage(from, bytes));
    this.mesh.on((e) => {
      if (e.type === 'peer-down')
        for (const [req, p] of this.pending)
          if (p.to === e.key) {
            clearTimeout(p.timer);
            this.pending.delete(req);
            p.reject(new AppError('TIMEOUT', `node ${e.key.slice(0, 12)}… left before answering`));
          }
      this.changed();
    });
    this.coord.onChange(() => this.changed());
    await this.coord.start();
    await this.mesh.start();
    await this.refreshRegistry();
    // Give the mesh a moment to connect to the registered nodes before the first request.
    const keys = [...this.registry.values()].filter((r) => r.active).map((r) => r.key);
    if (keys.length)
      await this.mesh.waitForPeers(keys, this.o.connectTimeoutMs ?? 10_000).catch(() => undefined);
    this.changed();
  }

  onChange(l: () => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  private changed() {
    for (const l of this.listeners) l();
  }

  close() {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new AppError('TIMEOUT', 'client closed'));
    }
    this.pending.clear();
    this.coord.destroy();
    this.mesh.close();
  }

  // ─── chain reads ───

  private get pub() {
    return this.o.chain.pub;
  }
  private get address() {
    return this.o.chain.cfg.confide;
  }

  /** Node keys from registration / key-update events; activity from the node records. */
  async refreshRegistry() {
    const next = new Map<string, RegistryEntry>();
    for (const n of await nodeRegistry(this.pub, this.address)) next.set(n.nodeId, n);
    this.registry = next;
    this.changed();
  }

  nodes(): NodeInfo[] {
    return [...this.registry.values()].map((r) => ({
      nodeId: r.nodeId,
      key: r.key,
      registered: r.active,
      online: this.mesh.isUp(r.key),
    }));
  }

  private keyOf(nodeId: string): string {
    const r = this.registry.get(nodeId.toLowerCase());
    if (!r)
      throw new AppError(
        'NO_NODES',
        `node ${nodeId} is not in the registry`,
        'Wait for the node to register, or reload the page.',
      );
    return r.key;
  }

  async datasets(): Promise<DatasetInfo[]> {
    const reg = await this.pub.getContractEvents({
      address: this.address,
      abi: confideAbi,
      eventName: 'DatasetRegistered',
      fromBlock: 0n,
    });
    const re = await this.pub.getContractEvents({
      address: this.address,
      abi: confideAbi,
      eventName: 'DatasetReshared',
      fromBlock: 0n,
    });
    return reg.map((e) => {
      const a = e.args;
      const id = a.datasetId!;
      const last = re.filter((r) => r.args.datasetId === id).at(-1)?.args;
      return {
        datasetId: id,
        owner: a.owner!,
        name: this.schemas.get(hex0(id))?.name ?? `${id.slice(0, 10)}…`,
        rowCount: Number(a.rowCount),
        threshold: last?.threshold ?? a.threshold!,
        version: last?.version ?? 1,
        committee: [...(last?.committee ?? a.committee ?? [])],
        schemaHash: a.schemaHash!,
        registeredAt: e.blockNumber,
      };
    });
  }

  private async dataset(datasetId: Hex): Promise<DatasetInfo> {
    const d = (await this.datasets()).find(
      (x) => x.datasetId.toLowerCase() === datasetId.toLowerCase(),
    );
    if (!d)
      throw new AppError(
        'SCHEMA_UNAVAILABLE',
        `dataset ${datasetId} is not registered on chain`,
        'Check the dataset id; the owner may not have finished the upload.',
      );
    return d;
  }

  async schema(datasetId: Hex): Promise<DatasetSchema> {
    const cached = this.schemas.get(hex0(datasetId));
    if (cached) return cached;
    const d = await this.dataset(datasetId);
    const problems: string[] = [];
    for (const nodeId of d.committee) {
      let key: string;
      try {
        key = this.keyOf(nodeId);
      } catch {
        await this.refreshRegistry();
        if (!this.registry.has(nodeId.toLowerCase())) continue;
        key = this.keyOf(nodeId);
      }
      if (!this.mesh.isUp(key)) {
        problems.push(`${nodeId.slice(0, 10)}… offline`);
        continue;
      }
      try {
        const m = await this.request(
          key,
          { t: 'schema', req: newRequestId(), datasetId: hex0(datasetId) },
          undefined,
          15_000,
        );
        if (m.header.t !== 'schema-reply') throw new Error(errorOf(m));
        const s = parsePublishedSchema(m.header.schema, d.schemaHash);
        this.schemas.set(hex0(datasetId), s);
        this.changed();
        return s;
      } catch (e) {
        problems.push(`${nodeId.slice(0, 10)}…: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw new AppError(
      'SCHEMA_UNAVAILABLE',
      `no committee member of ${datasetId.slice(0, 10)}… returned its schema (${problems.join('; ') || 'none online'})`,
      'The nodes holding this dataset may be offline; try again in a minute.',
    );
  }

  async policy(datasetId: Hex) {
    const g = await this.pub.readContract({
      address: this.address,
      abi: confideAbi,
      functionName: 'getGrant',
      args: [datasetId, this.o.chain.account],
    });
    if (!g.active) return undefined;
    return { ...grantPolicy(g), expiry: g.expiry, budget: Number(g.budget) };
  }

  // ─── messaging ───

  private onMessage(from: string, bytes: Uint8Array) {
    let m: ServiceMessage;
    try {
      m = decodeMessage(bytes);
    } catch {
      return; // a malformed reply is dropped; the request times out with a clear error
    }
    const p = this.pending.get(m.header.req);
    if (!p || p.to !== from) return; // not ours, or from a node we did not ask: ignored
    if (m.header.t === 'query-status' && m.header.state === 'computing') {
      p.onStatus?.(m);
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(m.header.req);
    p.resolve(m);
  }

  /**
   * A bodiless request to one committee member (15 s) whose failure — unreachable, timed out — is
   * noted in `problems` instead of thrown, for the loops that ask member after member.
   */
  private requestNoting(
    to: string,
    header: ServiceHeader,
    problems: string[],
  ): Promise<ServiceMessage | undefined> {
    return this.request(to, header, undefined, 15_000).catch((e: unknown) => {
      problems.push(e instanceof Error ? e.message : String(e));
      return undefined;
    });
  }

  private request(
    to: string,
    header: ServiceHeader,
    body: Uint8Array | undefined,
    timeoutMs: number,
    onStatus?: (m: ServiceMessage) => void,
  ): Promise<ServiceMessage> {
    if (this.closed) return Promise.reject(new AppError('TIMEOUT', 'client closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(header.req);
        reject(
          new AppError(
            'TIMEOUT',
            `node ${to.slice(0, 12)}… did not answer ${header.t} within ${Math.round(timeoutMs / 1000)} s`,
          ),
        );
      }, timeoutMs);
      this.pending.set(header.req, {
        to,
        resolve,
        reject,
        timer,
        ...(onStatus ? { onStatus } : {}),
      });
      try {
        this.mesh.send(to, SERVICE_CHANNEL, encodeMessage(header, body));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(header.req);
        reject(
          new AppError(
            'TIMEOUT',
            `cannot reach node ${to.slice(0, 12)}…: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
      }
    });
  }

  // ─── hospital ───

  async upload(
    data: AcceptedDataset,
    opts: UploadOptions,
    onProgress: (p: UploadProgress) => void = () => undefined,
  ): Promise<UploadResult> {
    const t0 = performance.now();
    onProgress({ phase: 'committee', fraction: 0, message: 'choosing the committee' });
    await this.refreshRegistry();
    const online = this.nodes().filter((n) => n.registered && n.online);
    const c = opts.committeeSize ?? Math.min(5, online.length);
    const t = opts.threshold ?? Math.floor((c - 1) / 2);
    if (online.length < 3 || c < 3 || online.length < c)
      throw new AppError(
        'NOT_ENOUGH_NODES',
        `a committee of ${Math.max(3, c)} needs as many registered nodes online; ${online.length} are`,
        'Wait for more compute nodes to come online, or choose a smaller committee.',
      );
    if (!(t >= 1 && 2 * t < c))
      throw new AppError('UPLOAD_FAILED', `threshold ${t} must satisfy 1 ≤ t < c/2 (c = ${c})`);
    const salt = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    const datasetId = datasetIdFor(this.o.chain.account, salt);
    const byPlacementId = new Map<string, NodeInfo>();
    const directory: DirectoryEntry[] = online.map((n) => {
      const id = nodeIdFromPublicKey(hexBytes(n.key));
      byPlacementId.set(id, n);
      return { id, publicKey: hexBytes(n.key), registered: true, online: true };
    });
    const committee = selectCommittee(hex0(datasetId), directory, { c, t }).members.map((id) =>
      byPlacementId.get(id)!,
    );
    const schema = publishedSchema(data, opts.name);
    const meta = {
      name: opts.name.slice(0, 200),
      schema: JSON.stringify(schema),
      threshold: t,
      committee: committee.map((n) => n.key).join(','),
    };
    const target: UploadTarget = {
      datasetId: hex0(datasetId),
      version: 1,
      t,
      members: committee.map((n, j) => ({ memberIndex: j, publicKey: hexBytes(n.key) })),
    };
    const worker = createUploadWorker();
    let sealed;
    try {
      // Small-range columns also go out bit-decomposed, so comparisons on them take the cheap
      // bit network (bitSpecs: which columns; the worker decomposes beside the plaintext).
      sealed = await worker.shareAndSeal(
        data,
        target,
        (p) =>
          onProgress({
            phase: p.phase === 'send' ? 'send' : p.phase,
            fraction: (p.phase === 'share' ? 0.05 : 0.3) + (0.25 * p.done) / Math.max(1, p.total),
            message: `${p.phase === 'share' ? 'secret-sharing column' : 'sealing bundle'} ${p.done} of ${p.total}`,
          }),
        bitSpecs(schema),
      );
    } finally {
      worker.terminate();
    }
    onProgress({
      phase: 'send',
      fraction: 0.55,
      message: `sending each of ${sealed.length} committee members its sealed shares`,
    });
    let sent = 0;
    const receipts: Receipt[] = await Promise.all(
      sealed.map(async (s) => {
        const key = committee[s.memberIndex]!.key;
        const m = await this.request(
          key,
          {
            t: 'upload',
            req: newRequestId(),
            datasetId: hex0(datasetId),
            version: 1,
            memberIndex: s.memberIndex,
            meta,
          },
          s.sealed,
          120_000,
        );
        if (m.header.t !== 'receipt')
          throw new AppError(
            'UPLOAD_FAILED',
            `member ${s.memberIndex} did not store its shares: ${errorOf(m)}`,
          );
        sent++;
        onProgress({
          phase: 'send',
          fraction: 0.55 + (0.3 * sent) / sealed.length,
          message: `stored by ${sent} of ${sealed.length} committee members`,
        });
        return m.header.receipt;
      }),
    );
    let roots: string[];
    try {
      roots = collectReceipts(target, receipts);
    } catch (e) {
      throw new AppError('RECEIPT_INVALID', e instanceof Error ? e.message : String(e));
    }
    onProgress({ phase: 'register', fraction: 0.88, message: 'registering the dataset on chain' });
    const wallet = await this.o.chain.wallet();
    const reg = await registerDataset(wallet, this.pub, this.address, {
      salt,
      schemaHash: publishedSchemaHash(schema),
      rowCount: data.acceptedRows,
      threshold: t,
      committee: committee.map((n) => keyAddress(`0x${n.key}`)),
      partitionRoots: roots.map((r) => `0x${hex0(r)}` as Hex),
    });
    this.schemas.set(hex0(datasetId), schema);
    const seconds = (performance.now() - t0) / 1000;
    onProgress({ phase: 'done', fraction: 1, message: `registered in ${seconds.toFixed(1)} s` });
    this.changed();
    return {
      datasetId: reg.datasetId,
      committee: committee.map((n) => n.nodeId),
      roots: roots.map((r) => `0x${hex0(r)}` as Hex),
      txHash: reg.receipt.transactionHash,
      seconds,
    };
  }

  async health(datasetId: Hex): Promise<CommitteeHealth> {
    const d = await this.dataset(datasetId);
    const roots = await this.pub.getContractEvents({
      address: this.address,
      abi: confideAbi,
      eventName: d.version === 1 ? 'DatasetRegistered' : 'DatasetReshared',
      args: { datasetId },
      fromBlock: 0n,
    });
    const ev = roots.at(-1);
    const chainRoots = (
      (ev?.args as { partitionRoots?: readonly Hex[] } | undefined)?.partitionRoots ?? []
    ).map(hex0);
    const members = await Promise.all(
      d.committee.map(async (nodeId, j) => {
        const key = this.registry.get(nodeId.toLowerCase())?.key;
        if (!key || !this.mesh.isUp(key)) return { nodeId, online: false, verified: undefined };
        try {
          const m = await this.request(
            key,
            { t: 'probe', req: newRequestId(), datasetId: hex0(datasetId) },
            undefined,
            15_000,
          );
          if (m.header.t !== 'probe-reply')
            return { nodeId, online: true, verified: false, detail: errorOf(m) };
          const ok =
            m.header.intact && m.header.root === chainRoots[j] && m.header.version === d.version;
          return {
            nodeId,
            online: true,
            verified: ok,
            ...(ok
              ? {}
              : {
                  detail:
                    m.header.detail ??
                    `partition root differs from the chain's (version ${m.header.version})`,
                }),
          };
        } catch (e) {
          return {
            nodeId,
            online: true,
            verified: undefined,
            detail: e instanceof Error ? e.message : String(e),
          };
        }
      }),
    );
    return {
      datasetId,
      members,
      ...(d.version > 1 && ev
        ? { lastReshare: { version: d.version, block: ev.blockNumber } }
        : {}),
    };
  }

  // ─── researcher ───

  async submitQuery(
    datasetId: Hex,
    text: string,
    opts: { fee?: bigint; timeoutMs?: number; reshareWaitMs?: number } = {},
    onProgress: (p: QueryProgress) => void = () => undefined,
  ): Promise<QueryOutcome> {
    const t0 = performance.now();
    const d = await this.dataset(datasetId);
    const members: QueryProgress['members'] = d.committee.map((nodeId) => ({
      nodeId,
      state: 'waiting',
    }));
    const ids: { queryId?: bigint } = {};
    const report = (phase: QueryProgress['phase'], fraction: number, message: string) =>
      onProgress({
        phase,
        fraction,
        message,
        members: members.map((m) => ({ ...m })),
        ...(ids.queryId !== undefined ? { queryId: ids.queryId } : {}),
      });
    report('checking', 0, 'checking the query against the schema and your grant');
    const schema = { ...(await this.schema(datasetId)), id: datasetId };
    // Parse and type errors surface here as QueryError, with their position, before any payment.
    const checked = checkQuery(parse(text), schema);
    const grant = await this.policy(datasetId);
    if (!grant)
      throw new AppError(
        'NOT_GRANTED',
        `you have no active grant on ${schema.name}`,
        "Ask the dataset's owner for a grant; nothing was paid.",
      );
    if (grant.expiry !== 0n && grant.expiry * 1000n < BigInt(Date.now()))
      throw new AppError(
        'NOT_GRANTED',
        `your grant on ${schema.name} has expired`,
        'Ask the owner to renew it; nothing was paid.',
      );
    try {
      enforcePolicy(checked, grant);
    } catch (e) {
      throw new AppError(
        'REFUSED',
        e instanceof Error ? e.message : String(e),
        'Change the query to what the grant allows; nothing was paid.',
      );
    }
    const minFee = await this.pub.readContract({
      address: this.address,
      abi: confideAbi,
      functionName: 'minFee',
    });
    const fee = opts.fee ?? minFee;
    // A fresh result key per query, in this tab's memory only: only this tab can open the answer.
    const encSecret = secp256k1.utils.randomSecretKey();
    const encKey = `0x${bytesToHex(secp256k1.getPublicKey(encSecret, true))}` as Hex;
    report('paying', 0.1, `requesting the query on chain, paying ${fee} wei`);
    const wallet = await this.o.chain.wallet();
    const r = await requestQuery(wallet, this.pub, this.address, {
      datasetId,
      queryHash: chainQueryHash(checked.hash),
      kinds: checked.kinds,
      encKey,
      fee,
    });
    const queryId = r.queryId;
    ids.queryId = queryId;
    report('sending', 0.2, 'sending the query to the committee');
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let committee = d;
    let outcome = await this.askCommittee(committee, queryId, text, timeoutMs, members, report);
    // A member that left mid-query makes the committee abort; the others re-share its slot to a
    // new member and record the new committee on chain, which may answer the same paid query.
    for (
      let attempt = 0;
      attempt < 2 &&
      outcome.boxes.length < committee.threshold + 1 &&
      !outcome.refusals.length &&
      members.some((m) => m.state === 'gone');
      attempt++
    ) {
      const gone = members.flatMap((m, j) => (m.state === 'gone' ? [j + 1] : []));
      report(
        'resharing',
        0.3,
        `member ${gone.join(', ')} left; waiting for the committee to re-share its data to a new member`,
      );
      const next = await this.waitForReshare(
        datasetId,
        committee.version,
        opts.reshareWaitMs ?? 120_000,
      );
      if (!next) break;
      committee = next;
      members.length = 0;
      for (const nodeId of next.committee) members.push({ nodeId, state: 'waiting' });
      report(
        'sending',
        0.35,
        `re-shared as version ${next.version}; sending the query to the new committee`,
      );
      outcome = await this.askCommittee(committee, queryId, text, timeoutMs, members, report);
    }
    const { boxes, refusals, failures } = outcome;
    if (boxes.length < committee.threshold + 1) {
      if (refusals.length) {
        report('refused', 1, refusals[0]!);
        throw new AppError(
          'REFUSED',
          `the committee refused query ${queryId}: ${refusals[0]}`,
          refusalHint(refusals[0]!),
        );
      }
      report('failed', 1, failures[0] ?? 'no answer');
      throw new AppError(
        'QUERY_FAILED',
        `query ${queryId}: ${boxes.length} of ${committee.threshold + 1} needed result shares arrived (${failures.slice(0, 2).join('; ')})`,
        'Try again when the committee is back online; the fee is refunded after the deadline.',
      );
    }
    const result = openAnswer(
      { text, authorisedHash: checked.hash, schema, policy: grant },
      boxes,
      encSecret,
      committee.threshold,
    );
    encSecret.fill(0);
    const seconds = (performance.now() - t0) / 1000;
    report('done', 1, `answered in ${seconds.toFixed(1)} s`);
    return { queryId, datasetId, text, result, seconds };
  }

  async resizeCommittee(
    datasetId: Hex,
    size: number,
    onProgress: (message: string) => void = () => undefined,
    threshold?: number,
  ): Promise<DatasetInfo> {
    const d = await this.dataset(datasetId);
    const t = threshold ?? d.threshold;
    if (!Number.isInteger(size) || !Number.isInteger(t) || t < 1 || !(2 * t < size) || size > 16)
      throw new AppError(
        'RESHARE_FAILED',
        `a committee of ${size} cannot hold threshold ${t}: it needs 1 ≤ t and 2t < c ≤ 16`,
        `Choose t ≥ 1 and between ${2 * t + 1} and 16 members.`,
      );
    if (size === d.committee.length && t === d.threshold) return d;
    onProgress('waiting for your wallet to sign the request');
    const wallet = await this.o.chain.wallet();
    const proof = await wallet.signMessage({
      account: wallet.account,
      message: resizeMessage(hex0(datasetId), d.version, size, t),
    });
    await this.refreshRegistry();
    const problems: string[] = [];
    let told = 0;
    for (const key of this.onlineMemberKeys(d)) {
      const m = await this.requestNoting(
        key,
        {
          t: 'resize',
          req: newRequestId(),
          datasetId: hex0(datasetId),
          fromVersion: d.version,
          size,
          threshold: t,
          proof,
        },
        problems,
      );
      if (m?.header.t === 'resize-ack') told++;
      else if (m) problems.push(errorOf(m));
    }
    if (told === 0)
      throw new AppError(
        'RESHARE_FAILED',
        `no committee member took the request: ${problems[0] ?? 'none online'}`,
        'Check that the committee is online, then try again.',
      );
    onProgress(
      `${told} of ${d.committee.length} members are re-sharing to a committee of ${size} with t = ${t}`,
    );
    const next = await this.waitForReshare(datasetId, d.version, 180_000);
    if (!next)
      throw new AppError(
        'RESHARE_FAILED',
        `the committee did not record a re-share within 3 minutes (${problems[0] ?? 'no error reported'})`,
        'Check that enough registered nodes are online, then try again.',
      );
    onProgress(`re-shared as version ${next.version} to ${next.committee.length} members`);
    this.changed();
    return next;
  }

  async queryTexts(
    datasetId: Hex,
    queries: readonly { queryId: bigint; queryHash: Hex }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!queries.length) return out;
    const want = new Map(queries.map((q) => [String(q.queryId), q.queryHash.toLowerCase()]));
    const schema = { ...(await this.schema(datasetId)), id: datasetId };
    const wallet = await this.o.chain.wallet();
    const proof = await wallet.signMessage({
      account: wallet.account,
      message: queryTextsMessage(hex0(datasetId), this.key),
    });
    await this.refreshRegistry();
    // Members of the current committee that ran a query keep its text; ask until all are known.
    const d = await this.dataset(datasetId);
    const ids = [...want.keys()].slice(-MAX_TEXTS_PER_REQUEST);
    const problems: string[] = [];
    for (const key of this.onlineMemberKeys(d)) {
      if (ids.every((id) => out.has(id))) break;
      const m = await this.requestNoting(
        key,
        {
          t: 'query-texts',
          req: newRequestId(),
          datasetId: hex0(datasetId),
          queryIds: ids.filter((id) => !out.has(id)),
          proof,
        },
        problems,
      );
      if (m?.header.t !== 'query-texts-reply') {
        if (m) problems.push(errorOf(m));
        continue;
      }
      for (const { queryId, text } of m.header.texts) {
        // A member cannot put words in a researcher's mouth: the text must hash to the chain's.
        try {
          const h = chainQueryHash(checkQuery(parse(text), schema).hash).toLowerCase();
          if (h === want.get(queryId)) out.set(queryId, text);
        } catch {
          // not a query over this schema: ignored
        }
      }
    }
    if (out.size === 0 && problems.length)
      throw new AppError('SCHEMA_UNAVAILABLE', `no member returned query texts: ${problems[0]}`);
    return out;
  }

  /** Node keys of a committee's members that are on this tab's mesh now, in member order. */
  private onlineMemberKeys(d: DatasetInfo): string[] {
    return d.committee.flatMap((nodeId) => {
      const key = this.registry.get(nodeId.toLowerCase())?.key;
      return key && this.mesh.isUp(key) ? [key] : [];
    });
  }

  /** Sends a paid query to every member of a committee and collects sealed answers. */
  private async askCommittee(
    d: DatasetInfo,
    queryId: bigint,
    text: string,
    timeoutMs: number,
    members: QueryProgress['members'],
    report: (phase: QueryProgress['phase'], fraction: number, message: string) => void,
  ) {
    const boxes: Uint8Array[] = [];
    const refusals: string[] = [];
    const failures: string[] = [];
    // A member that registered after this tab started (e.g. a re-share's replacement) is looked
    // up, and every member gets a moment to be on this tab's mesh before it is asked.
    if (d.committee.some((id) => !this.registry.has(id.toLowerCase())))
      await this.refreshRegistry();
    const keys = d.committee.flatMap((id) => this.registry.get(id.toLowerCase())?.key ?? []);
    await this.mesh.waitForPeers(keys, 10_000).catch(() => undefined);
    await Promise.all(
      d.committee.map(async (nodeId, j) => {
        const key = this.registry.get(nodeId.toLowerCase())?.key;
        if (!key || !this.mesh.isUp(key)) {
          members[j]!.state = 'gone';
          failures.push(`member ${j} offline`);
          return;
        }
        try {
          const m = await this.request(
            key,
            { t: 'query', req: newRequestId(), queryId: String(queryId), text },
            undefined,
            timeoutMs,
            () => {
              members[j]!.state = 'computing';
              report('computing', 0.4, 'the committee is computing under MPC');
            },
          );
          if (m.header.t === 'answer') {
            members[j]!.state = 'answered';
            boxes.push(m.body.slice());
            report(
              'collecting',
              0.5 + (0.4 * boxes.length) / d.committee.length,
              `${boxes.length} of ${d.committee.length} sealed result shares received`,
            );
          } else if (m.header.t === 'query-status' && m.header.state === 'refused') {
            members[j]!.state = 'refused';
            refusals.push(m.header.message ?? m.header.code ?? 'refused');
          } else {
            // aborted (a peer vanished) or errored: the member itself may still be there; one
            // whose partition failed its integrity check has withdrawn from the committee
            const withdrew = m.header.t === 'query-status' && m.header.code === 'PARTITION_CORRUPT';
            members[j]!.state = this.mesh.isUp(key) && !withdrew ? 'waiting' : 'gone';
            failures.push(errorOf(m));
          }
        } catch (e) {
          members[j]!.state = 'gone';
          failures.push(e instanceof Error ? e.message : String(e));
        }
      }),
    );
    return { boxes, refusals, failures };
  }

  /** The dataset's committee once the chain shows a version after `version`, or undefined. */
  private async waitForReshare(
    datasetId: Hex,
    version: number,
    waitMs: number,
  ): Promise<DatasetInfo | undefined> {
    const t0 = performance.now();
    while (!this.closed && performance.now() - t0 < waitMs) {
      const v = await this.pub.readContract({
        address: this.address,
        abi: confideAbi,
        functionName: 'getDataset',
        args: [datasetId],
      });
      if (v.version > version) {
        await this.refreshRegistry();
        const d = await this.dataset(datasetId);
        // Ask once every member is on this tab's mesh and holds the new version (members commit
        // their re-shared partitions when they see the chain record it).
        const left = () => Math.max(1000, waitMs - (performance.now() - t0));
        const keys = d.committee.map((id) => this.keyOf(id));
        await this.mesh.waitForPeers(keys, left()).catch(() => undefined);
        await Promise.all(
          keys.map(async (key) => {
            while (!this.closed && performance.now() - t0 < waitMs) {
              const m = await this.request(
                key,
                { t: 'probe', req: newRequestId(), datasetId: hex0(datasetId) },
                undefined,
                10_000,
              ).catch(() => undefined);
              if (m?.header.t === 'probe-reply' && m.header.version >= d.version) return;
              await new Promise((r) => setTimeout(r, 500));
            }
          }),
        );
        return d;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    return undefined;
  }
}

function refusalHint(msg: string): string {
  if (/grant/i.test(msg)) return 'Your grant was revoked, re-issued or has expired: ask the owner.';
  if (/declared|kind/i.test(msg)) return 'The query uses an aggregate your grant does not allow.';
  return 'See the reason above; the fee is refunded when the query is voided.';
}

function errorOf(m: ServiceMessage): string {
  const h = m.header;
  if (h.t === 'error') return `${h.code}: ${h.message}`;
  if (h.t === 'query-status') return `${h.state}${h.code ? ` ${h.code}` : ''}: ${h.message ?? ''}`;
  return `unexpected reply ${h.t}`;
}

function hexBytes(h: string): Uint8Array {
  const s = hex0(h);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
