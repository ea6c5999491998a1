/**
 * The browser compute node: a node key from IndexedDB, the WebRTC mesh, the Yjs coordination
 * documents over it, and the MPC engine in a Web Worker. The UI thread only orchestrates: jobs run
 * in the worker, frames cross between worker and data channels with transfer lists.
 */
import * as Comlink from 'comlink';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { Coord } from '../coord/coord';
import { meshCoordNetwork } from '../coord/mesh-network';
import { loadOrCreateIdentity, type NodeIdentity } from '../net/identity';
import { Mesh, type MeshEvent, type PeerInfo } from '../net/mesh';
import type { EngineWorkerApi, JobResult, JobSpec, Progress } from '../../workers/jobs';
import { bridgeTransport } from './bridge';
import { chainConfigFromEnv, chainPublicClient } from '../chain/config';
import { IdbShareStore } from '../storage/idb-store';
import { NodeService, type PartitionInfo, type QueryLogEntry, type ServiceChain } from './service';
import type { ReshareEvent } from './reshare';
import { IdbQueryTextLog } from './query-texts';

export interface NodeConfig {
  signalingUrl: string;
  room: string;
  iceServers?: RTCIceServer[];
  /** Chain hook: is this key a registered node? Default: everybody is. */
  isRegisteredNode?: (publicKeyHex: string) => boolean | Promise<boolean>;
  name?: string;
  /** Persist the coordination document in IndexedDB (default true). */
  persistCoord?: boolean;
  /** Chain the node checks query authorisations against; without it, queries are refused. */
  chain?: ServiceChain;
  /** IndexedDB database of this node's share partition (default `confide-shares`). */
  storeName?: string;
  /** How long a committee member may be off the mesh before its committees re-share (ms). */
  reshareGraceMs?: number;
}

/** Where the page gets its configuration: query string, then VITE_* variables, then defaults. */
export function configFromEnvironment(search = globalThis.location?.search ?? ''): NodeConfig {
  const q = new URLSearchParams(search);
  const env = import.meta.env as Record<string, string | undefined>;
  const ice = q.get('ice') ?? env.VITE_ICE_SERVERS;
  let iceServers: RTCIceServer[] = [];
  if (ice) {
    try {
      const v: unknown = JSON.parse(ice);
      if (Array.isArray(v)) iceServers = v as RTCIceServer[];
    } catch {
      throw new Error(
        `node config: ice servers must be a JSON array of RTCIceServer, got ${ice.slice(0, 80)}`,
      );
    }
  }
  let chain: ServiceChain | undefined;
  if (env.VITE_CHAIN_RPC_URL && env.VITE_CONFIDE_ADDRESS) {
    const cfg = chainConfigFromEnv(env);
    chain = {
      pub: chainPublicClient(cfg),
      address: cfg.confide,
      cfg,
    };
  }
  return {
    ...(chain ? { chain } : {}),
    signalingUrl: q.get('signaling') ?? env.VITE_SIGNALING_URL ?? 'ws://127.0.0.1:18600',
    room: q.get('room') ?? env.VITE_MESH_ROOM ?? 'confide',
    iceServers,
    ...(q.get('name') ? { name: q.get('name')! } : {}),
    ...graceOf(q.get('grace') ?? env.VITE_RESHARE_GRACE_MS),
  };
}

function graceOf(v: string | null | undefined): { reshareGraceMs?: number } {
  if (v === null || v === undefined || v === '') return {};
  const ms = Number(v);
  if (!Number.isInteger(ms) || ms < 0 || ms > 86_400_000)
    throw new Error(
      `node config: the re-share grace period must be 0..86400000 ms, got ${v.slice(0, 40)}`,
    );
  return { reshareGraceMs: ms };
}

/** A job as the caller gives it: the session tag defaults to one derived from the job id. */
export type JobInput = JobSpec extends infer J
  ? J extends JobSpec
    ? Omit<J, 'session'> & { session?: number }
    : never
  : never;

export interface JobState {
  id: string;
  kind: JobSpec['kind'];
  stage: string;
  fraction: number;
  status: 'running' | 'done' | 'failed';
  error?: string;
  startedAt: number;
  seconds?: number;
}

export interface NodeSnapshot {
  id: string;
  room: string;
  peers: PeerInfo[];
  jobs: JobState[];
  events: string[];
  /** Partitions this node stores (refreshed after each change). */
  partitions: PartitionInfo[];
  /** Recent queries this node was asked to run, newest first. */
  queries: QueryLogEntry[];
  /** Re-shares of partitions this node took part in, newest first. */
  reshares: ReshareEvent[];
  /** New queries are refused (operator's pause). */
  paused: boolean;
  /** Announced its departure to its committees. */
  leaving: boolean;
}

export function sessionTag(jobId: string): number {
  const h = sha256(utf8ToBytes(`confide/job/${jobId}`));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

export class NodeRuntime {
  identity!: NodeIdentity;
  mesh!: Mesh;
  coord!: Coord;
  private worker!: Worker;
  private engine!: Comlink.Remote<EngineWorkerApi>;
  private readonly jobs = new Map<string, JobState>();
  private readonly events: string[] = [];
  private readonly listeners = new Set<() => void>();
  service!: NodeService;
  private partitionList: PartitionInfo[] = [];

  constructor(readonly config: NodeConfig) {}

  async start(): Promise<void> {
    this.identity = await loadOrCreateIdentity();
    this.worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), {
      type: 'module',
    });
    this.engine = Comlink.wrap<EngineWorkerApi>(this.worker);
    this.mesh = new Mesh({
      signalingUrl: this.config.signalingUrl,
      room: this.config.room,
      identity: this.identity,
      iceServers: this.config.iceServers ?? [],
      ...(this.config.isRegisteredNode ? { isRegisteredNode: this.config.isRegisteredNode } : {}),
    });
    this.mesh.on((e) => this.onMesh(e));
    this.coord = new Coord({
      net: meshCoordNetwork(this.mesh),
      ...(this.config.persistCoord === false
        ? {}
        : { persistName: `confide-coord-${this.config.room}` }),
      ...(this.config.name ? { name: this.config.name } : {}),
    });
    this.coord.onChange(() => this.changed());
    await this.coord.start();
    await this.engine.ping();
    const store = await IdbShareStore.open(this.config.storeName);
    this.service = new NodeService(
      this,
      store,
      this.config.chain,
      () => void this.refreshPartitions(),
      this.config.reshareGraceMs,
      await IdbQueryTextLog.open(`${this.config.storeName ?? 'confide-shares'}-query-texts`),
    );
    this.service.start();
    await this.refreshPartitions();
    await this.mesh.start();
    this.changed();
  }

  private async refreshPartitions() {
    try {
      this.partitionList = await this.service.partitions();
    } catch (e) {
      this.log(`storage: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.changed();
  }

  /** Appends a line to the node's event log (public facts only: never data). */
  log(line: string) {
    this.events.push(`${new Date().toISOString().slice(11, 19)} ${line}`);
    // also on the console, where `NETWORK_VERBOSE=1 npm start` forwards node tabs' output
    console.info(`[confide node] ${line}`);
    if (this.events.length > 200) this.events.shift();
    this.changed();
  }

  get id(): string {
    return this.identity.id;
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  private changed() {
    for (const l of this.listeners) l();
  }

  private onMesh(e: MeshEvent) {
    if (e.type === 'peer-up') this.service?.resharer?.peerUp(e.key);
    if (e.type === 'peer-down') this.service?.resharer?.peerDown(e.key);
    const line =
      e.type === 'peer-up'
        ? `peer up ${e.key.slice(0, 12)}…`
        : e.type === 'peer-down'
          ? `peer down ${e.key.slice(0, 12)}…: ${e.error.code}`
          : e.type === 'rejected'
            ? `rejected ${e.who.slice(0, 19)}…: ${e.error.code}`
            : `error: ${e.error.message}`;
    this.log(line);
  }

  snapshot(): NodeSnapshot {
    return {
      id: this.id,
      room: this.config.room,
      peers: this.mesh.peers(),
      jobs: [...this.jobs.values()],
      events: this.events.slice(-50),
      partitions: this.partitionList,
      queries: this.service?.queryLog() ?? [],
      reshares: this.service?.reshareEvents() ?? [],
      paused: this.service?.paused ?? false,
      leaving: this.service?.leaving ?? false,
    };
  }

  /**
   * Runs one job as this node's party in `committee` (node keys in party order, including this
   * node). Publishes progress on the job board and in presence; never publishes data.
   */
  async runJob(jobId: string, committee: string[], spec: JobInput): Promise<JobResult> {
    const self = committee.indexOf(this.id);
    if (self < 0) throw new Error(`runJob ${jobId}: this node is not in the committee`);
    const session = spec.session ?? sessionTag(jobId);
    const job = { ...spec, session } as JobSpec;
    const state: JobState = {
      id: jobId,
      kind: job.kind,
      stage: 'connecting',
      fraction: 0,
      status: 'running',
      startedAt: Date.now(),
    };
    this.jobs.set(jobId, state);
    const publish = () => {
      this.changed();
      if (self === 0)
        this.coord.putJob({
          id: jobId,
          title: `${job.kind} (n=${committee.length}, t=${job.t})`,
          status:
            state.status === 'running' ? 'running' : state.status === 'done' ? 'done' : 'failed',
          progress: state.fraction,
          committee,
          ...(state.error ? { note: state.error.slice(0, 500) } : {}),
        });
      this.coord.setPresence({
        status: state.status === 'running' ? 'computing' : 'idle',
        job: jobId,
        progress: state.fraction,
        ...(this.config.name ? { name: this.config.name } : {}),
      });
    };
    publish();
    let lastPublish = 0;
    await this.mesh.waitForPeers(committee, 30_000);
    const transport = this.mesh.transport({ session: jobId, committee });
    const { port1, port2 } = new MessageChannel();
    const bridge = bridgeTransport(port1, transport);
    const transfer: Transferable[] = [port2];
    try {
      const result = await this.engine.run(
        Comlink.transfer(port2, transfer),
        self,
        committee.length,
        job,
        Comlink.proxy((p: Progress) => {
          state.stage = p.stage;
          state.fraction = p.fraction;
          const now = performance.now();
          if (now - lastPublish > 250 || p.fraction === 1) {
            lastPublish = now;
            publish();
          } else this.changed();
        }),
      );
      state.status = 'done';
      state.fraction = 1;
      state.stage = 'done';
      return result;
    } catch (err) {
      state.status = 'failed';
      state.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      state.seconds = (Date.now() - state.startedAt) / 1000;
      // Relay the worker's last frames before closing (see Bridge.drained); bounded wait.
      await Promise.race([bridge.drained, new Promise((r) => setTimeout(r, 5000))]);
      bridge.close();
      publish();
    }
  }

  /** Releases a job paused after its inputs (tests of dropouts). */
  release(jobId: string): Promise<void> {
    return this.engine.release(sessionTag(jobId));
  }

  stop() {
    this.service?.stop();
    this.coord.destroy();
    this.mesh.close();
    this.worker.terminate();
  }
}
