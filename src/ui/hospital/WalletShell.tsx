/**
 * Wallet connection shared by the hospital and researcher views: wagmi with the `injected`
 * connector and EIP-6963 discovery (every announced wallet is its own button), the chain config
 * from Vite variables, and a context with the connected account, a viem wallet client for writes
 * and a public client for reads. Writes go through the plain helpers in src/chain/confide.ts.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { createPublicClient, http, type Address, type PublicClient } from 'viem';
import {
  WagmiProvider,
  useConfig,
  useConnect,
  useConnection,
  useConnectors,
  useDisconnect,
  useSwitchChain,
} from 'wagmi';
import { getWalletClient } from 'wagmi/actions';
import { chainConfigFromEnv, type ChainConfig } from '../../chain/config';
import type { ConfideWallet } from '../../chain/confide';
import { makeWagmiConfig } from '../../chain/wagmi';

export interface ChainCtx {
  cfg: ChainConfig;
  account: Address;
  pub: PublicClient;
  wallet(): Promise<ConfideWallet>;
}

export const box: React.CSSProperties = {
  border: '1px solid #ccc',
  borderRadius: 6,
  padding: '0.75rem 1rem',
  margin: '0.75rem 0',
};

export function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { shortMessage?: unknown; message?: unknown; code?: unknown };
    const msg =
      typeof e.shortMessage === 'string'
        ? e.shortMessage
        : typeof e.message === 'string'
          ? e.message
          : String(err);
    return typeof e.code === 'string' ? `${e.code}: ${msg}` : msg;
  }
  return String(err);
}

export function WalletShell({
  title,
  children,
}: {
  title: string;
  children: (ctx: ChainCtx) => ReactNode;
}) {
  const setup = useMemo(() => {
    try {
      const cfg = chainConfigFromEnv(
        import.meta.env as Record<string, string | boolean | undefined>,
      );
      return {
        cfg,
        wagmi: makeWagmiConfig(cfg),
        queryClient: new QueryClient(),
        pub: createPublicClient({ transport: http(cfg.rpcUrl) }) as PublicClient,
      };
    } catch (err) {
      return { error: errorText(err) };
    }
  }, []);
  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 900,
        margin: '1.5rem auto',
        padding: '0 1rem',
      }}
    >
      <h1>{title}</h1>
      {'error' in setup ? (
        <p role="alert" data-testid="config-error">
          {setup.error}
        </p>
      ) : (
        <WagmiProvider config={setup.wagmi}>
          <QueryClientProvider client={setup.queryClient}>
            <ConnectGate cfg={setup.cfg} pub={setup.pub}>
              {children}
            </ConnectGate>
          </QueryClientProvider>
        </WagmiProvider>
      )}
    </main>
  );
}

function ConnectGate({
  cfg,
  pub,
  children,
}: {
  cfg: ChainConfig;
  pub: PublicClient;
  children: (ctx: ChainCtx) => ReactNode;
}) {
  const config = useConfig();
  const connection = useConnection();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const switchChain = useSwitchChain();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (connect.error) setError(errorText(connect.error));
  }, [connect.error]);
  const account = connection.address;
  const ctx = useMemo<ChainCtx | null>(
    () =>
      account
        ? {
            cfg,
            account,
            pub,
            wallet: async () =>
              (await getWalletClient(config, { chainId: cfg.chainId })) as unknown as ConfideWallet,
          }
        : null,
    [account, cfg, config, pub],
  );
  if (!ctx) {
    return (
      <section style={box}>
        <h2>Connect a wallet</h2>
        {connectors.length === 0 && <p>No wallet found: install an EIP-1193 wallet extension.</p>}
        {connectors.map((c) => (
          <button
            key={c.uid}
            data-testid={`connect-${c.name}`}
            disabled={connect.isPending}
            onClick={() => connect.mutate({ connector: c, chainId: cfg.chainId })}
            style={{ marginRight: 8 }}
          >
            Connect {c.name}
          </button>
        ))}
        <p data-testid="wallet-status">status: {connection.status}</p>
        {error && <p role="alert">{error}</p>}
      </section>
    );
  }
  if (connection.chainId !== undefined && connection.chainId !== cfg.chainId) {
    return (
      <section style={box}>
        <p role="alert" data-testid="wrong-chain">
          The wallet is on chain {connection.chainId}; Confide runs on chain {cfg.chainId}.
        </p>
        <button onClick={() => switchChain.mutate({ chainId: cfg.chainId })}>
          Switch to chain {cfg.chainId}
        </button>
        {switchChain.error && <p role="alert">{errorText(switchChain.error)}</p>}
      </section>
    );
  }
  return (
    <>
      <p data-testid="wallet-account">
        Connected as <code>{ctx.account}</code> on chain {cfg.chainId} · contract{' '}
        <code>{cfg.confide}</code> <button onClick={() => disconnect.mutate()}>Disconnect</button>
      </p>
      {children(ctx)}
    </>
  );
}
