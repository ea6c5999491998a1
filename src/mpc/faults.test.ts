/**
 * Network faults from the seeded scheduler: lost frames and parties that vanish. Honest parties
 * finish with the right answer when the protocol can continue, and otherwise abort with a clear
 * error — never a wrong output.
 */
import { describe, expect, it } from 'vitest';
import { MpcError } from './errors';
import { P, vecFrom } from './field';
import { runParties } from './simulate';

const XS = [2, 3, 5, 7, 11, 13, 17, 19];
const SQ = XS.map((x) => BigInt(x * x) % P);

describe('network faults', () => {
  it('lost frames: every party either answers correctly or aborts with a coded error', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { results } = await runParties(
        5,
        { t: 2, seed, dropRate: 0.03, timeoutMs: 200 },
        async (s, p) => {
          const x = await s.input(0, p.self === 0 ? vecFrom(XS) : undefined, XS.length);
          return Array.from(await s.open(await s.mul(x, x)));
        },
      );
      for (const r of results) {
        if (r.ok) expect(r.value, `seed ${seed}`).toEqual(SQ);
        else
          expect((r.error as MpcError).code, `seed ${seed}`).toMatch(
            /ERR_TIMEOUT|ERR_ABORTED|ERR_PEER_GONE/,
          );
      }
    }
  });

  it('two of five vanish after the multiplications: the other three still open the right answer', async () => {
    const { results } = await runParties(5, { t: 2 }, async (s, p, net) => {
      const x = await s.input(0, p.self === 0 ? vecFrom(XS) : undefined, XS.length);
      const y = await s.mul(x, x);
      if (p.self === 4) {
        net.disconnect(3);
        net.disconnect(4);
      }
      // a final verification needs only t+1 parties (it opens the MAC key instead of multiplying)
      return Array.from(await s.open(y, { final: true }));
    });
    for (const i of [0, 1, 2]) expect(results[i]!.ok && results[i]!.value).toEqual(SQ);
  });

  it('a party vanishing during a multiplication makes every honest party abort, naming it', async () => {
    const { results } = await runParties(5, { t: 2 }, async (s, p, net) => {
      const x = await s.input(0, p.self === 0 ? vecFrom(XS) : undefined, XS.length);
      if (p.self === 1) net.disconnect(1);
      return Array.from(await s.open(await s.mul(x, x)));
    });
    for (const i of [0, 2, 3, 4]) {
      const r = results[i]!;
      expect(r.ok).toBe(false);
      const e = r.ok ? undefined : (r.error as MpcError);
      expect(['ERR_PEER_GONE', 'ERR_ABORTED']).toContain(e?.code);
    }
    const direct = results.filter(
      (r, i) => i !== 1 && !r.ok && (r.error as MpcError).code === 'ERR_PEER_GONE',
    );
    expect(direct.length).toBeGreaterThan(0);
    for (const r of direct) expect((r as { error: MpcError }).error.suspects).toContain(1);
  });
});
