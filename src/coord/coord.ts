/**
 * Yjs coordination over the mesh: one document (job board + query drafts) and an awareness
 * instance (presence of nodes), synced with the y-protocols sync and awareness messages on the
 * mesh's coordination channel, optionally persisted with y-indexeddb.
 *
 * Peers are not trusted writers. Every message is size-limited; every document update from a peer
 * is first applied to a scratch copy of the document and the result checked against the schema
 * (schema.ts) — only then is it applied for real. Awareness entries are accepted only when they
 * describe the sender itself (state.node = the sender's authenticated key). Shares never go into
 * Yjs: the schema admits no binary content.
 *
 * Message envelope (lib0 encoding, as y-webrtc): varUint kind (0 sync, 1 awareness) | payload.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import {
  DRAFT_PREFIX,
  ID_RE,
  docProblem,
  jobProblem,
  presenceProblem,
  type Job,
  type PresenceState,
} from './schema';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
/** Largest coordination message accepted from a peer. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Coordination messages a peer may send per second (sustained) and in a burst. */
export const RATE_PER_SECOND = 50;
export const RATE_BURST = 200;
/** Largest encoded document we keep (the job board and drafts are small). */
export const MAX_DOC_BYTES = 4 * 1024 * 1024;

/** What the coordination layer needs from the network (the Mesh, or an in-memory pair in tests). */
export interface CoordNetwork {
  readonly self: string;
  /** Keys of currently connected, authenticated peers. */
  peers(): string[];
  send(to: string, bytes: Uint8Array): void;
  onMessage(handler: (from: string, bytes: Uint8Array) => void): void;
  onPeerUp(handler: (key: string) => void): void;
}

export interface Rejection {
  from: string;
  reason: string;
}

export interface CoordOptions {
  net: CoordNetwork;
  /** Persist the document under this IndexedDB name (browser only). */
  persistName?: string;
  name?: string;
}

const REMOTE = Symbol('remote');

export class Coord {
  readonly doc = new Y.Doc();
  readonly awareness: awarenessProtocol.Awareness;
  /** The last 100 rejected messages (a flood is recorded once). */
  readonly rejections: Rejection[] = [];
  readonly stats = { rejected: 0, rateLimited: 0 };
  private readonly net: CoordNetwork;
  /** Awareness client ids each peer has used (a peer may only speak for its own). */
  private readonly clientOwner = new Map<number, string>();
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  private persistence:
    { destroy(): Promise<void> | void; whenSynced: Promise<unknown> } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly o: CoordOptions) {
    this.net = o.net;
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    const me: PresenceState = {
      node: this.net.self,
      status: 'idle',
      ...(o.name ? { name: o.name } : {}),
    };
    this.awareness.setLocalState(me);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.broadcast(MSG_SYNC, (e) => syncProtocol.writeUpdate(e, update));
      this.changed();
    });
    this.awareness.on(
      'update',
      (
        { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
        origin: unknown,
      ) => {
        // Only our own presence goes out. Local changes to others' entries (y-protocols drops a
        // peer's state after 30 s of silence, e.g. the old client id of a reloaded tab) stay local:
        // each peer times them out itself, and peers refuse entries of clients they did not send.
        const mine = this.doc.clientID;
        if (origin !== REMOTE && added.concat(updated, removed).includes(mine)) {
          const upd = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [mine]);
          this.broadcast(MSG_AWARENESS, (e) => encoding.writeVarUint8Array(e, upd));
        }
        this.changed();
      },
    );
    this.net.onMessage((from, bytes) => this.onMessage(from, bytes));
    this.net.onPeerUp((key) => this.greet(key));
  }

  /** Loads the persisted document (browser), then greets the peers already connected. */
  async start(): Promise<void> {
    if (this.o.persistName) {
      const { IndexeddbPersistence } = await import('y-indexeddb');
      const p = new IndexeddbPersistence(this.o.persistName, this.doc);
      this.persistence = p;
      await p.whenSynced;
    }
    for (const k of this.net.peers()) this.greet(k);
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  private changed() {
    for (const l of this.listeners) l();
  }

  // ---- the job board and drafts (local writes are validated like remote ones) ----

  jobs(): Job[] {
    return [...this.doc.getMap<Job>('jobs').values()].sort((a, b) => a.updatedAt - b.updatedAt);
  }

  putJob(job: Omit<Job, 'updatedBy' | 'updatedAt'>): Job {
    const full: Job = { ...job, updatedBy: this.net.self, updatedAt: Date.now() };
    const p = jobProblem(full.id, full);
    if (p) throw new Error(`coord.putJob: ${p}`);
    this.doc.getMap<Job>('jobs').set(full.id, full);
    return full;
  }

  /** The shared text of draft `id` (a top-level named text: concurrent creators share it). */
  draft(id: string): Y.Text {
    if (!ID_RE.test(id))
      throw new Error(`coord.draft: ${JSON.stringify(id.slice(0, 80))} is not an id`);
    return this.doc.getText(DRAFT_PREFIX + id);
  }

  setPresence(p: Omit<PresenceState, 'node'>) {
    this.awareness.setLocalState({ ...p, node: this.net.self });
  }

  /** Presence of the nodes heard from (including this one). */
  presence(): PresenceState[] {
    return [...this.awareness.getStates().values()] as PresenceState[];
  }

  destroy() {
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'destroy');
    void this.persistence?.destroy();
    this.awareness.destroy();
    this.doc.destroy();
  }

  // ---- wire ----

  private broadcast(kind: number, write: (e: encoding.Encoder) => void) {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, kind);
    write(e);
    const bytes = encoding.toUint8Array(e);
    for (const k of this.net.peers()) this.net.send(k, bytes.slice());
  }

  private sendTo(to: string, kind: number, write: (e: encoding.Encoder) => void) {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, kind);
    write(e);
    this.net.send(to, encoding.toUint8Array(e));
  }

  private greet(key: string) {
    this.sendTo(key, MSG_SYNC, (e) => syncProtocol.writeSyncStep1(e, this.doc));
    const upd = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]);
    this.sendTo(key, MSG_AWARENESS, (e) => encoding.writeVarUint8Array(e, upd));
  }

  private reject(from: string, reason: string, rateLimited = false) {
    this.stats.rejected++;
    if (rateLimited) {
      // A flood: count it, record it once, do not log or re-render per message.
      if (this.stats.rateLimited++ > 0 && this.rejections.at(-1)?.reason === reason) return;
    }
    if (this.rejections.length >= 100) this.rejections.shift();
    this.rejections.push({ from, reason });
    console.warn(`coord: rejected a message from ${from.slice(0, 12)}…: ${reason}`);
    this.changed();
  }

  private onMessage(from: string, bytes: Uint8Array) {
    // Token bucket per peer: every update costs a validation on a scratch copy of the document.
    const now = Date.now();
    const b = this.buckets.get(from) ?? { tokens: RATE_BURST, last: now };
    b.tokens = Math.min(RATE_BURST, b.tokens + ((now - b.last) / 1000) * RATE_PER_SECOND);
    b.last = now;
    this.buckets.set(from, b);
    if (b.tokens < 1)
      return this.reject(from, `rate limit: more than ${RATE_PER_SECOND} messages/s`, true);
    b.tokens -= 1;
    if (bytes.length > MAX_MESSAGE_BYTES)
      return this.reject(from, `message of ${bytes.length} B > ${MAX_MESSAGE_BYTES}`);
    try {
      const d = decoding.createDecoder(bytes);
      const kind = decoding.readVarUint(d);
      if (kind === MSG_SYNC) {
        const type = decoding.readVarUint(d);
        const payload = decoding.readVarUint8Array(d);
        if (decoding.hasContent(d))
          return this.reject(from, 'trailing bytes after the sync message');
        if (type === syncProtocol.messageYjsSyncStep1) {
          Y.decodeStateVector(payload); // throws on garbage
          return this.sendTo(from, MSG_SYNC, (e) => {
            encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep2);
            encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(this.doc, payload));
          });
        }
        if (type === syncProtocol.messageYjsSyncStep2 || type === syncProtocol.messageYjsUpdate)
          return this.applyChecked(from, payload);
        return this.reject(from, `unknown sync message type ${type}`);
      }
      if (kind === MSG_AWARENESS) {
        const payload = decoding.readVarUint8Array(d);
        return this.applyAwareness(from, payload);
      }
      return this.reject(from, `unknown message kind ${kind}`);
    } catch (err) {
      return this.reject(from, `unparsable message: ${(err as Error).message}`);
    }
  }

  /** Applies a peer's document update only if the resulting document passes the schema. */
  private applyChecked(from: string, update: Uint8Array) {
    const trial = new Y.Doc({ gc: false });
    try {
      Y.applyUpdate(trial, Y.encodeStateAsUpdate(this.doc));
      Y.applyUpdate(trial, update);
      const size = Y.encodeStateAsUpdate(trial).length;
      if (size > MAX_DOC_BYTES)
        return this.reject(from, `document would grow to ${size} B > ${MAX_DOC_BYTES}`);
      const p = docProblem(trial);
      if (p) return this.reject(from, `invalid update: ${p}`);
    } catch (err) {
      return this.reject(from, `update does not decode: ${(err as Error).message}`);
    } finally {
      trial.destroy();
    }
    Y.applyUpdate(this.doc, update, REMOTE);
  }

  private applyAwareness(from: string, update: Uint8Array) {
    const d = decoding.createDecoder(update);
    const count = decoding.readVarUint(d);
    if (count > 16) return this.reject(from, `awareness update with ${count} entries`);
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(d);
      decoding.readVarUint(d); // clock
      const state: unknown = JSON.parse(decoding.readVarString(d));
      const owner = this.clientOwner.get(client);
      if (owner !== undefined && owner !== from)
        return this.reject(from, `awareness for client ${client} owned by another node`);
      if (client === this.doc.clientID) return this.reject(from, 'awareness for our own client id');
      if (state !== null) {
        const p = presenceProblem(state, from);
        if (p) return this.reject(from, p);
      }
      this.clientOwner.set(client, from);
    }
    if (decoding.hasContent(d))
      return this.reject(from, 'trailing bytes after the awareness update');
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE);
  }
}
