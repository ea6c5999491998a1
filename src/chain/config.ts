/**
 * Where the app finds the chain: RPC URL, chain id and the Confide contract address. Read from Vite
 * variables (VITE_CHAIN_RPC_URL, VITE_CHAIN_ID, VITE_CONFIDE_ADDRESS) that `npm start` sets after
 * deploying to its local anvil and that a real deployment sets to a real chain.
 */
import { isAddress, type Address } from 'viem';
import { ChainError } from './errors';

export interface ChainConfig {
  rpcUrl: string;
  chainId: number;
  confide: Address;
}

export type ChainEnv = Record<string, string | boolean | undefined>;

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
  return { rpcUrl, chainId, confide };
}
