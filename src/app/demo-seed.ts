/**
 * `npm start`'s demo hospital, run in a headless tab of the app (same code path as the hospital
 * dashboard: parse, confirm, share in a worker, seal to the committee, collect receipts, register
 * on chain), followed by a grant to the demo researcher. Keys here are anvil's public dev keys.
 */
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainPublicClient, chainWalletClient, type ChainConfig } from '../chain/config';
import { grantAccess, QUERY_KINDS, type ConfideWallet } from '../chain/confide';
import { parseCsv } from '../storage/csv';
import { acceptValidation, inferSchema, validateAndEncode } from '../storage/schema';
import { createClient } from './client';

export interface SeedOptions {
  cfg: ChainConfig;
  hospitalKey: Hex;
  researcher: Address;
  csvUrl: string;
  name: string;
  /** Columns never uploaded (identifiers). */
  skip: string[];
  minCohort: number;
  budget: number;
}

export function devWallet(cfg: ChainConfig, key: Hex): ConfideWallet {
  return chainWalletClient(cfg, privateKeyToAccount(key));
}

export async function seedDemo(o: SeedOptions) {
  const pub = chainPublicClient(o.cfg);
  const wallet = devWallet(o.cfg, o.hospitalKey);
  const client = await createClient({
    chain: { cfg: o.cfg, pub, account: wallet.account.address, wallet: async () => wallet },
  });
  const t0 = performance.now();
  try {
    const res = await fetch(o.csvUrl);
    if (!res.ok) throw new Error(`demo seed: ${o.csvUrl} returned ${res.status}`);
    const csv = parseCsv(new Uint8Array(await res.arrayBuffer()));
    const inferred = inferSchema(csv).schema;
    const schema = {
      ...inferred,
      columns: inferred.columns.map((c) =>
        o.skip.includes(c.name) ? { name: c.name, type: { kind: 'skip' as const } } : c,
      ),
    };
    const report = validateAndEncode(csv, schema);
    const accepted = acceptValidation(report, { dropRejectedRows: false });
    // Seconds from the start at which each upload phase began (parse and encode, then the
    // client's phases), for benchmark breakdowns.
    const phases: { phase: string; at: number }[] = [
      { phase: 'parse', at: 0 },
      { phase: 'committee', at: (performance.now() - t0) / 1000 },
    ];
    const up = await client.upload(accepted, { name: o.name }, (p) => {
      if (phases.at(-1)!.phase !== p.phase)
        phases.push({ phase: p.phase, at: (performance.now() - t0) / 1000 });
    });
    await grantAccess(wallet, pub, o.cfg.confide, up.datasetId, o.researcher, {
      kinds: QUERY_KINDS,
      minCohort: o.minCohort,
      budget: o.budget,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 30 * 86400),
    });
    return {
      datasetId: up.datasetId,
      rows: accepted.acceptedRows,
      committee: up.committee,
      seconds: up.seconds,
      phases,
    };
  } finally {
    client.close();
  }
}

/** The demo researcher's side without the UI (tests and benchmarks): submit and open one query. */
export async function demoQuery(o: { cfg: ChainConfig; key: Hex; datasetId: Hex; text: string }) {
  const pub = chainPublicClient(o.cfg);
  const wallet = devWallet(o.cfg, o.key);
  const client = await createClient({
    chain: { cfg: o.cfg, pub, account: wallet.account.address, wallet: async () => wallet },
  });
  /** Each phase the progress reported, with the seconds since submit when it began. */
  const phases: string[] = [];
  let last = '';
  const t0 = performance.now();
  try {
    const out = await client.submitQuery(o.datasetId, o.text, {}, (p) => {
      if (last === p.phase) return;
      last = p.phase;
      phases.push(`${p.phase} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    });
    return {
      queryId: String(out.queryId),
      seconds: out.seconds,
      phases,
      result: JSON.parse(
        JSON.stringify(out.result, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      ) as unknown,
    };
  } finally {
    client.close();
  }
}
