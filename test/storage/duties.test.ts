import { describe, expect, it } from 'vitest';
import { nextChurnStep, nodeDuties, type RecordedCommittee } from '../../src/storage/duties';
import type { DirectoryEntry } from '../../src/storage/placement';
import type { PartitionManifest } from '../../src/storage/store';

const id = (n: number) => n.toString(16).padStart(64, '0');
const ds = (n: number) => 'f'.repeat(63) + n.toString(16);
const manifest = (datasetId: string, memberIndex: number, version: number): PartitionManifest => ({
  datasetId,
  memberIndex,
  version,
  chunkSize: 8,
  columns: [],
  merkleRoot: '0'.repeat(64),
  meta: {},
});

describe('node duties and churn steps', () => {
  it('classifies fetch / serve / drop / conflict', () => {
    const me = id(1);
    const committees: RecordedCommittee[] = [
      { datasetId: ds(1), params: { c: 3, t: 1 }, members: [id(1), id(2), id(3)], version: 2 },
      { datasetId: ds(2), params: { c: 3, t: 1 }, members: [id(4), id(1), id(3)], version: 1 },
      { datasetId: ds(3), params: { c: 3, t: 1 }, members: [id(4), id(5), id(1)], version: 3 },
      { datasetId: ds(4), params: { c: 3, t: 1 }, members: [id(4), id(5), id(1)], version: 1 },
    ];
    const held = [
      manifest(ds(1), 0, 1),
      manifest(ds(2), 1, 1),
      manifest(ds(3), 0, 3),
      manifest(ds(9), 0, 1),
    ];
    expect(nodeDuties(me, committees, held)).toEqual({
      fetch: [
        { datasetId: ds(1), memberIndex: 0, version: 2 },
        { datasetId: ds(4), memberIndex: 2, version: 1 },
      ],
      serve: [{ datasetId: ds(2), memberIndex: 1, version: 1 }],
      drop: [ds(9)],
      conflict: [ds(3)],
    });
  });

  it('next churn step: slots past the grace period are refilled by the closest other nodes; everyone else deals', () => {
    const dir: DirectoryEntry[] = Array.from({ length: 8 }, (_, i) => ({
      id: id(i + 1),
      publicKey: new Uint8Array(33),
      registered: true,
      online: true,
    }));
    const committee = {
      datasetId: id(0),
      params: { c: 5, t: 2 },
      members: [id(1), id(2), id(3), id(4), id(5)],
    };
    const seen = new Map(committee.members.map((m) => [m, 1000]));
    expect(nextChurnStep(committee, seen, 1500, 600, dir)).toBeUndefined();
    seen.set(id(2), 100);
    seen.set(id(4), 200);
    const step = nextChurnStep(committee, seen, 1500, 600, dir)!;
    expect(step.departed).toEqual([1, 3]);
    // XOR distance to id(0) is the id itself: the closest non-members are 6 then 7.
    expect(step.committee.members).toEqual([id(1), id(6), id(3), id(7), id(5)]);
    expect(step.plan).toEqual({ dealers: [0, 2, 4], newSize: 5, newThreshold: 2 });
    seen.set(id(1), 0);
    expect(() => nextChurnStep(committee, seen, 1500, 600, dir)).toThrow(
      /2 members remain, re-sharing needs t\+1 = 3/,
    );
  });
});
