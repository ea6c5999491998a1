/**
 * The local network the app-level specs run against: a real anvil chain with the contracts
 * deployed, the signaling service, the app's Vite server configured for both, and `/node` tabs
 * (separate browser contexts) that register on chain with a deposit signed by their own node keys.
 * Also the helpers those specs share to read what the views and the node consoles show.
 */
import { chromium, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { createPublicClient, createTestClient, http, parseEther } from 'viem';
import { confideAbi } from '../../src/chain/confide';
import { ANVIL_DEV_KEY, startAnvil, type AnvilHandle } from '../../scripts/anvil';
import { deployAll } from '../../scripts/deploy';
import { keyAddress } from '../../src/chain/keys';
import { openNodeTabs, waitFullMesh, type NodeTab } from './node-tabs';
import { startAppServer, startSignaling, type Child } from './servers';

export interface AppNetwork {
  anvil: AnvilHandle;
  dep: Awaited<ReturnType<typeof deployAll>>;
  base: string;
  signalingPort: number;
  vitePort: number;
  room: string;
  nodes: NodeTab[];
  /** Opens `n` more node tabs, funds their keys and registers them on chain. */
  addNodes(browser: Browser, n: number): Promise<NodeTab[]>;
  /**
   * Opens a node in its own Chromium with a fixed profile directory (IndexedDB survives closing
   * it), as `npm start` runs nodes; registers it on chain unless it is already registered.
   */
  openPersistentNode(dir: string, name: string): Promise<NodeTab>;
  stop(contexts: readonly BrowserContext[]): Promise<void>;
}

/**
 * The servers' ports of one spec (block 0, 1, 2, … per spec): anvil 22548, signaling 22600 and Vite
 * 22173, plus 100 per block. They lie below Linux's ephemeral range (32768–60999): there an
 * outgoing connection's local port, or its TIME_WAIT, can hold the port when a server binds it
 * (seen once: anvil EADDRINUSE on 38748).
 */
export function specPorts(block: number): { anvil: number; signaling: number; vite: number } {
  return { anvil: 22548 + 100 * block, signaling: 22600 + 100 * block, vite: 22173 + 100 * block };
}

export async function startAppNetwork(
  browser: Browser,
  o: {
    anvilPort: number;
    signalingPort: number;
    vitePort: number;
    room: string;
    nodes: number;
    /** More query-string parameters for every node page, e.g. `&grace=3000`. */
    nodeQuery?: string;
    entries: string[];
  },
): Promise<AppNetwork> {
  const anvil = await startAnvil({ port: o.anvilPort });
  let signaling: Child | undefined;
  let vite: { close(): Promise<void> } | undefined;
  const nodes: NodeTab[] = [];
  const stop = async (contexts: readonly BrowserContext[]) => {
    for (const c of contexts) await c.close().catch(() => undefined);
    for (const n of nodes) await n.ctx.close().catch(() => undefined);
    await vite?.close();
    await signaling?.stop();
    await anvil.stop();
  };
  try {
    const dep = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_DEV_KEY });
    signaling = await startSignaling(o.signalingPort);
    vite = await startAppServer({
      port: o.vitePort,
      name: o.room,
      env: {
        VITE_CHAIN_RPC_URL: anvil.rpcUrl,
        VITE_CHAIN_ID: String(dep.chainId),
        VITE_CONFIDE_ADDRESS: dep.confide,
        VITE_SIGNALING_URL: `ws://127.0.0.1:${o.signalingPort}`,
        VITE_MESH_ROOM: o.room,
      },
      entries: o.entries,
    });
    const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
    const register = async (added: readonly NodeTab[]) => {
      // Each node registers on chain with its deposit, signing with its own node key in its tab.
      for (const t of added) {
        await testClient.setBalance({ address: keyAddress(`0x${t.id}`), value: parseEther('100') });
        await t.page.evaluate(
          (deposit) => window.confideNode!.service.register(BigInt(deposit)).then(() => undefined),
          dep.params.minDeposit.toString(),
        );
      }
    };
    const openPersistentNode = async (dir: string, name: string): Promise<NodeTab> => {
      const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: CHROMIUM_ARGS,
        headless: true,
      });
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      page.on('pageerror', (e) => console.error(`[${name}] ${e.message}`));
      await page.goto(
        `http://127.0.0.1:${o.vitePort}/node?signaling=ws://127.0.0.1:${o.signalingPort}&room=${o.room}&name=${name}${o.nodeQuery ?? ''}`,
      );
      const id = (await page.getByTestId('node-id').textContent({ timeout: 60_000 }))!;
      const tab = { ctx, page, id };
      nodes.push(tab);
      const n = await anvilNode(id);
      if (n === 0) await register([tab]);
      return tab;
    };
    const anvilNode = async (id: string) =>
      (
        await createPublicClient({ transport: http(anvil.rpcUrl) }).readContract({
          address: dep.confide,
          abi: confideAbi,
          functionName: 'getNode',
          args: [keyAddress(`0x${id}`)],
        })
      ).status;
    const addNodes = async (b: Browser, n: number) => {
      const added = await openNodeTabs(
        b,
        n,
        o.signalingPort,
        o.room,
        o.vitePort,
        o.nodeQuery ?? '',
      );
      nodes.push(...added);
      await waitFullMesh(
        nodes.filter((t) => !t.page.isClosed()),
        60_000,
      );
      await register(added);
      return added;
    };
    await addNodes(browser, o.nodes);
    return {
      anvil,
      dep,
      base: `http://127.0.0.1:${o.vitePort}`,
      signalingPort: o.signalingPort,
      vitePort: o.vitePort,
      room: o.room,
      nodes,
      addNodes,
      openPersistentNode,
      stop,
    };
  } catch (e) {
    await stop([]);
    throw e;
  }
}

/**
 * Types `text` into the researcher's composer, waits until the builder has followed it (so the
 * composer cannot rewrite it), then submits and confirms the fee.
 */
export async function submitComposerQuery(page: Page, text: string) {
  await page.getByTestId('query-text').fill(text);
  await expect(page.getByTestId('builder-cond-0')).toBeVisible();
  await expect(page.getByTestId('query-text')).toHaveValue(text);
  await page.getByTestId('query-submit').click();
  await page.getByTestId('query-confirm').click();
}

/** Reads the first result table of a view as rows of cell texts. */
export async function resultRows(page: Page, timeout = 120_000): Promise<string[][]> {
  const table = page.getByTestId('result-table').first();
  await expect(table).toBeVisible({ timeout });
  return table
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
}

/** The node consoles' event logs (public facts only), for a failure's report. */
export async function printNodeEvents(nodes: readonly NodeTab[]) {
  for (const [i, t] of nodes.entries())
    if (!t.page.isClosed())
      console.error(
        `[node ${i}] ${(await t.page.evaluate(() => window.confideNode!.snapshot().events)).join('\n  ')}`,
      );
}
