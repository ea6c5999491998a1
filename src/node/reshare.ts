/**
 * Re-sharing a stored partition when a committee member is gone (the DHT's answer to churn), run by
 * the compute nodes themselves, without the data owner and without reconstructing anything:
 *
 *   1. Every member watches its committees. A member that has been off the mesh for longer than
 *      the grace period, or that announced it is leaving, is gone. The lowest-indexed member still
 *      online is the leader: it picks a replacement for every gone slot by the placement rule (the
 *      closest registered, online node by XOR distance that is not in the committee yet) and sends
 *      the plan to the new committee.
 *   2. Every party checks the plan against the chain (the committee of the version it replaces,
 *      registered replacements; at a staying member, also that every replaced member is really
 *      off its mesh or leaving; at a new member, the metadata's schema against the chain's hash),
 *      then runs `Session.reshare` in its worker: staying members deal their stored shares, every
 *      party gets a fresh, checked sharing of the same columns.
 *   3. Each party stages its new partition (the previous version stays current) and sends its
 *      Merkle root to the others; staying members sign the chain's `reshareDigest` over the new
 *      committee and roots; the leader records the re-share on chain with t+1 signatures.
 *   4. When the chain shows the new version with exactly these members and roots, each party
 *      commits its staged partition. A node replaced in a committee deletes its stale partition.
 *
 * Nothing here reads or logs data: plans, roots and signatures are public.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import type { Address, Hex } from 'viem';
import {
  confideAbi,
  membersAt,
  members as membersOf,
  membersHash,
  nodeRegistry,
  reshareByMembers,
  reshareDigest,
  type ConfideWallet,
} from '../chain/confide';
import { isSignedBy, keyAddress, signDigest } from '../chain/keys';
import { parsePublishedSchema } from '../app/schema';
import {
  newRequestId,
  resizeMessage,
  type Resize,
  type ReshareReq,
  type ReshareRoot,
  type ReshareSig,
  type ServiceHeader,
} from '../app/protocol';
import {
  churnCommittee,
  closestNodes,
  nodeIdFromPublicKey,
  type Committee,
  type DirectoryEntry,
} from '../storage/placement';
import {
  DEFAULT_CHUNK_SIZE,
  manifestRoot,
  type ColumnManifest,
  type PartitionManifest,
  type ShareStore,
} from '../storage/store';
import type { JobInput } from './runtime';
import type { JobResult } from '../../workers/jobs';
import type { ServiceChain } from './service';
import { committeeOf, META } from './meta';

/** How long a member may be off the mesh before its committees re-share (default). */
export const DEFAULT_RESHARE_GRACE_MS = 20_000;
/** How long a party waits for the others' roots and signatures, and for the chain. */
const RESHARE_STEP_TIMEOUT_MS = 90_000;
/** The contract's largest committee. */
const MAX_COMMITTEE = 16;
/** Least wait between two attempts at re-sharing one dataset. */
const RETRY_MS = 15_000;
/** At most this many re-shares in progress (each holds a new partition in memory until committed). */
const MAX_ACTIVE = 8;

export interface ReshareHost {
  /** This node's key (hex). */
  readonly id: string;
  isUp(key: string): boolean;
  send(key: string, h: ServiceHeader): void;
  secretKey(): Uint8Array;
  wallet(): ConfideWallet;
  runJob(jobId: string, committee: string[], spec: JobInput): Promise<JobResult>;
  log(line: string): void;
  changed(): void;
}

export interface ReshareEvent {
  datasetId: string;
  fromVersion: number;
  state: 'planned' | 're-sharing' | 'recording' | 'done' | 'failed';
  slots: number[];
  message?: string;
  at: number;
}

interface Active {
  key: string;
  plan?: ReshareReq;
  from?: string;
  roots: Map<number, string>;
  sigs: Map<number, string>;
  waiters: Set<() => void>;
  created: number;
  /** The last competing plan logged (one line per plan, not per retry). */
  ignored?: string;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 400);
}

/** A committee of `size` must hold threshold `t` with an honest majority: 1 ≤ t, 2t < c ≤ 16. */
function checkShape(size: number, t: number) {
  if (!Number.isInteger(t) || t < 1 || !(2 * t < size) || size > MAX_COMMITTEE)
    throw new ReshareError(
      'RESHARE_BAD_PLAN',
      `a committee of ${size} cannot hold t = ${t} (need 1 ≤ t and 2t < c ≤ ${MAX_COMMITTEE})`,
    );
}

export class ReshareError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReshareError';
  }
}

export class Resharer {
  /** When each node key was first seen off the mesh (absent: up, or never checked). */
  private readonly downSince = new Map<string, number>();
  /**
   * Keys that announced they are leaving (authenticated by the mesh link they came over): `key`
   * for all their committees, `key@dataset` for one.
   */
  private readonly leaving = new Set<string>();
  private readonly active = new Map<string, Active>();
  private readonly history: ReshareEvent[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping = false;
  /** The owner's requests to re-share a dataset version to another committee size. */
  private readonly resizes = new Map<
    string,
    { fromVersion: number; size: number; threshold: number; proof: string }
  >();
  /** After a failed attempt, a dataset is not led again before this time (ms since epoch). */
  private readonly retryAt = new Map<string, number>();

  constructor(
    private readonly host: ReshareHost,
    private readonly store: ShareStore,
    private readonly chain: ServiceChain,
    readonly graceMs = DEFAULT_RESHARE_GRACE_MS,
  ) {}

  start() {
    const every = Math.max(500, Math.min(5000, Math.floor(this.graceMs / 2)));
    this.timer = setInterval(() => void this.sweep(), every);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  events(): ReshareEvent[] {
    return this.history.slice(-20).reverse();
  }

  peerUp(key: string) {
    this.downSince.delete(key);
  }
  peerDown(key: string) {
    if (!this.downSince.has(key)) this.downSince.set(key, Date.now());
  }
  /** A committee peer said it is leaving (one committee, or all): they re-share at once. */
  peerLeaving(key: string, datasetId?: string) {
    this.leaving.add(datasetId ? `${key}@${datasetId}` : key);
    void this.sweep();
  }

  /**
   * The owner asks for a committee of `size` (checked against the chain's owner here, and again
   * by every party that receives the plan); the leader starts it at the next sweep.
   */
  async wantResize(h: Resize): Promise<void> {
    const d = await this.chain.pub.readContract({
      address: this.chain.address,
      abi: confideAbi,
      functionName: 'getDataset',
      args: [`0x${h.datasetId}`],
    });
    if (d.version !== h.fromVersion)
      throw new ReshareError(
        'RESHARE_STALE',
        `the dataset is at version ${d.version}, not ${h.fromVersion}`,
      );
    await this.checkOwner(d.owner, h.datasetId, h.fromVersion, h.size, h.threshold, h.proof);
    checkShape(h.size, h.threshold);
    this.resizes.set(h.datasetId, {
      fromVersion: h.fromVersion,
      size: h.size,
      threshold: h.threshold,
      proof: h.proof,
    });
    this.host.log(
      `dataset ${h.datasetId.slice(0, 12)}…: the owner asked for a committee of ${h.size} with t = ${h.threshold}`,
    );
    this.retryAt.delete(h.datasetId);
    void this.sweep();
  }

  private async checkOwner(
    owner: Address,
    datasetId: string,
    fromVersion: number,
    size: number,
    threshold: number,
    proof: string,
  ) {
    if (!(await isSignedBy(resizeMessage(datasetId, fromVersion, size, threshold), proof, owner)))
      throw new ReshareError(
        'RESHARE_BAD_PLAN',
        'the committee size change is not signed by the dataset’s owner',
      );
  }

  private isLeaving(key: string, datasetId: string): boolean {
    return this.leaving.has(key) || this.leaving.has(`${key}@${datasetId}`);
  }

  private gone(key: string, now: number, datasetId: string): boolean {
    if (key === this.host.id) return false;
    if (this.isLeaving(key, datasetId)) return true;
    if (this.host.isUp(key)) {
      this.downSince.delete(key);
      return false;
    }
    const since = this.downSince.get(key);
    if (since === undefined) {
      this.downSince.set(key, now);
      return false;
    }
    return now - since >= this.graceMs;
  }

  private record(e: Omit<ReshareEvent, 'at'>) {
    const prev = this.history.find(
      (h) => h.datasetId === e.datasetId && h.fromVersion === e.fromVersion,
    );
    if (prev) Object.assign(prev, e, { at: Date.now() });
    else this.history.push({ ...e, at: Date.now() });
    if (this.history.length > 100) this.history.shift();
    this.host.changed();
  }

  /** Looks at every stored partition: re-shares where this node leads, drops stale partitions. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      for (const id of await this.store.listDatasets()) {
        const m = await this.store.getManifest(id);
        if (!m) continue;
        const d = await this.chain.pub.readContract({
          address: this.chain.address,
          abi: confideAbi,
          functionName: 'getDataset',
          args: [`0x${id}`],
        });
        if (d.version > m.version) {
          await this.dropIfReplaced(id, m, d.version);
          continue;
        }
        if (d.version !== m.version) continue;
        const committee = committeeOf(m);
        const goneSlots = committee.flatMap((k, i) => (this.gone(k, now, id) ? [i] : []));
        const want = this.resizes.get(id);
        const resize =
          want &&
          want.fromVersion === m.version &&
          (want.size !== committee.length || want.threshold !== Number(m.meta[META.threshold]));
        if (want && !resize) this.resizes.delete(id);
        if (!goneSlots.length && !resize) continue;
        const staying = committee.flatMap((_, i) => (goneSlots.includes(i) ? [] : [i]));
        const leader = staying.find(
          (i) => committee[i] === this.host.id || this.host.isUp(committee[i]!),
        );
        if (leader === undefined || committee[leader] !== this.host.id) continue;
        if ([...this.active.keys()].some((k) => k.startsWith(`${id}@`))) continue;
        if ((this.retryAt.get(id) ?? 0) > now) continue;
        // The next attempt waits: members still inside a failed attempt time out of it first.
        this.retryAt.set(id, now + Math.max(RETRY_MS, this.graceMs));
        try {
          await this.lead(m, committee, goneSlots, resize ? want : undefined);
        } catch (e) {
          this.host.log(`re-share of ${id.slice(0, 12)}… v${m.version}: ${errorText(e)}`);
          this.record({
            datasetId: id,
            fromVersion: m.version,
            state: 'failed',
            slots: goneSlots,
            message: errorText(e),
          });
        }
      }
    } catch (e) {
      this.host.log(`re-share sweep: ${errorText(e)}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** The chain moved on without this node: its old shares are useless with the new ones. */
  private async dropIfReplaced(id: string, m: PartitionManifest, version: number) {
    if (this.active.has(`${id}@${m.version}`)) return;
    const cur = await membersAt(this.chain.pub, this.chain.address, `0x${id}`, version);
    const self = keyAddress(`0x${this.host.id}`).toLowerCase();
    if (cur.committee.some((a) => a.toLowerCase() === self)) return;
    await this.store.deletePartition(id);
    this.host.log(
      `dataset ${id.slice(0, 12)}… was re-shared to v${version} without this node: stale partition v${m.version} deleted`,
    );
    this.host.changed();
  }

  /**
   * Leader: choose replacements (and, on the owner's request, the members added or dropped to
   * reach a new committee size: growth appends the closest eligible nodes, shrinking drops the
   * highest slots) and send the plan to the new committee.
   */
  private async lead(
    m: PartitionManifest,
    committee: string[],
    goneSlots: number[],
    resize?: { size: number; threshold: number; proof: string },
  ) {
    const t = Number(m.meta[META.threshold]);
    const registry = await nodeRegistry(this.chain.pub, this.chain.address);
    const directory: DirectoryEntry[] = [];
    const keyOfId = new Map<string, string>();
    for (const n of registry) {
      if (!n.active) continue;
      const online =
        n.key === this.host.id || (this.host.isUp(n.key) && !this.isLeaving(n.key, m.datasetId));
      const id = nodeIdFromPublicKey(hexToBytes(n.key));
      keyOfId.set(id, n.key);
      directory.push({ id, publicKey: hexToBytes(n.key), registered: true, online });
    }
    const size = resize?.size ?? committee.length;
    const kept = committee.slice(0, Math.min(size, committee.length));
    const replaced = goneSlots.filter((i) => i < kept.length);
    const current: Committee = {
      datasetId: m.datasetId,
      params: { c: kept.length, t },
      members: kept.map((k) => nodeIdFromPublicKey(hexToBytes(k))),
    };
    const churned = churnCommittee(current, replaced, directory).members;
    const added =
      size > kept.length
        ? closestNodes(
            m.datasetId,
            directory,
            size - kept.length,
            new Set([...churned, ...current.members]),
          )
        : [];
    if (churned.length + added.length !== size)
      throw new ReshareError(
        'RESHARE_NO_NODES',
        `a committee of ${size} needs ${size - churned.length} more registered nodes online; ${added.length} are`,
      );
    const next = [...churned, ...added].map((id) => keyOfId.get(id)!);
    const slots = [...replaced, ...added.map((_, j) => kept.length + j)];
    const plan: ReshareReq = {
      t: 'reshare',
      req: newRequestId(),
      datasetId: m.datasetId,
      fromVersion: m.version,
      committee: next,
      slots,
      ...(resize ? { ownerProof: resize.proof } : {}),
      meta: {
        ...m.meta,
        [META.committee]: next.join(','),
        ...(resize ? { [META.threshold]: resize.threshold } : {}),
      },
      columns: m.columns.map((c) => c.name),
      rows: m.columns[0]?.rows ?? 0,
    };
    this.host.log(
      `dataset ${m.datasetId.slice(0, 12)}… v${m.version}: ${resize ? `the owner asked for a committee of ${size}; ` : ''}${replaced.length ? `member ${replaced.join(', ')} gone; ` : ''}re-sharing to ${slots.map((s) => next[s]!.slice(0, 12)).join(', ') || 'the first ' + size}…`,
    );
    for (const k of next) if (k !== this.host.id) this.host.send(k, plan);
    await this.onPlan(this.host.id, plan);
  }

  private state(key: string): Active {
    let a = this.active.get(key);
    if (!a) {
      // Roots and signatures may arrive before the plan: bounded, and dropped when stale.
      for (const [k, v] of this.active)
        if (!v.plan && Date.now() - v.created > RESHARE_STEP_TIMEOUT_MS) this.active.delete(k);
      if (this.active.size >= MAX_ACTIVE)
        throw new ReshareError('RESHARE_BUSY', `${MAX_ACTIVE} re-shares already in progress`);
      a = { key, roots: new Map(), sigs: new Map(), waiters: new Set(), created: Date.now() };
      this.active.set(key, a);
    }
    return a;
  }

  private wake(a: Active) {
    for (const w of a.waiters) w();
  }

  private async until(a: Active, done: () => boolean, what: string) {
    const t0 = Date.now();
    while (!done()) {
      if (Date.now() - t0 > RESHARE_STEP_TIMEOUT_MS)
        throw new ReshareError('RESHARE_TIMEOUT', `timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const w = () => {
          a.waiters.delete(w);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(w, 1000);
        a.waiters.add(w);
      });
    }
  }

  onRoot(from: string, h: ReshareRoot) {
    const a = this.state(`${h.datasetId}@${h.toVersion - 1}`);
    if (a.plan && a.plan.committee[h.memberIndex] !== from) return;
    if (!a.roots.has(h.memberIndex)) a.roots.set(h.memberIndex, h.root);
    this.wake(a);
  }

  onSig(from: string, h: ReshareSig) {
    const a = this.state(`${h.datasetId}@${h.toVersion - 1}`);
    if (a.plan && a.plan.committee[h.memberIndex] !== from) return;
    if (!a.sigs.has(h.memberIndex)) a.sigs.set(h.memberIndex, h.signature);
    this.wake(a);
  }

  /** A plan from a leader (or this node's own): check it, take part, commit when the chain agrees. */
  async onPlan(from: string, plan: ReshareReq): Promise<void> {
    const key = `${plan.datasetId}@${plan.fromVersion}`;
    const a = this.state(key);
    if (a.plan) {
      if (a.plan.req !== plan.req && a.ignored !== plan.req) {
        a.ignored = plan.req;
        this.host.log(
          `re-share ${plan.datasetId.slice(0, 12)}… v${plan.fromVersion}: a second plan from ${from.slice(0, 12)}… ignored`,
        );
      }
      return;
    }
    a.plan = plan;
    a.from = from;
    // Drop roots and signatures buffered from parties that are not where the plan puts them.
    const ok = new Set(plan.committee);
    if (![...a.roots.keys(), ...a.sigs.keys()].every((i) => ok.has(plan.committee[i] ?? ''))) {
      a.roots.clear();
      a.sigs.clear();
    }
    this.record({
      datasetId: plan.datasetId,
      fromVersion: plan.fromVersion,
      state: 'planned',
      slots: plan.slots,
    });
    try {
      await this.run(plan, from, a);
      this.record({
        datasetId: plan.datasetId,
        fromVersion: plan.fromVersion,
        state: 'done',
        slots: plan.slots,
      });
    } catch (e) {
      this.host.log(
        `re-share ${plan.datasetId.slice(0, 12)}… v${plan.fromVersion} failed: ${errorText(e)}`,
      );
      this.record({
        datasetId: plan.datasetId,
        fromVersion: plan.fromVersion,
        state: 'failed',
        slots: plan.slots,
        message: errorText(e),
      });
    } finally {
      this.active.delete(key);
    }
  }

  /** Checks a plan against the chain and this node's view; returns this node's role. */
  private async check(plan: ReshareReq, from: string) {
    const { pub, address } = this.chain;
    const ds = `0x${plan.datasetId}` as Hex;
    const d = await pub.readContract({
      address,
      abi: confideAbi,
      functionName: 'getDataset',
      args: [ds],
    });
    if (d.version !== plan.fromVersion)
      throw new ReshareError(
        'RESHARE_STALE',
        `the chain is at version ${d.version}, the plan re-shares version ${plan.fromVersion}`,
      );
    const cur = await membersAt(pub, address, ds, plan.fromVersion);
    const newAddrs = plan.committee.map((k) => keyAddress(`0x${k}`).toLowerCase());
    if (new Set(newAddrs).size !== newAddrs.length)
      throw new ReshareError('RESHARE_BAD_PLAN', 'the plan repeats a node');
    const newT = Number(plan.meta[META.threshold]);
    if (cur.committee.length !== plan.committee.length || newT !== d.threshold) {
      // Only the dataset's owner changes the committee size or the threshold.
      const size = plan.committee.length;
      if (!plan.ownerProof)
        throw new ReshareError(
          'RESHARE_BAD_PLAN',
          'the plan changes the committee size or threshold without the owner’s request',
        );
      await this.checkOwner(d.owner, plan.datasetId, plan.fromVersion, size, newT, plan.ownerProof);
      checkShape(size, newT);
    }
    const slots = new Set(plan.slots);
    for (let i = 0; i < newAddrs.length; i++) {
      const same = cur.committee[i]?.toLowerCase() === newAddrs[i];
      if (slots.has(i) === same)
        throw new ReshareError(
          'RESHARE_BAD_PLAN',
          `member ${i}: ${slots.has(i) ? 'a replaced slot keeps its node' : 'a staying slot changes its node'}`,
        );
    }
    const t = d.threshold;
    const dealers = plan.committee.flatMap((_, i) => (slots.has(i) ? [] : [i]));
    if (dealers.length < t + 1)
      throw new ReshareError(
        'RESHARE_BAD_PLAN',
        `${dealers.length} staying members, need t+1 = ${t + 1}`,
      );
    if (!dealers.some((i) => plan.committee[i] === from))
      throw new ReshareError('RESHARE_BAD_PLAN', 'the plan does not come from a staying member');
    // Replacements are registered, active nodes.
    const registry = new Map(
      (await nodeRegistry(pub, address)).map((n) => [n.nodeId.toLowerCase(), n] as const),
    );
    for (const s of plan.slots) {
      const r = registry.get(newAddrs[s]!);
      if (!r?.active || r.key !== plan.committee[s])
        throw new ReshareError(
          'RESHARE_BAD_PLAN',
          `member ${s}: the replacement is not an active registered node`,
        );
    }
    const self = plan.committee.indexOf(this.host.id);
    if (self < 0)
      throw new ReshareError('RESHARE_BAD_PLAN', 'this node is not in the new committee');
    const manifest = await this.store.getManifest(plan.datasetId);
    const staying = dealers.includes(self);
    if (staying) {
      if (!manifest || manifest.version !== plan.fromVersion || manifest.memberIndex !== self)
        throw new ReshareError(
          'RESHARE_STALE',
          `this node does not hold version ${plan.fromVersion} as member ${self}`,
        );
      const stored = committeeOf(manifest);
      // Nobody is evicted behind its back: a replaced member must be off this node's mesh too.
      for (const s of plan.slots)
        if (
          stored[s] !== undefined &&
          this.host.isUp(stored[s]!) &&
          !this.isLeaving(stored[s]!, plan.datasetId)
        )
          throw new ReshareError(
            'RESHARE_BAD_PLAN',
            `member ${s} is online here; not re-sharing its slot`,
          );
      const names = manifest.columns.map((c) => c.name);
      if (names.length !== plan.columns.length || names.some((n, i) => n !== plan.columns[i]))
        throw new ReshareError(
          'RESHARE_BAD_PLAN',
          'the plan lists other columns than the stored ones',
        );
      if ((manifest.columns[0]?.rows ?? 0) !== plan.rows)
        throw new ReshareError('RESHARE_BAD_PLAN', `the plan says ${plan.rows} rows`);
    } else {
      // A new member takes the public metadata from the plan: its schema must be the chain's.
      parsePublishedSchema(String(plan.meta[META.schema] ?? ''), d.schemaHash);
    }
    if (String(plan.meta[META.committee]) !== plan.committee.join(','))
      throw new ReshareError('RESHARE_BAD_PLAN', 'the plan metadata names another committee');
    return { self, t, newT, dealers, staying, manifest, current: cur, newAddrs };
  }

  private async run(plan: ReshareReq, from: string, a: Active) {
    const { self, t, newT, dealers, staying, manifest, current, newAddrs } = await this.check(
      plan,
      from,
    );
    const short = `${plan.datasetId.slice(0, 12)}… v${plan.fromVersion}`;
    this.record({
      datasetId: plan.datasetId,
      fromVersion: plan.fromVersion,
      state: 're-sharing',
      slots: plan.slots,
    });
    const columns: BigUint64Array[] | undefined = staying ? [] : undefined;
    if (columns)
      for (const name of plan.columns)
        columns.push(await this.store.readColumn(plan.datasetId, name));
    // Job ids are short public names (the job board's id rule): dataset prefix, version, plan.
    const res = await this.host.runJob(
      `reshare-${plan.datasetId.slice(0, 16)}-v${plan.fromVersion}-${plan.req.slice(0, 12)}`,
      plan.committee,
      {
        kind: 'reshare',
        t: newT,
        ...(newT !== t ? { oldT: t } : {}),
        len: plan.rows,
        dealers,
        width: plan.columns.length,
        ...(columns ? { columns } : {}),
        timeoutMs: 60_000,
      },
    );
    if (res.kind !== 'reshare' || res.columns.length !== plan.columns.length)
      throw new ReshareError('RESHARE_FAILED', 'the worker returned no new partition');
    // Stage the new version: the current one stays until the chain records the re-share.
    const toVersion = plan.fromVersion + 1;
    const chunkSize = manifest?.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const staged: ColumnManifest[] = [];
    for (let ci = 0; ci < res.columns.length; ci++) {
      const col = res.columns[ci]!;
      const chunks = [];
      for (let k = 0; k * chunkSize < col.length; k++)
        chunks.push(
          await this.store.stageChunk(
            plan.datasetId,
            toVersion,
            ci,
            k,
            col.subarray(k * chunkSize, (k + 1) * chunkSize),
          ),
        );
      col.fill(0n);
      staged.push({ name: plan.columns[ci]!, rows: plan.rows, chunks });
    }
    const root = manifestRoot(staged);
    a.roots.set(self, root);
    const rootMsg: ReshareRoot = {
      t: 'reshare-root',
      req: plan.req,
      datasetId: plan.datasetId,
      toVersion,
      memberIndex: self,
      root,
    };
    for (const k of plan.committee) if (k !== this.host.id) this.host.send(k, rootMsg);
    this.record({
      datasetId: plan.datasetId,
      fromVersion: plan.fromVersion,
      state: 'recording',
      slots: plan.slots,
    });
    await this.until(
      a,
      () => a.roots.size === plan.committee.length,
      'every new member’s partition root',
    );
    const roots = plan.committee.map((_, i) => `0x${a.roots.get(i)!}` as Hex);
    const committeeAddrs = newAddrs as Address[];
    const leaderIndex = plan.committee.indexOf(a.from!);
    if (staying) {
      const digest = await reshareDigest(this.chain.pub, this.chain.address, {
        datasetId: `0x${plan.datasetId}`,
        fromVersion: plan.fromVersion,
        threshold: newT,
        committee: committeeAddrs,
        roots,
      });
      const sk = this.host.secretKey();
      const signature = signDigest(sk, digest);
      sk.fill(0);
      if (leaderIndex === self) a.sigs.set(self, signature);
      else
        this.host.send(a.from!, {
          t: 'reshare-sig',
          req: plan.req,
          datasetId: plan.datasetId,
          toVersion,
          memberIndex: self,
          signature,
        });
    }
    if (leaderIndex === self) {
      await this.until(a, () => a.sigs.size >= t + 1, `t+1 = ${t + 1} members’ signatures`);
      const signers = [...a.sigs.keys()]
        .filter((i) => dealers.includes(i))
        .sort((x, y) => x - y)
        .slice(0, t + 1);
      await reshareByMembers(this.host.wallet(), this.chain.pub, this.chain.address, {
        datasetId: `0x${plan.datasetId}`,
        threshold: newT,
        committee: committeeAddrs,
        roots,
        current,
        signerIndexes: signers,
        signatures: signers.map((i) => a.sigs.get(i)! as Hex),
      });
      this.host.log(`dataset ${short}: re-share recorded on chain as v${toVersion}`);
    }
    // Commit once the chain shows exactly this committee and these roots as the next version.
    const want = membersHash(membersOf(committeeAddrs, roots));
    const t0 = Date.now();
    for (;;) {
      const got = await this.chain.pub.readContract({
        address: this.chain.address,
        abi: confideAbi,
        functionName: 'membersHashAt',
        args: [`0x${plan.datasetId}`, toVersion],
      });
      if (got === want) break;
      if (/^0x0+$/.test(got) === false)
        throw new ReshareError(
          'RESHARE_CONFLICT',
          `the chain recorded another committee as v${toVersion}`,
        );
      if (Date.now() - t0 > RESHARE_STEP_TIMEOUT_MS)
        throw new ReshareError('RESHARE_TIMEOUT', `the chain did not record v${toVersion}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await this.store.commitPartition(
      {
        datasetId: plan.datasetId,
        version: toVersion,
        memberIndex: self,
        chunkSize,
        meta: plan.meta,
      },
      staged.map((c) => ({ name: c.name, rows: c.rows })),
    );
    this.host.log(
      `dataset ${short}: now v${toVersion}, this node is member ${self}${staying ? '' : ' (new)'}`,
    );
    this.host.changed();
  }
}
