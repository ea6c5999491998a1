/** Result shares sealed to the requester: only the requester's key opens them, tampering is caught. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { runParties, toField, type Shared } from '../../src/mpc/index';
import {
  answerQuery,
  compileQueryText,
  evaluatePlain,
  finalize,
  openAnswer,
  openSealedResult,
  planQuery,
  prepareAnswer,
  queryHash,
  runPlan,
  sealShares,
  unsealShares,
  QueryError,
} from '../../src/query/index';

const SCHEMA = {
  name: 'p',
  rows: 1000,
  columns: [
    { name: 'age', type: { kind: 'integer', min: 0, max: 120 } },
    { name: 'sex', type: { kind: 'category', domain: ['F', 'M'] } },
  ],
} as const;

describe('sealed result shares', () => {
  it('the requester reconstructs the result from any t+1 sealed boxes; others cannot open them', async () => {
    const plan = planQuery(
      compileQueryText('SELECT COUNT(*), AVG(age) FROM p WHERE age >= 30 GROUP BY sex', SCHEMA),
    );
    const age = Array.from({ length: 40 }, (_, i) => BigInt((i * 37) % 121));
    const sex = Array.from({ length: 40 }, (_, i) => BigInt(i % 2));
    const policy = { minCohort: 3 };
    const requester = secp256k1.keygen();
    const stranger = secp256k1.keygen();
    const { results } = await runParties(5, { t: 2 }, async (s, p) => {
      const v = p.self === 0 ? BigUint64Array.from([...age, ...sex].map(toField)) : undefined;
      const all = await s.input(0, v, 80);
      const cols = new Map<number, Shared>([
        [0, s.slice(all, 0, 40)],
        [1, s.slice(all, 40, 80)],
      ]);
      const r = await runPlan(s, plan, cols, { policy, output: { kind: 'shares' } });
      expect(r.opened).toBeNull();
      return sealShares(r.shares!, p.self, requester.publicKey, plan.checked.hash);
    });
    const boxes = results.map((r) => (r.ok ? r.value : new Uint8Array()));
    const expected = evaluatePlain(plan, [age, sex], policy);
    expect(
      openSealedResult(
        [boxes[4]!, boxes[1]!, boxes[2]!],
        requester.secretKey,
        plan.checked.hash,
        2,
      ),
    ).toEqual(expected);
    expect(openSealedResult(boxes, requester.secretKey, plan.checked.hash, 2)).toEqual(expected);
    const result = finalize(
      plan,
      openSealedResult(boxes, requester.secretKey, plan.checked.hash, 2),
    );
    const counts = [0, 1].map((g) => age.filter((a, i) => a >= 30n && sex[i] === BigInt(g)).length);
    expect(counts).toEqual([14, 16]); // independent count in the clear
    expect(result.rows.map((r) => r.values[0])).toEqual(counts);

    // Another key, another query hash, or a flipped bit: refused.
    expect(() => unsealShares(boxes[0]!, stranger.secretKey, plan.checked.hash)).toThrow(
      QueryError,
    );
    expect(() => unsealShares(boxes[0]!, requester.secretKey, 'ab'.repeat(32))).toThrow(
      /does not authenticate/,
    );
    const flipped = Uint8Array.from(boxes[0]!);
    flipped[flipped.length - 20]! ^= 1;
    expect(() => unsealShares(flipped, requester.secretKey, plan.checked.hash)).toThrow(
      /does not authenticate/,
    );
    // A box claiming another party's index fails authentication (the index is bound as associated data).
    const relabelled = Uint8Array.from(boxes[0]!);
    relabelled[2] = 3;
    expect(() => unsealShares(relabelled, requester.secretKey, plan.checked.hash)).toThrow(
      /party 3 does not authenticate/,
    );
    // Too few parties.
    expect(() =>
      openSealedResult(boxes.slice(0, 2), requester.secretKey, plan.checked.hash, 2),
    ).toThrow(/need t\+1 = 3/);
  });

  it('a party that seals wrong shares is caught by robust reconstruction', () => {
    const requester = secp256k1.keygen();
    const hash = 'cd'.repeat(32);
    // Shares of [7, 9] on degree-1 polynomials 7 + 2x and 9 + 5x, parties 0..3 at x = 1..4.
    const shares = [0, 1, 2, 3].map((i) =>
      BigUint64Array.of(7n + 2n * BigInt(i + 1), 9n + 5n * BigInt(i + 1)),
    );
    const boxes = shares.map((sh, i) =>
      sealShares(
        i === 2 ? BigUint64Array.of(sh[0]! + 1n, sh[1]!) : sh,
        i,
        requester.publicKey,
        hash,
      ),
    );
    // With 4 shares and t = 1 the wrong one is corrected.
    expect(openSealedResult(boxes, requester.secretKey, hash, 1)).toEqual([7n, 9n]);
    // With 3 shares it is detected.
    expect(() => openSealedResult(boxes.slice(1), requester.secretKey, hash, 1)).toThrow();
  });
});

describe('answerQuery / openAnswer (the node-side and requester-side calls)', () => {
  const text = "SELECT COUNT(*), AVG(age) FROM p WHERE sex = 'F'";
  const hash = queryHash(text).hash;
  const age = Array.from({ length: 30 }, (_, i) => BigInt((i * 13) % 121));
  const sex = Array.from({ length: 30 }, (_, i) => BigInt(i % 3 === 0 ? 1 : 0));

  it('runs the authorised query and only the requester opens the answer', async () => {
    const requester = secp256k1.keygen();
    const policy = { minCohort: 5 };
    const { results } = await runParties(3, { t: 1 }, async (s, p) => {
      const v = p.self === 0 ? BigUint64Array.from([...age, ...sex].map(toField)) : undefined;
      const all = await s.input(0, v, 60);
      const columns = new Map<number, Shared>([
        [0, s.slice(all, 0, 30)],
        [1, s.slice(all, 30, 60)],
      ]);
      return answerQuery(s, {
        text,
        authorisedHash: hash,
        schema: SCHEMA,
        policy,
        columns,
        requesterPublicKey: requester.publicKey,
      });
    });
    const boxes = results.map((r) => (r.ok ? r.value.box : new Uint8Array()));
    const res = openAnswer(
      { text, authorisedHash: hash, schema: SCHEMA, policy },
      boxes.slice(1),
      requester.secretKey,
      1,
    );
    const f = age.filter((_, i) => sex[i] === 0n);
    expect(res.rows[0]!.values[0]).toBe(f.length);
    expect(res.rows[0]!.values[1] as number).toBeCloseTo(
      f.reduce((a, b) => a + Number(b), 0) / f.length,
      9,
    );
  });

  it('refuses a text whose hash is not the authorised one, or a kind the policy forbids, before computing', () => {
    expect(() =>
      prepareAnswer({
        text: "SELECT COUNT(*) FROM p WHERE sex = 'M'",
        authorisedHash: hash,
        schema: SCHEMA,
        policy: { minCohort: 0 },
      }),
    ).toThrow(expect.objectContaining({ code: 'POLICY_REFUSED' }));
    expect(() =>
      prepareAnswer({
        text,
        authorisedHash: hash,
        schema: SCHEMA,
        policy: { minCohort: 0, allowedKinds: ['count', 'filter'] },
      }),
    ).toThrow(/does not allow AVG/);
  });
});
