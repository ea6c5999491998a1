/**
 * Gas per user-facing operation of the Confide contract, measured on a real anvil (port 18560).
 * Gas is deterministic, so one run each; the figure for a committee-size–dependent operation is
 * reported at n = 5 (typical) and n = 16 (the contract's maximum). Every figure must stay < 200k.
 */
import { keccak256, parseEther, stringToHex, type Address, type Hex } from 'viem';
import type { Benchmark, BenchRecord } from './harness';
import { compressedPublicKey, keyAddress, randomNodeKey, signDigest } from '../src/chain/keys';
import { members, opDigest, type ConfideWallet } from '../src/chain/confide';
import { setupFixture, TEST_PARAMS, type Fixture } from '../contracts/fixture';

const PORT = 18560;
export const GAS_LIMIT_USER_TX = 200_000n;

interface NodeInfo {
  id: Address;
  key: Uint8Array;
  op: ConfideWallet;
}

/** Gas of every user-facing operation on a fresh chain at `port` (also used by contracts/gas.test.ts). */
export async function measureGas(port: number, log: (m: string) => void): Promise<BenchRecord[]> {
  const f: Fixture = await setupFixture(port, 3);
  try {
    const [owner, researcher, reporter] = f.wallets as [
      ConfideWallet,
      ConfideWallet,
      ConfideWallet,
    ];
    const out: BenchRecord[] = [];
    const rec = (name: string, gas: bigint, params: Record<string, number | string> = {}) => {
      if (gas >= GAS_LIMIT_USER_TX) log(`[bench] WARNING ${name} uses ${gas} gas (≥ 200k)`);
      out.push({
        name,
        value: Number(gas),
        unit: 'gas',
        reps: 1,
        limit: Number(GAS_LIMIT_USER_TX),
        ...params,
      });
    };
    const nodes: NodeInfo[] = [];
    let registerGas = 0n;
    for (let i = 0; i < 16; i++) {
      const op = await f.newWallet();
      const key = randomNodeKey();
      const pk = compressedPublicKey(key);
      const id = keyAddress(pk);
      const digest = await f.read<Hex>('registrationDigest', [op.account.address, id]);
      const r = await f.tx(
        op,
        'registerNode',
        [pk, signDigest(key, digest)],
        TEST_PARAMS.minDeposit,
      );
      if (i === 0) registerGas = r.receipt.gasUsed;
      nodes.push({ id, key, op });
    }
    rec('chain.gas.register_node', registerGas);
    nodes.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const encKey = compressedPublicKey(randomNodeKey());
    for (const n of [16, 5]) {
      const committee = nodes.slice(0, n).map((x) => x.id);
      const t = Math.floor((n - 1) / 2);
      const ds = await f.tx(owner, 'registerDataset', [
        stringToHex(`bench-${n}`),
        keccak256('0x01'),
        100_000,
        t,
        committee,
        committee.map((a) => keccak256(a)),
      ]);
      const dsId = ds.events[0]!.args.datasetId as Hex;
      const mem = members(
        committee,
        committee.map((a) => keccak256(a)),
      );
      rec('chain.gas.register_dataset', ds.receipt.gasUsed, { n, t });
      const expiry = (await f.now()) + 86_400n;
      const g = await f.tx(owner, 'grant', [
        dsId,
        researcher.account.address,
        0b111,
        10,
        10,
        expiry,
      ]);
      if (n === 5) rec('chain.gas.grant', g.receipt.gasUsed);
      const q = await f.tx(
        researcher,
        'requestQuery',
        [dsId, keccak256('0x51'), 1, encKey],
        parseEther('0.05'),
      );
      const qId = q.events[0]!.args.queryId as bigint;
      if (n === 5) rec('chain.gas.request_query', q.receipt.gasUsed);
      const posts: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const r = await f.tx(nodes[i]!.op, 'postResult', [qId, mem, i, keccak256(nodes[i]!.id)]);
        posts.push(r.receipt.gasUsed);
      }
      // first post starts the query, the middle ones are typical, the last one completes it
      rec('chain.gas.post_result', posts[1]!, { n, which: 'typical' });
      rec('chain.gas.post_result.first', posts[0]!, { n });
      rec('chain.gas.post_result.last', posts[n - 1]!, { n, completes: 'yes' });
      const c = await f.tx(reporter, 'claimFee', [qId, committee[0]]);
      if (n === 5) {
        rec('chain.gas.claim_fee', c.receipt.gasUsed);
        const w = await f.tx(nodes[0]!.op, 'withdraw', []);
        rec('chain.gas.withdraw', w.receipt.gasUsed);
        const rv = await f.tx(owner, 'revoke', [dsId, researcher.account.address]);
        rec('chain.gas.revoke', rv.receipt.gasUsed);
      }
      const m = {
        datasetId: dsId,
        version: 1,
        session: keccak256('0x5e'),
        opId: keccak256('0x0b'),
      };
      const bad = nodes[n - 1]!;
      const ev = {
        ...m,
        payloadA: keccak256('0xaa'),
        sigA: signDigest(
          bad.key,
          opDigest(f.chainId, f.address, { ...m, payloadHash: keccak256('0xaa') }),
        ),
        payloadB: keccak256('0xbb'),
        sigB: signDigest(
          bad.key,
          opDigest(f.chainId, f.address, { ...m, payloadHash: keccak256('0xbb') }),
        ),
      };
      const s = await f.tx(reporter, 'slashEquivocation', [ev, mem]);
      rec('chain.gas.slash_equivocation', s.receipt.gasUsed, { n });
      const slashId = s.events[0]!.args.slashId as bigint;
      const cs = await f.tx(reporter, 'claimSlashReward', [slashId, mem, 0]);
      rec('chain.gas.claim_slash_reward', cs.receipt.gasUsed, { n });
    }
    return out;
  } finally {
    await f.stop();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'chain.gas', run: ({ log }) => measureGas(PORT, log) },
];
