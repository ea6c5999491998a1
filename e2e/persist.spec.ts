/**
 * 100,000 rows uploaded from one tab to a committee of 5 node browsers, each with its own fixed
 * profile directory (as `npm start` runs them), on a real anvil chain. Then every node tab is
 * reloaded, and then every node browser is closed and started again on the same profile: each
 * time, every member still holds its partition (same version, member index, rows and size), the
 * mesh re-forms, and `SELECT COUNT(*) … WHERE x > 500` still equals the plaintext count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createTestClient, http, parseEther, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  printNodeEvents,
  specPorts,
  startAppNetwork,
  type AppNetwork,
} from './support/app-network';
import { firstValue, queryInPage, seedInPage } from './support/demo-page';
import { waitFullMesh, type NodeTab } from './support/node-tabs';

const { anvil: ANVIL_PORT, signaling: SIGNALING_PORT, vite: VITE_PORT } = specPorts(2);
const ROOM = 'persist-e2e';
const ROWS = 100_000;
const NODES = 5;

let net: AppNetwork | undefined;
const contexts: BrowserContext[] = [];
const dirs: string[] = [];
let client: Page;
let datasetId: Hex;
let researcherKey: Hex;
let xs: number[] = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  net = await startAppNetwork(browser, {
    anvilPort: ANVIL_PORT,
    signalingPort: SIGNALING_PORT,
    vitePort: VITE_PORT,
    room: ROOM,
    nodes: 0,
    entries: ['index.html', 'src/ui/node/NodeView.tsx', 'workers/engine.worker.ts'],
  });
  for (let i = 0; i < NODES; i++) {
    const dir = mkdtempSync(join(tmpdir(), `confide-persist-${i}-`));
    dirs.push(dir);
    await net.openPersistentNode(dir, `pnode${i}`);
  }
  await waitFullMesh(net.nodes, 60_000);
  const ctx = await browser.newContext();
  contexts.push(ctx);
  client = await ctx.newPage();
  client.on('pageerror', (e) => console.error(`[client] ${e.message}`));
  await client.goto(`${net.base}/`);
});

test.afterAll(async () => {
  await net?.stop(contexts);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cfg() {
  return { rpcUrl: net!.anvil.rpcUrl, chainId: net!.dep.chainId, confide: net!.dep.confide };
}

/** The count through the app's researcher client (pay, nodes check the chain, MPC, seal, open). */
async function countOver500(): Promise<number> {
  const q = await queryInPage(client, {
    cfg: cfg(),
    key: researcherKey,
    datasetId,
    text: 'SELECT COUNT(*) FROM bench WHERE x > 500',
  });
  return Number(firstValue(q.result));
}

async function partitions(tabs: readonly NodeTab[]) {
  return Promise.all(
    tabs.map((n) =>
      n.page.evaluate(() =>
        window.confideNode!.snapshot().partitions.map((p) => ({
          datasetId: p.datasetId,
          version: p.version,
          memberIndex: p.memberIndex,
          rows: p.rows,
          bytes: p.bytes,
        })),
      ),
    ),
  );
}

test('100k rows uploaded to 5 node browsers; a query equals the plaintext count', async () => {
  test.setTimeout(300_000);
  let s = 20261207;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  xs = Array.from({ length: ROWS }, () => Math.floor(rnd() * 1001));
  const csv = `x,site\n${xs.map((x, i) => `${x},${i % 3 === 0 ? 'a' : 'b'}`).join('\n')}\n`;
  const hospitalKey = generatePrivateKey();
  researcherKey = generatePrivateKey();
  const test_ = createTestClient({ mode: 'anvil', transport: http(net!.anvil.rpcUrl) });
  for (const k of [hospitalKey, researcherKey])
    await test_.setBalance({ address: privateKeyToAccount(k).address, value: parseEther('100') });
  const up = await seedInPage(client, {
    cfg: cfg(),
    hospitalKey,
    researcher: privateKeyToAccount(researcherKey).address,
    csv,
    name: 'bench',
    skip: [],
    minCohort: 10,
    budget: 10,
  });
  expect(up.rows).toBe(ROWS);
  expect(up.committee).toHaveLength(NODES);
  datasetId = up.datasetId;
  for (const p of await partitions(net!.nodes))
    expect(p).toEqual([
      expect.objectContaining({ datasetId: datasetId.slice(2), version: 1, rows: ROWS }),
    ]);
  expect(await countOver500()).toBe(xs.filter((x) => x > 500).length);
});

test('every node tab reloaded, then every node browser restarted on its profile: partitions intact, the query still right', async () => {
  test.setTimeout(300_000);
  const before = await partitions(net!.nodes);
  const ids = net!.nodes.map((n) => n.id);
  // Reload every tab.
  for (const n of net!.nodes) await n.page.reload();
  for (const n of net!.nodes) await expect(n.page.getByTestId('node-id')).toHaveText(n.id);
  await waitFullMesh(net!.nodes, 60_000);
  await expect.poll(() => partitions(net!.nodes), { timeout: 30_000 }).toEqual(before);
  // Close every node browser, then start each again on the same profile directory.
  const old = net!.nodes.splice(0);
  for (const n of old) await n.ctx.close();
  for (const [i, dir] of dirs.entries()) await net!.openPersistentNode(dir, `pnode${i}`);
  expect(net!.nodes.map((n) => n.id)).toEqual(ids);
  await waitFullMesh(net!.nodes, 60_000);
  await expect.poll(() => partitions(net!.nodes), { timeout: 30_000 }).toEqual(before);
  try {
    expect(await countOver500()).toBe(xs.filter((x) => x > 500).length);
  } catch (e) {
    await printNodeEvents(net!.nodes);
    throw e;
  }
});
