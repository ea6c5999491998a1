/**
 * wagmi configuration: one chain (from `ChainConfig`), the `injected` connector for any EIP-1193
 * wallet (window.ethereum) and EIP-6963 multi-wallet discovery, so every wallet extension that
 * announces itself shows up as its own connector.
 */
import { defineChain } from 'viem';
import { createConfig, http, injected } from 'wagmi';
import type { ChainConfig } from './config';

export function confideChain(c: ChainConfig) {
  return defineChain({
    id: c.chainId,
    name: c.chainId === 31337 ? 'Confide local (anvil)' : `Chain ${c.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [c.rpcUrl] } },
  });
}

export function makeWagmiConfig(c: ChainConfig) {
  const chain = confideChain(c);
  return createConfig({
    chains: [chain],
    connectors: [injected()],
    transports: { [chain.id]: http(c.rpcUrl) },
    multiInjectedProviderDiscovery: true,
  });
}
