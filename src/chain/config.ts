/**
 * Where the app finds the chain: RPC URL, chain id and the Confide contract address. Read from Vite
 * variables (VITE_CHAIN_RPC_URL, VITE_CHAIN_ID, VITE_CONFIDE_ADDRESS) that `npm start` sets after
 * deploying to its local anvil and that a real deployment sets to a real chain.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isAddress,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { ChainError } from './errors';

export interface ChainConfig {
  rpcUrl: string;
  chainId: number;
  confide: Address;
  /** How often receipts and events are polled, ms (VITE_CHAIN_POLL_MS; default CHAIN_POLL_MS). */
  pollMs?: number;
}

/**
 * Receipt and event polling interval. viem's default (4 s) added up to 4 s to every transaction a
 * tab waits for on the local chain (a node's registration, a query request, each result post);
 * 500 ms is still a light load on a hosted RPC endpoint. Set VITE_CHAIN_POLL_MS for a real chain.
 */
export const CHAIN_POLL_MS = 500;

/** The read client every part of the app uses for `cfg`'s chain. */
export function chainPublicClient(cfg: Pick<ChainConfig, 'rpcUrl' | 'pollMs'>): PublicClient {
  return createPublicClient({
    transport: http(cfg.rpcUrl),
    pollingInterval: cfg.pollMs ?? CHAIN_POLL_MS,
  }) as PublicClient;
}

export type ChainEnv = Record<string, string | boolean | undefined>;

/** A wallet client for a local account (a node key, a dev key) on `cfg`'s chain. */
export function chainWalletClient(
  cfg: Pick<ChainConfig, 'rpcUrl' | 'chainId'>,
  account: Account,
): WalletClient<Transport, Chain, Account> {
  return createWalletClient({
    account,
    chain: defineChain({
      id: cfg.chainId,
      name: `chain-${cfg.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [cfg.rpcUrl] } },
    }),
    transport: http(cfg.rpcUrl),
  });
}

export function chainConfigFromEnv(env: ChainEnv): ChainConfig {
  const get = (name: string): string => {
    const v = env[name];
    if (typeof v !== 'string' || v === '') {
      throw new ChainError(
        'CHAIN_CONFIG_MISSING',
        `chain config: ${name} is not set (npm start sets it)`,
      );
    }
    return v;
  };
  const rpcUrl = get('VITE_CHAIN_RPC_URL');
  if (!/^https?:\/\//.test(rpcUrl)) {
    throw new ChainError(
      'CHAIN_CONFIG_MISSING',
      `chain config: VITE_CHAIN_RPC_URL must be an http(s) URL, got ${JSON.stringify(rpcUrl)}`,
    );
  }
  const chainId = Number(get('VITE_CHAIN_ID'));
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new ChainError(
      'CHAIN_CONFIG_MISSING',
      `chain config: VITE_CHAIN_ID must be a positive integer, got ${JSON.stringify(env.VITE_CHAIN_ID)}`,
    );
  }
  const confide = get('VITE_CONFIDE_ADDRESS');
  if (!isAddress(confide)) {
    throw new ChainError(
      'CHAIN_CONFIG_MISSING',
      `chain config: VITE_CONFIDE_ADDRESS is not an address: ${JSON.stringify(confide)}`,
    );
  }
  const poll = env.VITE_CHAIN_POLL_MS;
  let pollMs: number | undefined;
  if (typeof poll === 'string' && poll !== '') {
    pollMs = Number(poll);
    if (!Number.isSafeInteger(pollMs) || pollMs < 50)
      throw new ChainError(
        'CHAIN_CONFIG_MISSING',
        `chain config: VITE_CHAIN_POLL_MS must be a whole number of milliseconds ≥ 50, got ${JSON.stringify(poll)}`,
      );
  }
  return { rpcUrl, chainId, confide, ...(pollMs !== undefined ? { pollMs } : {}) };
}
