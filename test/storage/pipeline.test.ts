/**
 * The storage pipeline end to end in one process, with real stores (on disk and fake IndexedDB),
 * the engine's Shamir sharing and real encryption: CSV -> schema -> encode -> share -> seal ->
 * each member stores and signs -> receipts checked; then churn, more times than t, with
 * re-sharing that never reconstructs, checked against the plaintext after every step; then a
 * member that tampers with its partition is caught against the on-chain commitment.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { Field, reconstruct, robustReconstruct, seededRng, share } from '../../src/mpc/index';
import { parseCsv } from '../../src/storage/csv';
import { FsShareStore } from '../../src/storage/fs-store';
import { IdbShareStore } from '../../src/storage/idb-store';
import {
  deriveDatasetId,
  nodeIdFromPublicKey,
  replaceMember,
  selectCommittee,
  type Committee,
  type DirectoryEntry,
} from '../../src/storage/placement';
import {
  checkPlan,
  reshareCheckValue,
  reshareCombine,
  reshareDealMasked,
  reshareVerify,
  withoutMask,
  type ResharePlan,
} from '../../src/storage/reshare';
import {
  acceptValidation,
  decodeSigned,
  inferSchema,
  validateAndEncode,
} from '../../src/storage/schema';
import type { ShareStore } from '../../src/storage/store';
import type { Receipt } from '../../src/storage/receipt';
import { acceptShareBundle, collectReceipts, shareAndSeal } from '../../src/storage/upload';

const ROOT = mkdtempSync(join(tmpdir(), 'confide-pipeline-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const SEED = 20261125;
const F = new Field();
const rng = seededRng(SEED);

interface Node {
  sk: Uint8Array;
  pk: Uint8Array;
  id: string;
  store: ShareStore;
}

async function makeNode(i: number): Promise<Node> {
  const sk = createHash('sha256').update(`pipeline-node-${i}`).digest();
  const pk = secp256k1.getPublicKey(sk, true);
  // Alternate the two real store implementations.
  const store =
    i % 2 === 0
      ? await FsShareStore.open(join(ROOT, `node-${i}`))
      : await IdbShareStore.open(`pipeline-node-${i}`);
  return { sk: Uint8Array.from(sk), pk, id: nodeIdFromPublicKey(pk), store };
}

function csvText(rows: number): string {
  const out = ['patient,age,bmi,sex,admitted,delta'];
  for (let i = 0; i < rows; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    out.push(
      `p${i},${18 + ((i * 7) % 70)},${(18 + ((i * 13) % 200) / 10).toFixed(1)},${['F', 'M', 'X'][i % 3]},2020-02-${day},${(i % 11) - 5}`,
    );
  }
  out.splice(10, 0, 'p-bad,abc,20.0,F,2020-02-01,1');
  return out.join('\n');
}

describe('storage pipeline (in process, real stores and crypto)', () => {
  const nodes: Node[] = [];
  let directory: DirectoryEntry[] = [];
  let committee: Committee;
  let datasetId: string;
  let plain: { name: string; values: BigUint64Array }[];
  const chainRoots = new Map<string, string>(); // member id -> root registered on chain
  let version = 1;

  const storeOf = (id: string) => nodes.find((n) => n.id === id)!.store;

  async function reconstructFrom(members: number[]): Promise<BigUint64Array[]> {
    const out: BigUint64Array[] = [];
    for (const col of plain) {
      const shares = await Promise.all(
        members.map((j) => storeOf(committee.members[j]!).readColumn(datasetId, col.name)),
      );
      out.push(reconstruct(F, shares, members));
    }
    return out;
  }

  it('CSV -> shares sealed to 5 members -> stored -> 5 valid receipts -> reconstructs to the plaintext', async () => {
    for (let i = 0; i < 12; i++) nodes.push(await makeNode(i));
    directory = nodes.map((n) => ({ id: n.id, publicKey: n.pk, registered: true, online: true }));
    datasetId = deriveDatasetId('0x' + '42'.repeat(20), 'pipeline');
    committee = selectCommittee(datasetId, directory, { c: 5, t: 2 });

    const csv = parseCsv(new TextEncoder().encode(csvText(1000)));
    const inf = inferSchema(csv);
    expect(inf.schema.columns.map((c) => c.type.kind)).toEqual([
      'skip',
      'int',
      'decimal',
      'category',
      'date',
      'int',
    ]);
    const report = validateAndEncode(csv, inf.schema);
    expect(report.rejected).toEqual([
      { row: 10, column: 'age', columnIndex: 2, code: 'NOT_INTEGER', reason: 'not an integer' },
    ]);
    expect(() => acceptValidation(report, { dropRejectedRows: false })).toThrow(
      /UPLOAD_NOT_ACCEPTED/,
    );
    const accepted = acceptValidation(report, { dropRejectedRows: true });
    plain = accepted.columns.map((c) => ({ name: c.name, values: c.values.slice() }));

    const target = {
      datasetId,
      version,
      t: 2,
      chunkSize: 256,
      members: committee.members.map((id, j) => ({
        memberIndex: j,
        publicKey: nodes.find((n) => n.id === id)!.pk,
      })),
    };
    const progress: string[] = [];
    const sealed = await shareAndSeal(accepted, target, {
      field: F,
      rng,
      onProgress: (p) => progress.push(`${p.phase}${p.done}/${p.total}`),
    });
    expect(progress.at(-1)).toBe('seal5/5');
    const receipts: Receipt[] = [];
    for (const s of sealed) {
      const node = nodes.find((n) => n.id === committee.members[s.memberIndex])!;
      const { receipt } = await acceptShareBundle(
        node.store,
        s.sealed,
        node.sk,
        { datasetId, version, memberIndex: s.memberIndex },
        { t: 2, c: 5 },
      );
      receipts.push(receipt);
    }
    expect(() => collectReceipts(target, receipts.slice(0, 4))).toThrow(/member 4: no receipt/);
    expect(() =>
      collectReceipts(target, [...receipts.slice(0, 4), { ...receipts[4]!, memberIndex: 3 }]),
    ).toThrow(/member 3/);
    const roots = collectReceipts(target, receipts);
    committee.members.forEach((id, j) => chainRoots.set(id, roots[j]!));

    // A member cannot read another member's bundle.
    const other = nodes.find((n) => !committee.members.includes(n.id))!;
    await expect(
      acceptShareBundle(other.store, sealed[0]!.sealed, other.sk, {
        datasetId,
        version,
        memberIndex: 0,
      }),
    ).rejects.toMatchObject({ code: 'BUNDLE_AUTH' });

    for (const subset of [
      [0, 1, 2],
      [2, 3, 4],
      [0, 2, 4],
    ]) {
      const rec = await reconstructFrom(subset);
      rec.forEach((v, k) => expect(v).toEqual(plain[k]!.values));
    }
    // Known answers after decoding: first row of the file is age 18, bmi 18.0, sex F, delta -5.
    const [age, bmi, sex, , delta] = await reconstructFrom([1, 3, 4]);
    expect([age![0], bmi![0], sex![0], decodeSigned(delta![0]!)]).toEqual([18n, 180n, 0n, -5n]);
  });

  it(`churn (seed ${SEED}): a member leaves and a new node joins, 7 times (> t = 2); data always reconstructs`, async () => {
    const t = 2;
    let current = committee;
    for (let step = 0; step < 7; step++) {
      const slot = (step * 2) % 5;
      const leaving = current.members[slot]!;
      directory = directory.map((d) => (d.id === leaving ? { ...d, online: false } : d));
      const next = replaceMember(current, slot, directory);
      const joining = next.members[slot]!;
      expect(current.members).not.toContain(joining);
      // Dealers: the remaining t+1.. members; at every moment at least t+1 holders of the current sharing exist.
      const dealers = current.members.map((_, j) => j).filter((j) => j !== slot);
      expect(dealers.length).toBeGreaterThanOrEqual(t + 1);
      const plan: ResharePlan = checkPlan({ dealers, newSize: 5, newThreshold: t }, t);
      const newVersion = version + 1;
      // Per column: each dealer deals from its stored shares; each new member combines and stores.
      const newCols: { name: string; shares: BigUint64Array }[][] = Array.from(
        { length: 5 },
        () => [],
      );
      for (const col of plain) {
        // Checked re-sharing: masks are shares of one random value R (stands in for the engine's
        // joint random sharing), the challenge is drawn after dealing.
        const rShares = share(F, F.random(1, rng), 5, t, rng).map((v) => v[0]!);
        const dealt: BigUint64Array[][] = [];
        for (const d of dealers) {
          const mine = await storeOf(current.members[d]!).readColumn(datasetId, col.name);
          dealt.push(reshareDealMasked(F, mine, rShares[d]!, plan, rng));
        }
        const rho = F.randomScalar(rng);
        const checks = dealt.map((subs) => subs.map((sub) => reshareCheckValue(F, sub, rho)));
        const verdict = reshareVerify(checks, plan, t, true);
        expect(verdict.ok, `step ${step} column ${col.name}`).toBe(true);
        for (let j = 0; j < 5; j++) {
          newCols[j]!.push({
            name: col.name,
            shares: reshareCombine(
              F,
              dealt.map((sub) => withoutMask(sub[j]!)),
              plan,
            ),
          });
        }
      }
      for (let j = 0; j < 5; j++) {
        const m = await storeOf(next.members[j]!).writePartition({
          datasetId,
          version: newVersion,
          memberIndex: j,
          chunkSize: 256,
          columns: newCols[j]!,
        });
        chainRoots.set(next.members[j]!, m.merkleRoot);
      }
      await storeOf(leaving).deletePartition(datasetId);
      chainRoots.delete(leaving);
      committee = next;
      current = next;
      version = newVersion;
      // Check against the plaintext from a rotating t+1 subset including the newcomer.
      const subset = [slot, (slot + 1) % 5, (slot + 3) % 5].sort();
      const rec = await reconstructFrom(subset);
      rec.forEach((v, k) =>
        expect(v, `step ${step} column ${plain[k]!.name}`).toEqual(plain[k]!.values),
      );
      // Old shares of the departed member would no longer combine with the refreshed ones.
      expect((await storeOf(current.members[0]!).getManifest(datasetId))!.version).toBe(version);
    }
    expect(new Set(committee.members).size).toBe(5);
  });

  it('a member that tampers with its partition is detected (hash, commitment, and robust reconstruction)', async () => {
    const liar = committee.members[1]!;
    const s = storeOf(liar);
    // Tampering consistently (rewrites its own manifest and hashes) still cannot match the chain root.
    const age = await s.readColumn(datasetId, 'age');
    age[5] = (age[5]! + 1n) % F.p;
    const m = (await s.getManifest(datasetId))!;
    const cols: { name: string; shares: BigUint64Array }[] = [];
    for (const c of m.columns)
      cols.push({
        name: c.name,
        shares: c.name === 'age' ? age : await s.readColumn(datasetId, c.name),
      });
    await s.writePartition({
      datasetId,
      version: m.version + 1,
      memberIndex: 1,
      chunkSize: 256,
      columns: cols,
    });
    const rep = await s.verifyPartition(datasetId, chainRoots.get(liar));
    expect(rep).toMatchObject({ ok: false, rootMismatch: true });
    // At query time, shares from all 5 members locate the bad one (engine: Berlekamp–Welch).
    const shares = await Promise.all(
      committee.members.map((id) => storeOf(id).readColumn(datasetId, 'age')),
    );
    const robust = robustReconstruct(F, shares, [0, 1, 2, 3, 4], 2);
    expect(robust.values).toEqual(plain[0]!.values);
    expect(robust.faulty).toEqual([1]);
  });
});
