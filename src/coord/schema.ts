/**
 * What the coordination documents may contain, checked on every update a peer sends before it is
 * applied (Yjs trusts its writers; we do not). Only small JSON values of known shapes: no binary
 * content anywhere, so shares can never be smuggled into (or accidentally written to) Yjs.
 *
 *   jobs:          Y.Map<jobId, Job>   the job board (queries and their progress)
 *   draft:<id>     Y.Text              one shared, live-edited query draft per id
 *
 * Drafts are top-level texts (named types), not texts nested in a map: two peers that start the
 * same draft at once then edit one text, where nested texts would race and one side's text would
 * be dropped by the map's last-writer-wins.
 */
import * as Y from 'yjs';

export const TOP_LEVEL = ['jobs'] as const;
/** Prefix of the top-level name of each draft's text. */
export const DRAFT_PREFIX = 'draft:';
export const MAX_JOBS = 1000;
export const MAX_DRAFTS = 200;
export const MAX_DRAFT_CHARS = 20_000;
export const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
export const JOB_STATUS = ['queued', 'running', 'done', 'failed', 'aborted'] as const;
export type JobStatus = (typeof JOB_STATUS)[number];

export interface Job {
  id: string;
  title: string;
  status: JobStatus;
  /** 0..1 */
  progress: number;
  /** Node keys (hex) of the committee, in party order. */
  committee: string[];
  /** Node key of the last writer. */
  updatedBy: string;
  updatedAt: number;
  /** A short public message (e.g. the abort reason); never data. */
  note?: string;
}

const KEY_RE = /^0[23][0-9a-f]{64}$/;

/** Returns undefined when `v` is a valid Job stored under `id`, else what is wrong. */
export function jobProblem(id: string, v: unknown): string | undefined {
  if (!ID_RE.test(id)) return `job id ${JSON.stringify(id.slice(0, 80))} is not an id`;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
    return `job ${id}: not an object`;
  const j = v as Record<string, unknown>;
  const allowed = new Set([
    'id',
    'title',
    'status',
    'progress',
    'committee',
    'updatedBy',
    'updatedAt',
    'note',
  ]);
  for (const k of Object.keys(j))
    if (!allowed.has(k)) return `job ${id}: unknown field ${JSON.stringify(k.slice(0, 40))}`;
  if (j.id !== id) return `job ${id}: id field ${JSON.stringify(j.id)} differs from its key`;
  if (typeof j.title !== 'string' || j.title.length > 200)
    return `job ${id}: title must be a string of ≤ 200 chars`;
  if (!JOB_STATUS.includes(j.status as JobStatus))
    return `job ${id}: status ${JSON.stringify(j.status)} is not one of ${JOB_STATUS.join('/')}`;
  if (typeof j.progress !== 'number' || !(j.progress >= 0 && j.progress <= 1))
    return `job ${id}: progress must be in [0, 1]`;
  if (
    !Array.isArray(j.committee) ||
    j.committee.length > 64 ||
    !j.committee.every((k) => typeof k === 'string' && KEY_RE.test(k))
  )
    return `job ${id}: committee must be ≤ 64 node keys`;
  if (typeof j.updatedBy !== 'string' || !KEY_RE.test(j.updatedBy))
    return `job ${id}: updatedBy must be a node key`;
  if (typeof j.updatedAt !== 'number' || !Number.isFinite(j.updatedAt))
    return `job ${id}: updatedAt must be a number`;
  if (j.note !== undefined && (typeof j.note !== 'string' || j.note.length > 500))
    return `job ${id}: note must be a string of ≤ 500 chars`;
  return undefined;
}

/** Validates a whole document; returns the first problem found, or undefined. */
export function docProblem(doc: Y.Doc): string | undefined {
  const drafts: string[] = [];
  for (const name of doc.share.keys()) {
    if ((TOP_LEVEL as readonly string[]).includes(name)) continue;
    if (name.startsWith(DRAFT_PREFIX) && ID_RE.test(name.slice(DRAFT_PREFIX.length))) {
      drafts.push(name);
      continue;
    }
    return `unknown top-level type ${JSON.stringify(name.slice(0, 40))}`;
  }
  const jobs = doc.share.get('jobs');
  if (jobs) {
    const m = doc.getMap('jobs');
    if (m.size > MAX_JOBS) return `more than ${MAX_JOBS} jobs`;
    for (const [id, v] of m) {
      const p = jobProblem(id, v);
      if (p) return p;
    }
  }
  if (drafts.length > MAX_DRAFTS) return `more than ${MAX_DRAFTS} drafts`;
  for (const name of drafts) {
    const id = name.slice(DRAFT_PREFIX.length);
    let v: Y.Text;
    try {
      v = doc.getText(name);
    } catch {
      return `draft ${id} is not text`;
    }
    if (Object.keys(v.getAttributes()).length) return `draft ${id} is not text`;
    if (v.length > MAX_DRAFT_CHARS) return `draft ${id} is longer than ${MAX_DRAFT_CHARS} chars`;
    for (const d of v.toDelta() as Array<{ insert?: unknown; attributes?: unknown }>)
      if (typeof d.insert !== 'string' || d.attributes !== undefined)
        return `draft ${id} holds non-text content`;
  }
  return undefined;
}

export interface PresenceState {
  /** The node key; must equal the authenticated sender. */
  node: string;
  name?: string;
  status: 'idle' | 'computing';
  job?: string;
  progress?: number;
}

export function presenceProblem(v: unknown, sender: string): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'presence: not an object';
  const s = v as Record<string, unknown>;
  for (const k of Object.keys(s))
    if (!['node', 'name', 'status', 'job', 'progress'].includes(k))
      return `presence: unknown field ${JSON.stringify(k.slice(0, 40))}`;
  if (s.node !== sender) return 'presence: node field is not the sender’s key';
  if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length > 64))
    return 'presence: name must be ≤ 64 chars';
  if (s.status !== 'idle' && s.status !== 'computing') return 'presence: bad status';
  if (s.job !== undefined && (typeof s.job !== 'string' || !ID_RE.test(s.job)))
    return 'presence: bad job id';
  if (
    s.progress !== undefined &&
    (typeof s.progress !== 'number' || !(s.progress >= 0 && s.progress <= 1))
  )
    return 'presence: bad progress';
  return undefined;
}
