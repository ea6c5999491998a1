/**
 * Chain access shared by the views: the chain config from Vite variables, wagmi with the
 * `injected` connector and EIP-6963 discovery (every announced wallet is its own button), a
 * public client for reads and, once a wallet is connected, a context with the account and a viem
 * wallet client for writes. Writes go through the plain helpers in src/chain/confide.ts.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Address, PublicClient } from 'viem';
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
import { chainConfigFromEnv, chainPublicClient, type ChainConfig } from '../../chain/config';
import type { ConfideWallet } from '../../chain/confide';
import { makeWagmiConfig } from '../../chain/wagmi';
import { Alert, Button, Card, ErrorAlert, explainText, shortHex } from '../kit';

export interface ChainCtx {
  cfg: ChainConfig;
  account: Address;
  pub: PublicClient;
  wallet(): Promise<ConfideWallet>;
}

interface ChainSetup {
  cfg: ChainConfig;
  pub: PublicClient;
}

const SetupContext = createContext<ChainSetup | null>(null);

/** Plain-words text of any error (kept for callers that show a one-line message). */
export function errorText(err: unknown): string {
  return explainText(err);
}

/** Chain configuration and wallet providers; shows a clear message when the app is not configured. */
export function ChainProvider({ children }: { children: ReactNode }) {
  const setup = useMemo(() => {
    try {
      const cfg = chainConfigFromEnv(
        import.meta.env as Record<string, string | boolean | undefined>,
      );
      return {
        cfg,
        wagmi: makeWagmiConfig(cfg),
        queryClient: new QueryClient(),
        pub: chainPublicClient(cfg),
      };
    } catch (err) {
      return { error: err };
    }
  }, []);
  if ('error' in setup) {
    return (
      <Alert
        tone="error"
        title="This app is not connected to a blockchain"
        next="Start the local network with `npm start`, or set VITE_CHAIN_RPC_URL, VITE_CHAIN_ID and VITE_CONFIDE_ADDRESS for a real chain (see the README)."
      >
        <span data-testid="config-error">{errorText(setup.error)}</span>
      </Alert>
    );
  }
  return (
    <WagmiProvider config={setup.wagmi}>
      <QueryClientProvider client={setup.queryClient}>
        <SetupContext.Provider value={{ cfg: setup.cfg, pub: setup.pub }}>
          {children}
        </SetupContext.Provider>
      </QueryClientProvider>
    </WagmiProvider>
  );
}

export function useChainSetup(): ChainSetup {
  const s = useContext(SetupContext);
  if (!s) throw new Error('useChainSetup: outside <ChainProvider>');
  return s;
}

/**
 * The connected wallet as a ChainCtx (null until connected on the right chain), with the panel
 * that asks for a connection.
 */
export function useWallet(): {
  ctx: ChainCtx | null;
  status: string;
  panel: ReactNode;
  disconnect(): void;
} {
  const { cfg, pub } = useChainSetup();
  const config = useConfig();
  const connection = useConnection();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const switchChain = useSwitchChain();
  const account = connection.address;
  const wrongChain = connection.chainId !== undefined && connection.chainId !== cfg.chainId;
  const ctx = useMemo<ChainCtx | null>(
    () =>
      account && !wrongChain
        ? {
            cfg,
            account,
            pub,
            wallet: async () =>
              (await getWalletClient(config, { chainId: cfg.chainId })) as unknown as ConfideWallet,
          }
        : null,
    [account, wrongChain, cfg, config, pub],
  );
  let panel: ReactNode = null;
  if (!account) {
    panel = (
      <div className="stack-sm">
        {connectors.length === 0 && (
          <Alert
            tone="warning"
            title="No wallet found in this browser"
            next="Install a browser wallet (any EIP-1193 wallet, e.g. MetaMask), reload this page, and import one of the demo keys printed by `npm start`."
          />
        )}
        <div className="row-center">
          {connectors.map((c) => (
            <Button
              key={c.uid}
              variant="primary"
              data-testid={`connect-${c.name}`}
              busy={connect.isPending}
              onClick={() => connect.mutate({ connector: c, chainId: cfg.chainId })}
            >
              Connect {c.name}
            </Button>
          ))}
        </div>
        <p className="small muted" data-testid="wallet-status">
          Wallet status: {connection.status}
        </p>
        {connect.error && <ErrorAlert error={connect.error} title="The wallet did not connect" />}
      </div>
    );
  } else if (wrongChain) {
    panel = (
      <div className="stack-sm">
        <Alert
          tone="warning"
          title="Your wallet is on another network"
          next={`Switch the wallet to chain ${cfg.chainId} (the button below asks the wallet to do it).`}
        >
          <span data-testid="wrong-chain">
            The wallet is on chain {connection.chainId}; Confide runs on chain {cfg.chainId}.
          </span>
        </Alert>
        <div>
          <Button
            variant="primary"
            busy={switchChain.isPending}
            onClick={() => switchChain.mutate({ chainId: cfg.chainId })}
          >
            Switch to chain {cfg.chainId}
          </Button>
        </div>
        {switchChain.error && (
          <ErrorAlert error={switchChain.error} title="The wallet did not switch" />
        )}
      </div>
    );
  }
  return { ctx, status: connection.status, panel, disconnect: () => disconnect.mutate() };
}

/** The connected account, with a Disconnect button. */
export function WalletBar({ ctx, onDisconnect }: { ctx: ChainCtx; onDisconnect(): void }) {
  return (
    <div className="row-center small" data-testid="wallet-account">
      <span className="muted">Connected as</span>
      <code title={ctx.account}>{ctx.account}</code>
      <span className="muted">
        on chain {ctx.cfg.chainId} · contract{' '}
        <code title={ctx.cfg.confide}>{shortHex(ctx.cfg.confide)}</code>
      </span>
      <Button size="sm" variant="ghost" onClick={onDisconnect}>
        Disconnect
      </Button>
    </div>
  );
}

/**
 * Hospital and researcher pages: asks for a wallet, then renders `children(ctx)` under a bar
 * showing the account.
 */
export function WalletGate({
  intro,
  children,
}: {
  intro: ReactNode;
  children: (ctx: ChainCtx) => ReactNode;
}) {
  const w = useWallet();
  if (!w.ctx) {
    return (
      <Card title="Connect a wallet" description={intro}>
        {w.panel}
      </Card>
    );
  }
  return (
    <div className="stack">
      <WalletBar ctx={w.ctx} onDisconnect={w.disconnect} />
      {children(w.ctx)}
    </div>
  );
}
