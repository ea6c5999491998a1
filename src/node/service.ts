/**
 * What a compute node serves to client tabs over the mesh (protocol in src/app/protocol.ts):
 * stores share bundles sealed to its key and signs receipts, hands out the published schema of a
 * dataset it holds, answers health probes, and runs authorised queries.
 *
 * A query runs only after the chain says so: the node recomputes the canonical hash of the text it
 * was given, and `isQueryAuthorised` checks that the query is open and paid, the grant valid, the
 * hash the one the researcher registered, this node in the dataset's committee and every kind the
 * query uses declared. Result shares are sealed to the key the researcher registered on chain,
 * whoever forwarded the request. Nothing here logs or replies with data.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainWalletClient, type ChainConfig } from '../chain/config';
import {
  chainQueryHash,
  confideAbi,
  isQueryAuthorised,
  membersAt,
  postResult,
  registerNode,
  requestNodeLeave,
  shareCommitment,
  type ConfideWallet,
} from '../chain/confide';
import { isSignedBy, keyAddress } from '../chain/keys';
import { checkQuery } from '../query/check';
import { parse } from '../query/parser';
import { bitColumns as bitColumnsOf, planQuery } from '../query/plan';
import { bitColumnName, isBitColumnName } from '../storage/bits';
import type { DatasetSchema } from '../query/schema';
import { acceptShareBundle } from '../storage/upload';
import type { ShareStore } from '../storage/store';
import { isStorageError, type StorageError } from '../storage/errors';

/** Storage errors that mean this member no longer holds an intact partition. */
const INTEGRITY_CODES = new Set(['STORE_CHUNK_CORRUPT', 'STORE_CHUNK_MISSING']);
import {
  decodeMessage,
  encodeMessage,
  SERVICE_CHANNEL,
  newRequestId,
  queryTextsMessage,
  type QueryTextsReq,
  type ServiceHeader,
  type QueryReq,
} from '../app/protocol';
import type { NodeRuntime } from './runtime';
import { DEFAULT_RESHARE_GRACE_MS, Resharer, type ReshareEvent } from './reshare';
import { committeeOf, META } from './meta';
import { MemoryQueryTextLog, type QueryTextLog } from './query-texts';

export interface ServiceChain {
  pub: PublicClient;
  address: Address;
  cfg: ChainConfig;
}

export interface PartitionInfo {
  datasetId: string;
  name: string;
  version: number;
  memberIndex: number;
  rows: number;
  columns: number;
  bytes: number;
  threshold: number;
  committee: number;
}

export interface QueryLogEntry {
  queryId: string;
  datasetId?: string;
  state: 'checking' | 'computing' | 'answered' | 'refused' | 'failed';
  /** The dataset version whose partition the query ran on. */
  version?: number;
  code?: string;
  message?: string;
  seconds?: number;
  at: number;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 900);
}

export class NodeService {
  private readonly queries = new Map<string, QueryLogEntry>();
  private off: (() => void) | undefined;
  /** Re-shares this node's partitions when a committee member is gone (needs a chain). */
  readonly resharer: Resharer | undefined;
  /** Paused by the operator: new queries are refused (re-sharing goes on, so no data is lost). */
  private pausedFlag = false;
  /** Leaving: announced to the committees; queries refused until the partitions moved. */
  private leavingFlag = false;

  constructor(
    private readonly rt: NodeRuntime,
    readonly store: ShareStore,
    private readonly chain: ServiceChain | undefined,
    private readonly onChange: () => void = () => undefined,
    reshareGraceMs = DEFAULT_RESHARE_GRACE_MS,
    /** Texts of authorised queries, for the dataset owner's audit log. */
    private readonly texts: QueryTextLog = new MemoryQueryTextLog(),
  ) {
    this.resharer = chain
      ? new Resharer(
          {
            id: rt.id,
            isUp: (k) => rt.mesh.isUp(k),
            send: (k, h) => this.reply(k, h),
            secretKey: () => rt.identity.secretKey(),
            wallet: () => this.nodeWallet(),
            runJob: (id, committee, spec) => rt.runJob(id, committee, spec),
            log: (line) => rt.log(line),
            changed: () => onChange(),
          },
          store,
          chain,
          reshareGraceMs,
        )
      : undefined;
  }

  start() {
    this.off = this.rt.mesh.listen(
      SERVICE_CHANNEL,
      (from, bytes) => void this.onMessage(from, bytes),
    );
    this.resharer?.start();
  }

  stop() {
    this.off?.();
    this.resharer?.stop();
  }

  get paused(): boolean {
    return this.pausedFlag;
  }
  get leaving(): boolean {
    return this.leavingFlag;
  }

  /** Stops taking new queries (running ones finish); storage and re-sharing go on. */
  setPaused(paused: boolean) {
    this.pausedFlag = paused;
    this.rt.log(paused ? 'paused: new queries are refused' : 'resumed: taking queries');
    this.onChange();
  }

  /**
   * Leaves every committee cleanly: tells each committee's other members, which re-share this
   * node's slots to replacements at once (this node stays online meanwhile but deals nothing; the
   * others hold enough shares). Once the chain records each re-share, the stale partition is
   * deleted by the sweep. Returns the number of committees told.
   */
  async leave(): Promise<number> {
    this.leavingFlag = true;
    const peers = new Set<string>();
    let n = 0;
    for (const id of await this.store.listDatasets()) {
      const m = await this.store.getManifest(id);
      if (!m) continue;
      n++;
      for (const k of committeeOf(m)) if (k !== this.rt.id) peers.add(k);
    }
    for (const k of peers) this.reply(k, { t: 'leave', req: newRequestId() });
    this.rt.log(`leaving: told ${peers.size} committee peers of ${n} partitions to re-share`);
    this.onChange();
    // No new committee may pick this node: start its exit on chain (its key may send that when it
    // is its own operator; otherwise the operator does it from the registration panel).
    if (this.chain) {
      try {
        await requestNodeLeave(
          this.nodeWallet(),
          this.chain.pub,
          this.chain.address,
          keyAddress(this.rt.identity.publicKey),
        );
        this.rt.log(
          'leaving: exit requested on chain; the deposit returns after the waiting period',
        );
      } catch (e) {
        this.rt.log(
          `leaving: exit not requested on chain (${errorText(e).slice(0, 160)}); the operator can request it`,
        );
      }
    }
    return n;
  }

  reshareEvents(): ReshareEvent[] {
    return this.resharer?.events() ?? [];
  }

  /**
   * A wallet whose account is this node's key: the contract accepts result posts from a node's key
   * address (or its operator), so the node commits to its result without its operator's wallet. The
   * key address needs gas (npm start funds it; on a real chain the operator sends it some).
   */
  nodeWallet(): ConfideWallet {
    if (!this.chain) throw new Error('this node has no chain configured');
    const { cfg } = this.chain;
    const sk = this.rt.identity.secretKey();
    const account = privateKeyToAccount(`0x${bytesHex(sk)}`);
    sk.fill(0);
    return chainWalletClient(cfg, account);
  }

  /**
   * Registers this node with a deposit, paid by `wallet` (the operator; defaults to the node key's
   * own account). The registration is signed with the node key here, in the tab.
   */
  async register(deposit: bigint, wallet: ConfideWallet = this.nodeWallet()) {
    if (!this.chain) throw new Error('this node has no chain configured');
    const sk = this.rt.identity.secretKey();
    try {
      const r = await registerNode(wallet, this.chain.pub, this.chain.address, sk, deposit);
      this.rt.log(`registered on chain as ${r.nodeId}`);
      return r.nodeId;
    } finally {
      sk.fill(0);
    }
  }

  queryLog(): QueryLogEntry[] {
    return [...this.queries.values()].sort((a, b) => b.at - a.at).slice(0, 50);
  }

  async partitions(): Promise<PartitionInfo[]> {
    const out: PartitionInfo[] = [];
    for (const id of await this.store.listDatasets()) {
      const m = await this.store.getManifest(id);
      if (!m) continue;
      const rows = m.columns[0]?.rows ?? 0;
      out.push({
        datasetId: id,
        name: String(m.meta[META.name] ?? id.slice(0, 12)),
        version: m.version,
        memberIndex: m.memberIndex,
        rows,
        columns: m.columns.filter((c) => !isBitColumnName(c.name)).length,
        bytes: rows * m.columns.length * 8,
        threshold: Number(m.meta[META.threshold] ?? 0),
        committee: committeeOf(m).length,
      });
    }
    return out;
  }

  private reply(to: string, h: ServiceHeader, body?: Uint8Array) {
    try {
      this.rt.mesh.send(to, SERVICE_CHANNEL, encodeMessage(h, body));
    } catch {
      // the peer left; nothing to tell it
    }
  }

  private async onMessage(from: string, bytes: Uint8Array) {
    let msg;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      this.rt.log(`service: malformed message from ${from.slice(0, 12)}…: ${errorText(e)}`);
      return;
    }
    const h = msg.header;
    try {
      switch (h.t) {
        case 'upload': {
          const started = performance.now();
          const { manifest, receipt } = await acceptShareBundle(
            this.store,
            msg.body,
            this.rt.identity.secretKey(),
            { datasetId: h.datasetId, version: h.version, memberIndex: h.memberIndex },
            h.meta,
          );
          this.rt.log(
            `stored dataset ${h.datasetId.slice(0, 12)}… v${manifest.version} as member ${manifest.memberIndex} (${(msg.body.length / 2 ** 20).toFixed(1)} MiB sealed, decrypted, written and hashed in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
          );
          this.reply(from, { t: 'receipt', req: h.req, receipt });
          this.onChange();
          return;
        }
        case 'schema': {
          const m = await this.store.getManifest(h.datasetId);
          const schema = m?.meta[META.schema];
          if (typeof schema !== 'string') {
            return this.noPartition(from, h.req, h.datasetId);
          }
          this.reply(from, { t: 'schema-reply', req: h.req, datasetId: h.datasetId, schema });
          return;
        }
        case 'probe': {
          const m = await this.store.getManifest(h.datasetId);
          if (!m) {
            return this.noPartition(from, h.req, h.datasetId);
          }
          const v = await this.store.verifyPartition(h.datasetId);
          this.reply(from, {
            t: 'probe-reply',
            req: h.req,
            datasetId: h.datasetId,
            version: m.version,
            root: m.merkleRoot,
            intact: v.ok,
            ...(v.ok ? {} : { detail: 'stored chunks do not match their hashes' }),
          });
          return;
        }
        case 'query':
          await this.runQuery(from, h);
          return;
        case 'reshare':
          if (!this.resharer) throw new Error('this node has no chain configured to re-share');
          await this.resharer.onPlan(from, h);
          return;
        case 'resize':
          if (!this.resharer) throw new Error('this node has no chain configured to re-share');
          await this.resharer.wantResize(h);
          this.reply(from, { t: 'resize-ack', req: h.req, datasetId: h.datasetId });
          return;
        case 'reshare-root':
          this.resharer?.onRoot(from, h);
          return;
        case 'reshare-sig':
          this.resharer?.onSig(from, h);
          return;
        case 'query-texts':
          await this.serveTexts(from, h);
          return;
        case 'leave':
          this.rt.log(
            `peer ${from.slice(0, 12)}… is leaving ${h.datasetId ? `the committee of ${h.datasetId.slice(0, 12)}…` : 'its committees'}`,
          );
          this.resharer?.peerLeaving(from, h.datasetId);
          return;
        default:
          return; // replies are for clients
      }
    } catch (e) {
      this.reply(from, {
        t: 'error',
        req: h.req,
        code: 'FAILED',
        message: errorText(e),
      });
    }
  }

  /**
   * The texts of queries run on a dataset, for its owner only: the request carries the owner's
   * wallet signature over the dataset and the asking tab's mesh key (so it cannot be replayed from
   * another tab). The reply holds at most what fits in one header.
   */
  private async serveTexts(from: string, h: QueryTextsReq) {
    if (!this.chain) throw new Error('this node has no chain configured');
    const d = await this.chain.pub.readContract({
      address: this.chain.address,
      abi: confideAbi,
      functionName: 'getDataset',
      args: [`0x${h.datasetId}`],
    });
    if (!(await isSignedBy(queryTextsMessage(h.datasetId, from), h.proof, d.owner)))
      return this.reply(from, {
        t: 'error',
        req: h.req,
        code: 'FORBIDDEN',
        message: `only the owner of dataset 0x${h.datasetId} may read its query texts`,
      });
    const texts: { queryId: string; text: string }[] = [];
    let bytes = 0;
    for (const x of await this.texts.get(h.datasetId, h.queryIds)) {
      bytes += x.text.length * 3 + 64;
      if (bytes > 60_000) break;
      texts.push(x);
    }
    this.reply(from, { t: 'query-texts-reply', req: h.req, datasetId: h.datasetId, texts });
  }

  /**
   * This member's stored partition failed its integrity check at query time: it aborts the
   * query's session at once (so the others do not wait for it), tells the researcher why, and
   * leaves this dataset's committee so the others re-share its slot from their intact shares.
   * The partition is deleted once the chain records the re-share (the re-share sweep).
   */
  private async withdraw(
    from: string,
    h: QueryReq,
    datasetId: string,
    committee: string[],
    t: number,
    memberIndex: number,
    cause: StorageError,
  ) {
    const entry = this.queries.get(h.queryId)!;
    const where = [cause.details.column, cause.details.chunk]
      .filter((x) => x !== undefined)
      .join(' chunk ');
    const message = `member ${memberIndex}'s stored partition fails its integrity check${where ? ` (column ${where})` : ''}: it withdrew from the committee, which re-shares its slot`;
    entry.state = 'failed';
    entry.code = 'PARTITION_CORRUPT';
    entry.message = message;
    this.rt.log(`query ${h.queryId}: ${message}`);
    await this.rt
      .runJob(queryJobId(h.queryId, entry.version ?? 0), committee, {
        kind: 'withdraw',
        t,
        reason: 'PARTITION_CORRUPT',
      })
      .catch(() => undefined);
    this.reply(from, {
      t: 'query-status',
      req: h.req,
      queryId: h.queryId,
      state: 'failed',
      code: 'PARTITION_CORRUPT',
      message,
    });
    for (const k of committee)
      if (k !== this.rt.id) this.reply(k, { t: 'leave', req: newRequestId(), datasetId });
    this.onChange();
  }

  /** Commits on chain to the result share just sent: the audit log and fee settlement use it. */
  private async postCommitment(
    queryId: bigint,
    datasetId: Hex,
    version: number,
    index: number,
    box: Uint8Array,
  ) {
    if (!this.chain) return;
    try {
      const members = await membersAt(this.chain.pub, this.chain.address, datasetId, version);
      await postResult(this.nodeWallet(), this.chain.pub, this.chain.address, {
        queryId,
        members,
        index,
        commitment: shareCommitment(box),
      });
    } catch (e) {
      this.rt.log(`query ${queryId}: result commitment not posted: ${errorText(e).slice(0, 200)}`);
    }
  }

  private noPartition(from: string, req: string, datasetId: string) {
    this.reply(from, {
      t: 'error',
      req,
      code: 'UNKNOWN_DATASET',
      message: `this node holds no partition of dataset ${datasetId}`,
    });
  }

  private async runQuery(from: string, h: QueryReq) {
    const prev = this.queries.get(h.queryId);
    // A query that failed because a member left runs again once this node holds a newer version
    // (the committee re-shared); anything else is never run twice.
    const rerun =
      prev?.state === 'failed' &&
      prev.datasetId !== undefined &&
      (await this.store.getManifest(prev.datasetId))?.version !== prev.version;
    if (prev && !rerun) {
      // A replayed or repeated request never runs a query twice; tell the sender where it is.
      if (prev.state === 'refused' || prev.state === 'failed')
        this.reply(from, {
          t: 'query-status',
          req: h.req,
          queryId: h.queryId,
          state: prev.state,
          ...(prev.code ? { code: prev.code } : {}),
          ...(prev.message ? { message: prev.message } : {}),
        });
      return;
    }
    const entry: QueryLogEntry = { queryId: h.queryId, state: 'checking', at: Date.now() };
    this.queries.set(h.queryId, entry);
    this.onChange();
    const refuse = (code: string, message: string) => {
      entry.state = 'refused';
      entry.code = code;
      entry.message = message;
      this.rt.log(`query ${h.queryId} refused: ${code}`);
      this.reply(from, {
        t: 'query-status',
        req: h.req,
        queryId: h.queryId,
        state: 'refused',
        code,
        message,
      });
      this.onChange();
    };
    if (!this.chain)
      return refuse('NO_CHAIN', 'this node has no chain configured to authorise queries');
    if (this.leavingFlag)
      return refuse('LEAVING', 'this node is leaving its committees; ask the re-shared committee');
    if (this.pausedFlag) return refuse('PAUSED', 'this node is paused by its operator');
    const queryId = BigInt(h.queryId);
    // Which dataset: the chain's record of the query (the text alone does not say which version).
    let q;
    try {
      q = await this.chain.pub.readContract({
        address: this.chain.address,
        abi: confideAbi,
        functionName: 'getQuery',
        args: [queryId],
      });
    } catch (e) {
      return refuse(
        'CHAIN_UNREACHABLE',
        `cannot read query ${h.queryId} from the chain: ${errorText(e)}`,
      );
    }
    const datasetId = (q.datasetId as string).replace(/^0x/, '').toLowerCase();
    entry.datasetId = datasetId;
    let manifest = await this.store.getManifest(datasetId);
    if (!manifest || typeof manifest.meta[META.schema] !== 'string')
      return refuse('UNKNOWN_DATASET', `this node holds no partition of dataset 0x${datasetId}`);
    const schema = JSON.parse(String(manifest.meta[META.schema])) as DatasetSchema;
    const schemaWithId: DatasetSchema = { ...schema, id: `0x${datasetId}` };
    let checked;
    try {
      checked = checkQuery(parse(h.text), schemaWithId);
    } catch (e) {
      return refuse('BAD_QUERY', errorText(e));
    }
    const auth = await isQueryAuthorised(this.chain.pub, this.chain.address, {
      queryId,
      queryHash: chainQueryHash(checked.hash),
      nodeId: keyAddress(this.rt.identity.publicKey),
      kinds: checked.kinds,
    });
    if (!auth.ok) return refuse(auth.code, auth.message);
    // The chain paid for exactly this text: keep it for the owner's audit log.
    await this.texts.put(datasetId, h.queryId, h.text).catch(() => undefined);
    // Just re-shared: the chain recorded the new version, this node commits it in a moment.
    for (let i = 0; i < 30 && auth.version > manifest.version; i++) {
      await new Promise((r) => setTimeout(r, 500));
      manifest = (await this.store.getManifest(datasetId)) ?? manifest;
    }
    if (auth.version !== manifest.version)
      return refuse(
        'STALE_PARTITION',
        `the query is on version ${auth.version}, this node holds version ${manifest.version}`,
      );
    const committee = committeeOf(manifest);
    const t = Number(manifest.meta[META.threshold]);
    if (committee[manifest.memberIndex] !== this.rt.id)
      return refuse(
        'NOT_IN_COMMITTEE',
        'this node is not at its member index in the stored committee',
      );

    entry.state = 'computing';
    entry.version = manifest.version;
    this.onChange();
    this.reply(from, {
      t: 'query-status',
      req: h.req,
      queryId: h.queryId,
      state: 'computing',
      fraction: 0,
    });
    try {
      const needed = new Set<number>();
      // The plan reads a subset of the columns; load only those (by schema index).
      const names = schema.columns.map((c) => c.name);
      const plan = planQuery(checked);
      for (const c of plan.columns) needed.add(c.index);
      const columns: { index: number; shares: BigUint64Array }[] = [];
      try {
        for (const index of needed)
          columns.push({ index, shares: await this.store.readColumn(datasetId, names[index]!) });
      } catch (e) {
        if (!isStorageError(e) || !INTEGRITY_CODES.has(e.code)) throw e;
        return await this.withdraw(from, h, datasetId, committee, t, manifest.memberIndex, e);
      }
      // Bit-decomposed columns the plan can use, when this partition stores them (every member
      // of a version holds the same columns, so the committee decides alike).
      const stored = new Set(manifest.columns.map((c) => c.name));
      const bitColumns: { index: number; bits: BigUint64Array[] }[] = [];
      for (const c of bitColumnsOf(plan)) {
        const bitNames = Array.from({ length: c.bits }, (_, j) => bitColumnName(c.name, j));
        if (!bitNames.every((n) => stored.has(n))) continue;
        const bits: BigUint64Array[] = [];
        for (const n of bitNames) bits.push(await this.store.readColumn(datasetId, n));
        bitColumns.push({ index: c.index, bits });
      }
      if (bitColumns.length)
        this.rt.log(
          `query ${h.queryId}: comparisons on stored bits of ${bitColumns.map((b) => names[b.index]).join(', ')}`,
        );
      const encKey = hexBytes(auth.encKey);
      const res = await this.rt.runJob(queryJobId(h.queryId, manifest.version), committee, {
        kind: 'query',
        t,
        len: schema.rows,
        text: h.text,
        authorisedHash: checked.hash,
        schema: schemaWithId,
        policy: auth.policy,
        columns,
        bitColumns,
        requesterKey: encKey,
        timeoutMs: 60_000,
      });
      if (res.kind !== 'query') throw new Error('unexpected job result');
      entry.state = 'answered';
      entry.seconds = res.seconds;
      this.rt.log(
        `query ${h.queryId} answered in ${res.seconds.toFixed(2)} s (stored shares adopted in ${res.adoptSeconds.toFixed(2)} s)`,
      );
      this.reply(
        from,
        { t: 'answer', req: h.req, queryId: h.queryId, memberIndex: manifest.memberIndex },
        res.box,
      );
      void this.postCommitment(
        queryId,
        auth.datasetId,
        auth.version,
        manifest.memberIndex,
        res.box,
      );
    } catch (e) {
      entry.state = 'failed';
      entry.code = 'ABORTED';
      entry.message = errorText(e);
      this.rt.log(`query ${h.queryId} failed: ${entry.message.slice(0, 200)}`);
      this.reply(from, {
        t: 'query-status',
        req: h.req,
        queryId: h.queryId,
        state: 'failed',
        code: 'ABORTED',
        message: entry.message,
      });
    } finally {
      this.onChange();
    }
  }
}

/** The job (and so the MPC session) of a query on one dataset version: the same at every member. */
function queryJobId(queryId: string, version: number): string {
  return `query-${queryId}-v${version}`;
}

function bytesHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function hexBytes(h: Hex | string): Uint8Array {
  const s = h.replace(/^0x/, '');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
