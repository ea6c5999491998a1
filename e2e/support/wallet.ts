/**
 * A `window.ethereum` shim for headless Chromium whose keys and signing stay in the test process:
 * the page's EIP-1193 `request` calls go through `page.exposeFunction` to a viem local account here,
 * which signs transactions and sends them raw to anvil; read calls are forwarded to the RPC. The
 * shim also announces itself over EIP-6963, so wagmi's discovery lists it by name. No key ever
 * reaches the page or the app bundle. The init script is passed as a string (a function compiled
 * by tsx would reference esbuild's `__name` helper, undefined in the page).
 */
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
  createPublicClient,
  createTestClient,
  http,
  parseEther,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export const TEST_WALLET_NAME = 'Confide Test Wallet';

export interface WalletOptions {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}

function initScript(name: string): string {
  return `(() => {
  const listeners = {};
  const provider = {
    isConfideTestWallet: true,
    async request(args) {
      const method = args && args.method;
      const params = args && args.params !== undefined ? args.params : [];
      let out;
      try {
        out = await window.__confideWallet(String(method), JSON.stringify(params));
      } catch (e) {
        const text = String((e && e.message) || e);
        const m = /\\[(-?\\d+)\\] ([\\s\\S]*)/.exec(text);
        const err = new Error(m ? m[2] : text);
        err.code = m ? Number(m[1]) : -32603;
        throw err;
      }
      return JSON.parse(out);
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); return provider; },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return provider; },
  };
  window.ethereum = provider;
  const info = Object.freeze({
    uuid: '6f1c8b1e-2a51-4d0e-9b7a-0c0f1de00001',
    name: ${JSON.stringify(name)},
    icon: 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%2232%22 height=%2232%22%3E%3Crect width=%2232%22 height=%2232%22 fill=%22%23264%22/%3E%3C/svg%3E',
    rdns: 'dev.confide.testwallet',
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();`;
}

/** Install the wallet in `page` (before navigation). Returns the account address. */
export async function installWallet(page: Page, opts: WalletOptions): Promise<Address> {
  const account = privateKeyToAccount(opts.privateKey);
  const pub = createPublicClient({ transport: http(opts.rpcUrl) });
  const chainIdHex = toHex(opts.chainId);
  let rpcId = 1;
  let authorised = false;
  const forward = async (method: string, params: unknown[]): Promise<unknown> => {
    const r = await fetch(opts.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method, params }),
    });
    const body = (await r.json()) as {
      result?: unknown;
      error?: { code: number; message: string };
    };
    if (body.error) throw new RpcError(body.error.code, body.error.message);
    return body.result;
  };
  const handle = async (method: string, params: unknown[]): Promise<unknown> => {
    switch (method) {
      case 'eth_requestAccounts':
        // Like a real wallet: the page sees the account only after asking for it.
        authorised = true;
        return [account.address];
      case 'eth_accounts':
        return authorised ? [account.address] : [];
      case 'eth_chainId':
        return chainIdHex;
      case 'net_version':
        return String(opts.chainId);
      case 'wallet_requestPermissions':
        authorised = true;
        return [{ parentCapability: 'eth_accounts' }];
      case 'wallet_getPermissions':
        return authorised ? [{ parentCapability: 'eth_accounts' }] : [];
      case 'wallet_revokePermissions':
        authorised = false;
        return null;
      case 'wallet_switchEthereumChain': {
        const want = (params[0] as { chainId?: string } | undefined)?.chainId;
        if (want?.toLowerCase() !== chainIdHex) throw new RpcError(4902, `unknown chain ${want}`);
        return null;
      }
      case 'eth_sendTransaction': {
        const tx = params[0] as { from?: string; to?: Address; data?: Hex; value?: Hex; gas?: Hex };
        if (tx.from && tx.from.toLowerCase() !== account.address.toLowerCase()) {
          throw new RpcError(4100, `from ${tx.from} is not this wallet's account`);
        }
        const request = await pub.prepareTransactionRequest({
          account,
          chain: null,
          ...(tx.to ? { to: tx.to } : {}),
          ...(tx.data ? { data: tx.data } : {}),
          value: tx.value ? BigInt(tx.value) : 0n,
          ...(tx.gas ? { gas: BigInt(tx.gas) } : {}),
        });
        const serializedTransaction = await account.signTransaction({
          ...request,
          chainId: opts.chainId,
        } as Parameters<typeof account.signTransaction>[0]);
        return pub.sendRawTransaction({ serializedTransaction });
      }
      case 'personal_sign':
        return account.signMessage({ message: { raw: params[0] as Hex } });
      default:
        return forward(method, params);
    }
  };
  await page.exposeFunction('__confideWallet', async (method: string, paramsJson: string) => {
    const params = JSON.parse(paramsJson) as unknown[];
    const out = await handle(method, params);
    return JSON.stringify(out ?? null);
  });
  await page.addInitScript({ content: initScript(TEST_WALLET_NAME) });
  return account.address;
}

/**
 * A fresh browser context on `url` as the holder of `privateKey`: the wallet installed, the account
 * funded on anvil, and connected through the app's EIP-6963 wallet list. The context is pushed to
 * `contexts` so the caller closes it.
 */
export async function openWithWallet(
  browser: Browser,
  url: string,
  o: WalletOptions & { contexts: BrowserContext[]; verbose?: boolean },
): Promise<{ page: Page; address: Address }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  o.contexts.push(ctx);
  const page = await ctx.newPage();
  const tag = new URL(url).pathname;
  page.on('pageerror', (e) => console.log(`[${tag}] page error: ${e.message}`));
  if (o.verbose) page.on('console', (m) => console.log(`[${tag}] ${m.text()}`));
  const address = await installWallet(page, o);
  await createTestClient({ mode: 'anvil', transport: http(o.rpcUrl) }).setBalance({
    address,
    value: parseEther('100'),
  });
  await page.goto(url);
  // EIP-6963 discovery lists the wallet by its announced name.
  await page.getByTestId(`connect-${TEST_WALLET_NAME}`).click();
  await expect(page.getByTestId('wallet-account')).toContainText(address, { timeout: 30_000 });
  return { page, address };
}
