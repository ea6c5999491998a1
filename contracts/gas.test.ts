/**
 * Every user-facing transaction stays under 200k gas (port 18547), measured with the same code as
 * `npm run bench -- --filter chain.gas`, including committees of the maximum size (16).
 */
import { expect, it } from 'vitest';
import { GAS_LIMIT_USER_TX, measureGas } from '../bench/chain.bench';

it('every user-facing transaction uses < 200k gas (committees of 5 and 16)', async () => {
  const recs = await measureGas(18547, () => {});
  const names = new Set(recs.map((r) => r.name));
  for (const n of ['register_node', 'grant', 'request_query', 'post_result', 'register_dataset']) {
    expect(names.has(`chain.gas.${n}`)).toBe(true);
  }
  for (const r of recs) {
    expect(r.value, `${r.name} ${JSON.stringify(r)}`).toBeGreaterThan(20_000);
    expect(r.value, `${r.name} ${JSON.stringify(r)}`).toBeLessThan(Number(GAS_LIMIT_USER_TX));
  }
}, 180_000);
