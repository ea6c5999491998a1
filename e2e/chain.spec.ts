/**
 * Wallet connection and the on-chain flow in headless Chromium against a real anvil (port 18548)
 * and a Vite dev server (port 5181): a hospital tab connects an injected wallet (found by EIP-6963
 * discovery), registers a dataset and grants a researcher; a second browser context, as the
 * researcher, requests a query paying the fee; both read the events back. Signing happens in this
 * process (e2e/support/wallet.ts).
 */
import { expect, test, type Browser, type BrowserContext } from '@playwright/test';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  keccak256,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { ANVIL_DEV_KEY, startAnvil, type AnvilHandle } from '../scripts/anvil';
import { deployAll } from '../scripts/deploy';
import {
  confideAbi,
  datasetIdFor,
  isQueryAuthorised,
  kindsMask,
  members,
  postResult,
  registerNode,
  type ConfideWallet,
} from '../src/chain/confide';
import { randomNodeKey } from '../src/chain/keys';
import { queryHash } from '../src/query';
import { startAppServer } from './support/servers';
import { openWithWallet } from './support/wallet';

const ANVIL_PORT = 18548;
const VITE_PORT = 5181;
const BASE = `http://127.0.0.1:${VITE_PORT}`;
const QUERY = 'SELECT COUNT(*) FROM ds WHERE age >= 60';

let anvil: AnvilHandle | undefined;
let vite: { close(): Promise<void> } | undefined;
let pub: PublicClient;
let confide: Address;
const contexts: BrowserContext[] = [];
const nodeOps: { wallet: ConfideWallet; nodeId: Address }[] = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  anvil = await startAnvil({ port: ANVIL_PORT });
  const dep = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_DEV_KEY });
  confide = dep.confide;
  const chain = { ...foundry, rpcUrls: { default: { http: [anvil.rpcUrl] } } };
  pub = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient;
  const testClient = createTestClient({ chain, mode: 'anvil', transport: http(anvil.rpcUrl) });
  // Three compute nodes register with their deposits (the node console's job, done here directly).
  for (let i = 0; i < 3; i++) {
    const account = privateKeyToAccount(generatePrivateKey());
    await testClient.setBalance({ address: account.address, value: parseEther('10') });
    const wallet = createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
    const r = await registerNode(wallet, pub, confide, randomNodeKey(), dep.params.minDeposit);
    nodeOps.push({ wallet, nodeId: r.nodeId });
  }
  vite = await startAppServer({
    port: VITE_PORT,
    name: 'chain',
    env: {
      VITE_CHAIN_RPC_URL: anvil.rpcUrl,
      VITE_CHAIN_ID: String(dep.chainId),
      VITE_CONFIDE_ADDRESS: confide,
    },
    entries: [
      'index.html',
      'src/ui/hospital/HospitalView.tsx',
      'src/ui/researcher/ResearcherView.tsx',
    ],
    include: [
      'react',
      'react-dom/client',
      'wagmi',
      'wagmi/actions',
      'viem',
      '@tanstack/react-query',
    ],
  });
});

test.afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await vite?.close();
  await anvil?.stop();
});

function openAs(browser: Browser, path: string, privateKey: Hex) {
  return openWithWallet(browser, `${BASE}${path}`, {
    rpcUrl: anvil!.rpcUrl,
    chainId: 31337,
    privateKey,
    contexts,
  });
}

test('hospital registers and grants, researcher requests a query paying the fee, events read back', async ({
  browser,
}) => {
  const hospital = await openAs(browser, '/hospital', generatePrivateKey());
  const researcherKey = generatePrivateKey();
  const researcherAddr = privateKeyToAccount(researcherKey).address;
  const hp = hospital.page;

  // Register a dataset on the three active nodes (the dashboard's advanced panel: no mesh here, so
  // the roots stand in for the members' storage receipts).
  const datasetId = datasetIdFor(hospital.address, 'e2e-cohort');
  const roots = nodeOps.map((n) => keccak256(n.nodeId));
  await hp.getByText('Advanced: register a dataset from storage receipts').click();
  await expect(hp.getByTestId('ds-committee').locator('input[type=checkbox]')).toHaveCount(3, {
    timeout: 15_000,
  });
  await hp.getByTestId('ds-salt').fill('e2e-cohort');
  await expect(hp.getByTestId('dataset-id-preview')).toHaveText(datasetId);
  await hp.getByTestId('ds-rows').fill('1200');
  // Bad input first: a clear message, nothing sent.
  await hp.getByTestId('ds-roots').fill(roots.slice(0, 2).join('\n'));
  await hp.getByTestId('ds-register').click();
  await expect(hp.getByTestId('ds-message')).toContainText(
    'partition roots: need one per member (3), got 2',
  );
  await hp.getByTestId('ds-roots').fill(roots.join('\n'));
  await hp.getByTestId('ds-register').click();
  await expect(hp.getByTestId('ds-message')).toHaveText(`registered dataset ${datasetId}`, {
    timeout: 30_000,
  });
  await expect(hp.locator('[data-event="DatasetRegistered"]')).toHaveCount(1, { timeout: 15_000 });
  const d = await pub.readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'getDataset',
    args: [datasetId],
  });
  expect(d).toMatchObject({
    owner: hospital.address,
    threshold: 1,
    size: 3,
    version: 1,
    rowCount: 1200,
  });

  // Grant the researcher (count + mean, cohort 10, budget 10, 30 days).
  const dsBox = hp.getByTestId(`dataset-${datasetId}`);
  await dsBox.getByTestId('grant-researcher').fill(researcherAddr);
  await dsBox.getByTestId('grant-submit').click();
  await expect(dsBox.getByTestId('grant-message')).toContainText(`granted ${researcherAddr}`, {
    timeout: 30_000,
  });
  await expect(hp.locator('[data-event="GrantIssued"]')).toHaveCount(1, { timeout: 15_000 });

  // The researcher, in another browser context with its own wallet.
  const researcher = await openAs(browser, '/researcher', researcherKey);
  const rp = researcher.page;
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText('active', {
    timeout: 15_000,
  });
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText(
    'count/avg/filter/group_by',
  );
  const before = await pub.getBalance({ address: researcherAddr });
  // The chain-only request (advanced panel): no committee computes here.
  await rp.getByText('Advanced: request a query on chain only').click();
  await rp.getByTestId('q-text').fill('SELECT COUNT(*) FROM ds WHERE');
  await rp.getByTestId('q-submit').click();
  await expect(rp.getByTestId('q-message')).toContainText('query:');
  await rp.getByTestId('q-text').fill(QUERY);
  await rp.getByTestId('q-submit').click();
  await expect(rp.getByTestId('q-message')).toContainText('requested query #1', {
    timeout: 30_000,
  });
  await expect(rp.locator('[data-query="1"]')).toHaveAttribute('data-status', 'Requested', {
    timeout: 15_000,
  });
  await expect(rp.locator('[data-event="QueryRequested"]')).toHaveCount(1, { timeout: 15_000 });
  // The hospital's audit log shows the query on its data.
  await expect(hp.locator('[data-event="QueryRequested"]')).toHaveCount(1, { timeout: 15_000 });

  // On chain, from this process: the request as the researcher made it.
  const minFee = await pub.readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'minFee',
  });
  const q = await pub.readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'getQuery',
    args: [1n],
  });
  const expectedHash = `0x${queryHash(QUERY).hash}` as Hex;
  const encKey = await rp.getByTestId('enc-key').textContent();
  expect(q).toMatchObject({
    researcher: researcherAddr,
    datasetId,
    queryHash: expectedHash,
    fee: minFee,
    kinds: kindsMask(['count', 'filter']),
    status: 1,
  });
  expect(`0x${q.encKeyPrefix.toString(16).padStart(2, '0')}${q.encKeyX.slice(2)}`).toBe(encKey);
  expect(before - (await pub.getBalance({ address: researcherAddr }))).toBeGreaterThanOrEqual(
    minFee,
  );
  const g = await pub.readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'getGrant',
    args: [datasetId, researcherAddr],
  });
  expect(g).toMatchObject({
    kinds: kindsMask(['count', 'avg', 'filter', 'group_by']),
    minCohort: 10,
    budget: 9,
    used: 1,
    active: true,
  });
  // A committee node checks authorisation before computing, then posts its result commitment.
  const m = members(
    nodeOps.map((n) => n.nodeId),
    roots,
  );
  const auth = await isQueryAuthorised(pub, confide, {
    queryId: 1n,
    queryHash: expectedHash,
    kinds: ['count', 'filter'],
    nodeId: nodeOps[0]!.nodeId,
  });
  expect(auth).toMatchObject({
    ok: true,
    researcher: researcherAddr,
    encKey,
    policy: { minCohort: 10 },
  });
  await postResult(nodeOps[0]!.wallet, pub, confide, {
    queryId: 1n,
    members: m,
    index: 0,
    commitment: keccak256('0x01'),
  });
  await expect(rp.locator('[data-query="1"]')).toHaveAttribute('data-status', 'Running', {
    timeout: 15_000,
  });
  await expect(rp.locator('[data-event="ResultPosted"]')).toHaveCount(1, { timeout: 15_000 });
  await expect(hp.locator('[data-event="ResultPosted"]')).toHaveCount(1, { timeout: 15_000 });

  // Revocation from the dashboard reaches the researcher's view.
  await dsBox.getByRole('button', { name: 'Revoke' }).click();
  await expect(dsBox.getByTestId('grant-message')).toContainText(`revoked ${researcherAddr}`, {
    timeout: 30_000,
  });
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText('revoked', {
    timeout: 15_000,
  });
  await expect(hp.locator('[data-event="GrantRevoked"]')).toHaveCount(1);
});
