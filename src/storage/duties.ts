/**
 * What a node should do about its partitions, computed locally from the chain's recorded committees
 * and what its store holds; and the next churn step of a committee. Pure functions for the node
 * runtime (src/node) to call on every chain event / presence change.
 */
import type { PartitionManifest } from './store';
import { StorageError } from './errors';
import {
  departedMembers,
  replaceMember,
  type Committee,
  type DirectoryEntry,
  type Id256,
} from './placement';
import type { ResharePlan } from './reshare';

export interface RecordedCommittee extends Committee {
  /** The dataset version the chain records for this committee. */
  version: number;
}

export interface Duties {
  /** Datasets this node must hold but does not (or holds at an older version): ask for a re-share. */
  fetch: { datasetId: Id256; memberIndex: number; version: number }[];
  /** Held and current: serve queries for these. */
  serve: { datasetId: Id256; memberIndex: number; version: number }[];
  /** Held but this node is no longer a member: delete once the new committee has committed. */
  drop: Id256[];
  /** Held at a member index that differs from the chain's record: do not serve; re-fetch. */
  conflict: Id256[];
}

export function nodeDuties(
  self: Id256,
  committees: readonly RecordedCommittee[],
  held: readonly PartitionManifest[],
): Duties {
  const heldBy = new Map(held.map((m) => [m.datasetId, m]));
  const duties: Duties = { fetch: [], serve: [], drop: [], conflict: [] };
  const mine = new Set<string>();
  for (const c of committees) {
    const j = c.members.indexOf(self);
    if (j < 0) continue;
    mine.add(c.datasetId);
    const m = heldBy.get(c.datasetId);
    if (m && m.memberIndex !== j) duties.conflict.push(c.datasetId);
    else if (!m || m.version < c.version)
      duties.fetch.push({ datasetId: c.datasetId, memberIndex: j, version: c.version });
    else duties.serve.push({ datasetId: c.datasetId, memberIndex: j, version: m.version });
  }
  for (const m of held) if (!mine.has(m.datasetId)) duties.drop.push(m.datasetId);
  return duties;
}

export interface ChurnStep {
  /** Slots whose members are gone past the grace period. */
  departed: number[];
  committee: Committee;
  /** Re-sharing from every remaining member to the new committee (same c and t). */
  plan: ResharePlan;
}

/**
 * The next churn step of a committee, or undefined if nobody is gone. Every remaining member deals
 * (more dealers than t+1 lets the engine's checks spot a dealer who lies). Throws
 * PLACEMENT_NOT_ENOUGH_NODES when fewer than t+1 members remain (the data cannot be re-shared).
 */
export function nextChurnStep(
  committee: Committee,
  lastSeen: ReadonlyMap<Id256, number>,
  now: number,
  graceMs: number,
  directory: readonly DirectoryEntry[],
  leftForGood: ReadonlySet<Id256> = new Set(),
): ChurnStep | undefined {
  const departed = departedMembers(committee, lastSeen, now, graceMs, leftForGood);
  if (departed.length === 0) return undefined;
  const dealers = committee.members.map((_, j) => j).filter((j) => !departed.includes(j));
  if (dealers.length < committee.params.t + 1) {
    throw new StorageError(
      'PLACEMENT_NOT_ENOUGH_NODES',
      `dataset ${committee.datasetId}: ${dealers.length} members remain, re-sharing needs t+1 = ${committee.params.t + 1}`,
      { datasetId: committee.datasetId },
    );
  }
  // Departed nodes must not be picked again: treat them as offline.
  const gone = new Set(departed.map((j) => committee.members[j]!));
  const dir = directory.map((d) => (gone.has(d.id) ? { ...d, online: false } : d));
  let next = committee;
  for (const slot of departed) next = replaceMember(next, slot, dir);
  return {
    departed,
    committee: next,
    plan: { dealers, newSize: committee.params.c, newThreshold: committee.params.t },
  };
}
