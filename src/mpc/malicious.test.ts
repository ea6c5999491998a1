/**
 * A deviating party of every kind is caught in every run, and honest parties never output a wrong
 * value. The program below is run once honestly to learn its steps; then, for every step, party
 * MAL tampers with the frames it sends in that step only — consistently (wrong share / wrong king
 * value / wrong dealing), to one peer only (equivocation), by withholding, or with a malformed frame.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeData, FRAME_DATA } from './codec';
import { MpcError } from './errors';
import { P, vecFrom } from './field';
import { runParties, type RunOptions } from './simulate';
import type { Transport } from './transport';
import type { Session } from './session';

const N = 6;
const XS = [3, 1000, 77, 0, 4_000_000_000, 12];
const YS = [5, 999, 77, 1, 3, 4_000_000_001];
const PRODUCTS = XS.map((x, i) => (BigInt(x) * BigInt(YS[i]!)) % P);
/**
 * Copies of the inputs in a batch of products large enough for the king's seeded return (x·y and
 * the MAC product reduced together: 2 × 6 × 1400 = 16,800 ≥ 16,384 elements).
 */
const COPIES = 1400;
/** Copies in the batch of bare products (one element each: 6 × 2800 = 16,800 ≥ 16,384). */
const BARE_COPIES = 2800;
const SUM = PRODUCTS.reduce((a, b) => a + b, 0n) % P;
const EXPECTED = [
  ...PRODUCTS,
  ...XS.map((x, i) => (x < YS[i]! ? 1n : 0n)),
  ...PRODUCTS,
  (BigInt(COPIES) * SUM) % P,
  ...PRODUCTS,
  (BigInt(BARE_COPIES) * SUM) % P,
  SUM,
  ...XS.map((x) => BigInt(x % 32)),
  ...YS.map((y) => BigInt(y % 8)),
  ...YS.map((y) => BigInt(y % 128)),
];

async function program(s: Session, self: number): Promise<bigint[]> {
  const x = await s.input(0, self === 0 ? vecFrom(XS) : undefined, N);
  const y = await s.input(1, self === 1 ? vecFrom(YS) : undefined, N);
  const prod = await s.mul(x, y);
  const lt = await s.lt(x, y);
  // the stored-column path: a value without MAC authenticated later, and one used as the
  // right operand of a product without ever getting a MAC
  const [xa] = await s.authenticate([{ v: x.v }]);
  const prod2 = await s.mul(xa!, { v: y.v });
  // a batch of 8,400 products (the king returns a sharing with pseudo-random shares)
  const many = await s.mul(
    s.concat(Array.from({ length: COPIES }, () => x)),
    s.concat(Array.from({ length: COPIES }, () => y)),
  );
  // products without MACs, checked by the compressed product check: element-wise, a batch with
  // the seeded return, and a dot product; authenticated for the opening
  const [bare, bareMany] = await s.mulBare([
    [x, y],
    [
      s.concat(Array.from({ length: BARE_COPIES }, () => x)),
      s.concat(Array.from({ length: BARE_COPIES }, () => y)),
    ],
  ]);
  const [bareDot] = await s.dotBare([[x, { v: y.v }]]);
  const [bareAll] = await s.authenticate([s.concat([bare!, s.sumAll(bareMany!), bareDot!])]);
  // bit decompositions on bare carry networks: the full 61-bit subtraction and several splits
  const low5 = await s.modPow2(x, 5);
  const [low3, low7] = await s.modPow2Multi(y, [3, 7]);
  return Array.from(
    await s.open(s.concat([prod, lt, prod2, s.sumAll(many), bareAll!, low5, low3!, low7!])),
  );
}

type Kind = 'additive' | 'equivocate' | 'withhold' | 'malformed';

function adversary(mal: number, step: number, kind: Kind) {
  return (party: number, tr: Transport): Transport => {
    if (party !== mal) return tr;
    let equivocated = false;
    return {
      ...tr,
      send(to: number, bytes: Uint8Array) {
        const f = decodeFrame(bytes, mal, tr.n);
        if (f.type !== FRAME_DATA || f.op !== step) return tr.send(to, bytes);
        if (kind === 'withhold') return;
        if (kind === 'malformed') return tr.send(to, bytes.subarray(0, bytes.length - 3));
        if (f.payload.length === 0) return tr.send(to, bytes);
        // equivocation: only the first peer that gets a non-empty frame in this step sees a change
        if (kind === 'equivocate' && equivocated) return tr.send(to, bytes);
        equivocated = true;
        const payload = f.payload.slice();
        payload[0] = (payload[0]! + 1n) % P;
        return tr.send(to, encodeData(mal, f.session, f.op, [payload]));
      },
    };
  };
}

type Program = (s: Session, self: number) => Promise<bigint[]>;

async function stepsOf(
  n: number,
  t: number,
  mal: number,
  prog: Program = program,
): Promise<number[]> {
  const sent = new Set<number>();
  await runParties(n, { t, rngSeed: 11 }, (s, p) => prog(s, p.self));
  const { results } = await runParties(
    n,
    {
      t,
      rngSeed: 11,
      wrapTransport: (party, tr) =>
        party !== mal
          ? tr
          : {
              ...tr,
              send(to, bytes) {
                const f = decodeFrame(bytes, mal, tr.n);
                if (f.type === FRAME_DATA && f.payload.length > 0) sent.add(f.op);
                tr.send(to, bytes);
              },
            },
    },
    (s, p) => prog(s, p.self),
  );
  for (const r of results) expect(r.ok).toBe(true);
  return [...sent].sort((a, b) => a - b);
}

describe.each([
  [5, 2, 2],
  [3, 1, 0],
])('n=%i t=%i, deviating party %i', (n, t, mal) => {
  it('the honest program gives the plaintext answer', async () => {
    const { results } = await runParties(n, { t }, (s, p) => program(s, p.self));
    for (const r of results) expect(r.ok && r.value).toEqual(EXPECTED);
  });

  for (const kind of ['additive', 'equivocate', 'withhold', 'malformed'] as Kind[]) {
    it(`${kind}: caught in every step it deviates in; no honest party outputs a wrong value`, async () => {
      const steps = await stepsOf(n, t, mal);
      expect(steps.length).toBeGreaterThan(20);
      const opts: RunOptions = { t, rngSeed: 12, timeoutMs: kind === 'withhold' ? 150 : 5_000 };
      for (const step of steps) {
        const { results, parties } = await runParties(
          n,
          { ...opts, wrapTransport: adversary(mal, step, kind) },
          (s, p) => program(s, p.self),
        );
        let caught = 0;
        for (let i = 0; i < n; i++) {
          if (i === mal) continue;
          const r = results[i]!;
          if (r.ok) {
            // security with (selective) abort: an honest party that finishes has the right answer
            expect(
              r.value,
              `${kind} at step ${step}: honest party ${i} output a wrong value`,
            ).toEqual(EXPECTED);
            // a malformed frame in a step that can do without its sender excludes the sender instead
            if (parties[i]!.incidents.some((inc) => inc.peer === mal)) caught++;
          } else {
            expect(r.error, `step ${step}`).toBeInstanceOf(MpcError);
            caught++;
          }
        }
        // caught in every run: at least one honest party detected the deviation (aborted or excluded it)
        expect(caught, `${kind} at step ${step}: no honest party noticed`).toBeGreaterThan(0);
      }
    }, 120_000);
  }

  it('a wrong share in the final opening is corrected around and its sender named', async () => {
    if (n < 5) return; // identification needs m - t - 1 >= 2 shares of redundancy
    const steps = await stepsOf(n, t, mal);
    const last = steps[steps.length - 1]!;
    const { results } = await runParties(
      n,
      { t, rngSeed: 13, wrapTransport: adversary(mal, last, 'additive') },
      (s, p) => program(s, p.self),
    );
    for (let i = 0; i < n; i++) {
      if (i === mal) continue;
      const r = results[i]!;
      expect(r.ok).toBe(false);
      const e = r.ok ? undefined : (r.error as MpcError);
      expect(e?.code).toBe('ERR_CHEATING');
      expect(e?.suspects).toEqual([mal]);
    }
  });
});

describe('an inconsistent dealer', () => {
  it('is caught before its input is used, and named', async () => {
    const mal = 0;
    // the dealer gives party 3 a share off the polynomial (first frame of the run it sends with N+1 elements)
    const wrap = (party: number, tr: Transport): Transport =>
      party !== mal
        ? tr
        : {
            ...tr,
            send(to, bytes) {
              const f = decodeFrame(bytes, mal, tr.n);
              if (f.type === FRAME_DATA && f.payload.length === N + 1 && to === 3) {
                const pl = f.payload.slice();
                pl[2] = (pl[2]! + 5n) % P;
                return tr.send(to, encodeData(mal, f.session, f.op, [pl]));
              }
              tr.send(to, bytes);
            },
          };
    const { results } = await runParties(5, { t: 2, wrapTransport: wrap }, (s, p) =>
      program(s, p.self),
    );
    for (const i of [1, 2, 3, 4]) {
      const r = results[i]!;
      expect(r.ok).toBe(false);
      const e = r.ok ? undefined : (r.error as MpcError);
      expect(['ERR_CHEATING', 'ERR_ABORTED']).toContain(e?.code);
    }
    const direct = results.filter((r) => !r.ok && (r.error as MpcError).code === 'ERR_CHEATING');
    expect(direct.length).toBeGreaterThan(0);
    for (const r of direct) expect((r as { error: MpcError }).error.suspects).toEqual([mal]);
  });
});

describe('equality (68 bare products in a chain)', () => {
  const eqProgram: Program = async (s, self) => {
    const x = await s.input(0, self === 0 ? vecFrom(XS) : undefined, N);
    return Array.from(await s.open(await s.eqConst(x, 77n)));
  };
  const want = XS.map((x) => (x === 77 ? 1n : 0n));

  it('gives the plaintext answer, and a party deviating in any single step is caught', async () => {
    const [n, t, mal] = [5, 2, 3];
    const steps = await stepsOf(n, t, mal, eqProgram);
    expect(steps.length).toBeGreaterThan(60);
    for (const kind of ['additive', 'equivocate'] as Kind[]) {
      for (const step of steps) {
        const { results } = await runParties(
          n,
          { t, rngSeed: 14, wrapTransport: adversary(mal, step, kind) },
          (s, p) => eqProgram(s, p.self),
        );
        const honest = results.filter((_, i) => i !== mal);
        for (const r of honest) if (r.ok) expect(r.value, `${kind} at step ${step}`).toEqual(want);
        expect(
          honest.some((r) => !r.ok),
          `${kind} at step ${step}: no honest party noticed`,
        ).toBe(true);
      }
    }
    const { results } = await runParties(n, { t }, (s, p) => eqProgram(s, p.self));
    for (const r of results) expect(r.ok && r.value).toEqual(want);
  }, 120_000);
});
