/**
 * Session.reshare: holders of a degree-t sharing (some members gone) give every party of the
 * session a fresh sharing of the same secrets, checked. Answers are checked against the secrets,
 * reconstructed from the new shares alone; dealers that deal something else are caught.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeData, FRAME_DATA } from './codec';
import type { MpcError } from './errors';
import { Field, P } from './field';
import { seededRng } from './rng';
import { lagrangeCoefficients, shareDeg } from './shamir';
import { runParties } from './simulate';
import type { Transport } from './transport';

const F = new Field();

function reconstruct(shares: BigUint64Array[], parties: number[]): BigUint64Array {
  return F.linComb(
    parties.map((p) => shares[p]!),
    lagrangeCoefficients(parties),
  );
}

function secretsOf(len: number, seed: number): BigUint64Array {
  const rng = seededRng(seed);
  const out = F.random(len, rng);
  out[0] = 0n;
  if (len > 1) out[1] = P - 1n;
  return out;
}

describe.each([
  [3, 1],
  [5, 2],
  [7, 3],
])('reshare n=%i t=%i', (n, t) => {
  it.each([1, 2])(
    'with %i member(s) gone, the new sharing holds the same secrets',
    async (gone) => {
      if (n - gone < t + 1) return;
      const seed = 1000 * n + gone;
      const len = 257;
      const secrets = secretsOf(len, seed);
      const old = shareDeg(F, secrets, n, t, seededRng(seed + 1));
      // members 1..gone left; the others deal what they store
      const leftSlots = Array.from({ length: gone }, (_, i) => i + 1);
      const dealers = Array.from({ length: n }, (_, i) => i).filter((i) => !leftSlots.includes(i));
      const { results } = await runParties(n, { t, rngSeed: seed }, async (s, p) => {
        const v = await s.reshare(dealers, dealers.includes(p.self) ? old[p.self] : undefined, len);
        await s.verify();
        return v;
      });
      const fresh = results.map((r, i) => {
        if (!r.ok) throw new Error(`party ${i} failed (seed ${seed}): ${String(r.error)}`);
        return r.value;
      });
      // every t+1 subset of the new shares gives the secrets, and the shares differ from the old ones
      expect(reconstruct(fresh, Array.from({ length: t + 1 }, (_, i) => n - 1 - i).sort())).toEqual(
        secrets,
      );
      expect(
        reconstruct(
          fresh,
          Array.from({ length: t + 1 }, (_, i) => i),
        ),
      ).toEqual(secrets);
      for (const d of dealers) expect(fresh[d]).not.toEqual(old[d]);
      // degree t: the (t+2)-th share is predicted by the first t+1
      const pts = Array.from({ length: t + 1 }, (_, i) => i);
      const predicted = F.linComb(
        pts.map((p) => fresh[p]!),
        lagrangeCoefficients(pts, BigInt(n)),
      );
      expect(predicted).toEqual(fresh[n - 1]);
    },
  );
});

/** Party `mal` changes the first element of the vector it deals to party `to` (or to all). */
function dealTamper(mal: number, len: number, to: number | 'all') {
  return (party: number, tr: Transport): Transport =>
    party !== mal
      ? tr
      : {
          ...tr,
          send(dest, bytes) {
            const f = decodeFrame(bytes, mal, tr.n);
            if (
              f.type === FRAME_DATA &&
              f.payload.length === len + 1 &&
              (to === 'all' || dest === to)
            ) {
              const pl = f.payload.slice();
              pl[0] = (pl[0]! + 7n) % P;
              return tr.send(dest, encodeData(mal, f.session, f.op, [pl]));
            }
            tr.send(dest, bytes);
          },
        };
}

describe('a cheating dealer', () => {
  const n = 5;
  const t = 2;
  const len = 33;
  const dealers = [0, 1, 2, 4]; // member 3 left
  const secrets = secretsOf(len, 5);
  const old = shareDeg(F, secrets, n, t, seededRng(6));

  it('that deals a sharing of degree > t is caught and named', async () => {
    const { results } = await runParties(
      n,
      { t, rngSeed: 3, wrapTransport: dealTamper(1, len, 4) },
      (s, p) => s.reshare(dealers, dealers.includes(p.self) ? old[p.self] : undefined, len),
    );
    const errs = results.map((r) => (r.ok ? undefined : (r.error as MpcError)));
    for (const e of errs) expect(e).toBeDefined();
    const direct = errs.filter((e) => e?.code === 'ERR_CHEATING');
    expect(direct.length).toBeGreaterThan(0);
    for (const e of direct) expect(e!.suspects).toEqual([1]);
  });

  it('that deals a value other than its stored share (a tampered partition) is caught', async () => {
    const tampered = old.map((v) => v.slice());
    tampered[2]![10] = (tampered[2]![10]! + 1n) % P;
    const { results } = await runParties(n, { t, rngSeed: 5 }, (s, p) =>
      s.reshare(dealers, dealers.includes(p.self) ? tampered[p.self] : undefined, len),
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(String((r as { error: unknown }).error)).toMatch(
        /ERR_CHEATING: .*something other than its stored share/,
      );
    }
  });

  it('is named when enough dealers remain to correct it (n=7, t=2, 6 dealers)', async () => {
    const old7 = shareDeg(F, secrets, 7, 2, seededRng(8));
    const ds = [0, 1, 2, 3, 5, 6];
    old7[5]![0] = (old7[5]![0]! + 3n) % P;
    const { results } = await runParties(7, { t: 2, rngSeed: 9 }, (s, p) =>
      s.reshare(ds, ds.includes(p.self) ? old7[p.self] : undefined, len),
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect((r as { error: MpcError }).error.suspects).toEqual([5]);
    }
  });

  it('refuses fewer than t+1 dealers and non-increasing dealer lists before any message', async () => {
    const { results } = await runParties(n, { t, rngSeed: 7 }, (s, p) =>
      s.reshare([0, 1], p.self < 2 ? old[p.self] : undefined, len),
    );
    for (const r of results)
      expect(String((r as { error: unknown }).error)).toMatch(/need t\+1 = 3/);
    const r2 = await runParties(n, { t, rngSeed: 7 }, (s, p) =>
      s.reshare([2, 0, 1], p.self < 3 ? old[p.self] : undefined, len),
    );
    for (const r of r2.results)
      expect(String((r as { error: unknown }).error)).toMatch(/increasing/);
  });
});

describe('changing the threshold (the session runs at the new t; the old sharing has degree oldT)', () => {
  const cases: [string, number, number, number, number[]][] = [
    // [label, old t, new n, new t, dealers (old members that stay, at their old x)]
    ['5 members t=2 → 5 members t=1', 2, 5, 1, [0, 1, 2, 3, 4]],
    ['3 members t=1 → 7 members t=3', 1, 7, 3, [0, 1, 2]],
    ['5 members t=2 → 7 members t=3, member 2 gone', 2, 7, 3, [0, 1, 3, 4]],
  ];
  it.each(cases)(
    '%s: the new sharing has the new degree and the same secrets',
    async (_, oldT, n, t, dealers) => {
      const len = 65;
      const seed = 77 + n * 10 + t;
      const secrets = secretsOf(len, seed);
      const oldN = Math.max(...dealers) + 1;
      const old = shareDeg(F, secrets, Math.max(oldN, 2 * oldT + 1), oldT, seededRng(seed + 1));
      const { results } = await runParties(n, { t, rngSeed: seed }, async (s, p) => {
        const v = await s.reshare(
          dealers,
          dealers.includes(p.self) ? old[p.self] : undefined,
          len,
          oldT,
        );
        await s.verify();
        return v;
      });
      const fresh = results.map((r, i) => {
        if (!r.ok) throw new Error(`party ${i} failed (seed ${seed}): ${String(r.error)}`);
        return r.value;
      });
      // any t+1 new shares give the secrets; the (t+2)-th is predicted by t+1 (degree exactly ≤ t)
      const first = Array.from({ length: t + 1 }, (_, i) => i);
      const last = Array.from({ length: t + 1 }, (_, i) => n - 1 - i).sort((a, b) => a - b);
      expect(reconstruct(fresh, first)).toEqual(secrets);
      expect(reconstruct(fresh, last)).toEqual(secrets);
      expect(
        F.linComb(
          first.map((p) => fresh[p]!),
          lagrangeCoefficients(first, BigInt(n)),
        ),
      ).toEqual(fresh[n - 1]);
    },
  );

  it('a dealer that re-shares something other than its stored share is still caught', async () => {
    const len = 17;
    const secrets = secretsOf(len, 91);
    const old = shareDeg(F, secrets, 5, 2, seededRng(92));
    old[3]![4] = (old[3]![4]! + 1n) % P;
    const dealers = [0, 1, 2, 3, 4];
    const { results } = await runParties(5, { t: 1, rngSeed: 93 }, (s, p) =>
      s.reshare(dealers, old[p.self], len, 2),
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect((r as { error: MpcError }).error.suspects).toEqual([3]);
    }
  });
});
