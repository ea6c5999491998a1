/**
 * The network client of a hospital or researcher tab (src/app): created once the wallet is
 * connected, closed when the account changes or the view unmounts. The views keep working on
 * chain-only features while it connects or when it cannot (they say so and offer a retry).
 */
import { useEffect, useState } from 'react';
import type { ConfideClient } from '../../app/api';
import { createClient } from '../../app/client';
import type { ChainCtx } from './chain';

export type ClientState =
  | { status: 'connecting' }
  | { status: 'ready'; client: ConfideClient }
  | { status: 'error'; error: unknown };

export function useClient(ctx: ChainCtx): { state: ClientState; retry(): void } {
  const [state, setState] = useState<ClientState>({ status: 'connecting' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    let made: ConfideClient | undefined;
    setState({ status: 'connecting' });
    createClient({ chain: ctx }).then(
      (c) => {
        made = c;
        if (live) setState({ status: 'ready', client: c });
        else c.close();
      },
      (error: unknown) => {
        if (live) setState({ status: 'error', error });
      },
    );
    return () => {
      live = false;
      made?.close();
    };
  }, [ctx, attempt]);
  return { state, retry: () => setAttempt((a) => a + 1) };
}

/** Re-renders on every change the client reports (nodes, datasets, coordination document). */
export function useClientVersion(client: ConfideClient | undefined): number {
  const [v, setV] = useState(0);
  useEffect(() => {
    if (!client) return;
    return client.onChange(() => setV((x) => x + 1));
  }, [client]);
  return v;
}
