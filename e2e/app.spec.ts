/**
 * The whole product in real Chromium against a real anvil chain: 5 node tabs on `/node` (each in
 * its own browser context, registered on chain with a deposit), a hospital in another context that
 * uploads the sample CSV through the dashboard's wizard and grants a researcher, and the researcher
 * in a third context who composes queries with the builder and as text, pays, and reads answers
 * that the test checks against a plaintext computation over the same CSV. The hospital's audit log
 * shows the queries. Then the refusals (no grant, revoked, expired, over budget: the UI says why and
 * no node computes), a node tab closed mid-query (t = 2 of 5: the query completes), and node tabs
 * reloaded (their shares are still there). Screenshots of each view go to docs/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createPublicClient, createTestClient, http, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { AnvilHandle } from '../scripts/anvil';
import {
  printNodeEvents,
  resultRows,
  specPorts,
  startAppNetwork,
  type AppNetwork,
} from './support/app-network';
import { waitFullMesh, type NodeTab } from './support/node-tabs';
import { openWithWallet } from './support/wallet';

const { anvil: ANVIL_PORT, signaling: SIGNALING_PORT, vite: VITE_PORT } = specPorts(0);
const ROOM = 'app-e2e';
const BASE = `http://127.0.0.1:${VITE_PORT}`;
const SHOTS = 'docs/screenshots';
const NODES = 5;

let net: AppNetwork | undefined;
let anvil: AnvilHandle | undefined;
let nodes: NodeTab[] = [];
const contexts: BrowserContext[] = [];

test.describe.configure({ mode: 'serial' });

/** The sample file as the wizard types it: age integer, sex category, bmi decimal (1 place). */
interface Patient {
  age: number;
  sex: string;
  bmi: number;
  diabetic: number;
}
function samplePatients(): Patient[] {
  const [head, ...lines] = readFileSync('public/sample/patients.csv', 'utf8').trim().split('\n');
  const cols = head!.split(',');
  const at = (n: string) => cols.indexOf(n);
  return lines.map((l) => {
    const f = l.split(',');
    return {
      age: Number(f[at('age')]),
      sex: f[at('sex')]!,
      bmi: Number(f[at('bmi')]),
      diabetic: Number(f[at('diabetic')]),
    };
  });
}
const patients = samplePatients();

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  net = await startAppNetwork(browser, {
    anvilPort: ANVIL_PORT,
    signalingPort: SIGNALING_PORT,
    vitePort: VITE_PORT,
    room: ROOM,
    nodes: NODES,
    entries: [
      'index.html',
      'src/ui/hospital/HospitalView.tsx',
      'src/ui/researcher/ResearcherView.tsx',
      'src/ui/node/NodeView.tsx',
      'workers/engine.worker.ts',
    ],
  });
  anvil = net.anvil;
  nodes = net.nodes;
});

test.afterAll(async () => {
  await net?.stop(contexts);
});

function openAs(browser: Browser, path: string, privateKey: Hex) {
  return openWithWallet(browser, `${BASE}${path}`, {
    rpcUrl: anvil!.rpcUrl,
    chainId: 31337,
    privateKey,
    contexts,
    verbose: process.env.APP_E2E_VERBOSE !== undefined,
  });
}

/** Queries each node tab was asked to run (its console's log), all nodes together. */
async function nodeQueryCount(): Promise<number> {
  let n = 0;
  for (const t of nodes)
    if (!t.page.isClosed())
      n += await t.page.evaluate(() => window.confideNode!.snapshot().queries.length);
  return n;
}

let hospital: { page: Page; address: Address };
let researcher: { page: Page; address: Address };
let datasetId: Hex;

test('hospital uploads the sample CSV and grants; the researcher queries with the builder and with text; answers match the plaintext; the audit log shows them', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  hospital = await openAs(browser, '/hospital', generatePrivateKey());
  const hp = hospital.page;
  // The dashboard sees the 5 registered nodes online before it lets the owner upload.
  await hp.getByTestId('csv-sample').click();
  await expect(hp.getByTestId('schema-table')).toBeVisible();
  await expect(hp.getByTestId('type-age')).toBeVisible();
  await hp.getByTestId('schema-confirm').click();
  await expect(hp.getByTestId('validation-report')).toContainText(
    patients.length.toLocaleString('en-US'),
  );
  await hp.getByTestId('accept-report').click();
  await hp.getByTestId('upload-name').fill('cohort');
  await hp.getByTestId('upload-committee').fill(String(NODES));
  await hp.getByTestId('upload-threshold').fill('2');
  await hp.getByTestId('upload-start').click();
  await expect(hp.getByTestId('upload-progress')).toBeVisible();
  const done = hp.getByTestId('upload-done');
  await expect(done).toBeVisible({ timeout: 120_000 });
  datasetId = (await done.locator('code').first().textContent()) as Hex;
  expect(datasetId).toMatch(/^0x[0-9a-f]{64}$/);
  // Committee health: every member online with its partition root verified against the chain.
  const health = hp.getByTestId(`health-${datasetId}`);
  await expect(health).toContainText('5 of 5 online', { timeout: 60_000 });
  await expect(health).toContainText('5 of 5 shares verified', { timeout: 60_000 });

  // Grant the researcher: the default kinds and regression, cohort 10, budget 3, 30 days.
  const researcherKey = generatePrivateKey();
  const researcherAddr = privateKeyToAccount(researcherKey).address;
  const dsBox = hp.getByTestId(`dataset-${datasetId}`);
  await dsBox.getByTestId('grant-researcher').fill(researcherAddr);
  await dsBox.getByTestId('grant-kinds').getByLabel('regress', { exact: true }).check();
  await dsBox.getByTestId('grant-budget').fill('3');
  await dsBox.getByTestId('grant-submit').click();
  await expect(dsBox.getByTestId('grant-message')).toContainText(`granted ${researcherAddr}`, {
    timeout: 30_000,
  });
  await hp.screenshot({ path: `${SHOTS}/hospital.png`, fullPage: true });

  researcher = await openAs(browser, '/researcher', researcherKey);
  const rp = researcher.page;
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText('active', {
    timeout: 30_000,
  });
  await expect(rp.getByTestId('query-dataset')).toHaveValue(datasetId, { timeout: 30_000 });
  // Named as the owner named it (from the schema a committee member publishes).
  await expect(rp.locator(`[data-dataset="${datasetId}"] strong`).first()).toHaveText('cohort', {
    timeout: 30_000,
  });

  // 1. The builder: COUNT(*) of women aged 60 or more. The text follows the builder.
  const builder = rp.getByTestId('query-builder');
  await expect(builder).toBeVisible();
  await rp.getByTestId('builder-add-cond').click();
  await rp.getByLabel('Condition 1 column').selectOption('age');
  await rp.getByLabel('Condition 1 comparison').selectOption('>=');
  await rp.getByLabel('Condition 1 value').fill('60');
  await rp.getByTestId('builder-add-cond').click();
  await rp.getByLabel('Condition 2 column').selectOption('sex');
  await rp.getByLabel('Condition 2 value').selectOption('F');
  await expect(rp.getByTestId('query-text')).toHaveValue(
    "SELECT COUNT(*) FROM cohort WHERE age >= 60 AND sex = 'F'",
  );
  const expectedCount = patients.filter((p) => p.age >= 60 && p.sex === 'F').length;
  const before = await nodeQueryCount();
  await rp.getByTestId('query-submit').click();
  await expect(rp.getByTestId('fee')).toContainText('ETH');
  await rp.getByTestId('query-confirm').click();
  await expect(rp.getByTestId('query-progress')).toHaveAttribute('data-phase', 'done', {
    timeout: 120_000,
  });
  expect(await resultRows(rp)).toEqual([[String(expectedCount)]]);
  expect(await nodeQueryCount()).toBe(before + NODES);
  // The upload stored age and sex bit-decomposed too, and every member compared on those bits.
  for (const n of nodes)
    expect(
      (await n.page.evaluate(() => window.confideNode!.snapshot().events)).some((e) =>
        e.includes('query 1: comparisons on stored bits of age, sex'),
      ),
    ).toBe(true);

  // 2. Text: counts and mean BMI by sex among those aged 60 or more. The builder follows the text.
  await rp
    .getByTestId('query-text')
    .fill('SELECT COUNT(*), AVG(bmi) FROM cohort WHERE age >= 60 GROUP BY sex');
  await expect(rp.getByTestId('builder-cond-0')).toBeVisible();
  await rp.getByTestId('query-submit').click();
  await rp.getByTestId('query-confirm').click();
  await expect(rp.getByTestId('query-progress')).toHaveAttribute('data-phase', 'done', {
    timeout: 120_000,
  });
  const rows = await resultRows(rp);
  const old = patients.filter((p) => p.age >= 60);
  for (const sex of ['F', 'M']) {
    const g = old.filter((p) => p.sex === sex);
    const row = rows.find((r) => r[0] === sex);
    expect(row, `group ${sex} in ${JSON.stringify(rows)}`).toBeDefined();
    expect(Number(row![1]!.replace(/,/g, ''))).toBe(g.length);
    const mean = g.reduce((a, p) => a + p.bmi, 0) / g.length;
    // The table shows the fixed-point quotient rounded for display.
    expect(Math.abs(Number(row![2]) - mean)).toBeLessThan(0.01);
  }
  await rp.screenshot({ path: `${SHOTS}/researcher.png`, fullPage: true });

  // The hospital's audit log lists both queries on its data, with the researcher.
  await expect(hp.locator('[data-event="QueryRequested"]')).toHaveCount(2, { timeout: 30_000 });
  const owned = hp.getByTestId('owner-queries');
  await expect(owned.locator('tr[data-query]')).toHaveCount(2, { timeout: 30_000 });
  // Completed once the committee's result commitments are on chain.
  try {
    for (const id of ['1', '2'])
      await expect(owned.locator(`tr[data-query="${id}"]`)).toHaveAttribute(
        'data-status',
        'Completed',
        { timeout: 60_000 },
      );
  } catch (e) {
    await printNodeEvents(nodes);
    throw e;
  }
  await expect(owned).toContainText(new RegExp(researcherAddr.slice(2, 8), 'i'));
  // The texts, from the committee after the owner's wallet signed, each checked against its hash.
  await hp.getByTestId('show-query-texts').click();
  await expect(owned.locator('tr[data-query="1"] [data-testid="query-text-cell"]')).toHaveText(
    "SELECT COUNT(*) FROM cohort WHERE age >= 60 AND sex = 'F'",
    { timeout: 30_000 },
  );
  await expect(owned.locator('tr[data-query="2"] [data-testid="query-text-cell"]')).toHaveText(
    'SELECT COUNT(*), AVG(bmi) FROM cohort WHERE age >= 60 GROUP BY sex',
  );
  await nodes[0]!.page.screenshot({ path: `${SHOTS}/node.png`, fullPage: true });
  const landing = await contexts[0]!.newPage();
  await landing.goto(`${BASE}/`);
  await landing.screenshot({ path: `${SHOTS}/landing.png`, fullPage: true });
  await landing.close();
});

/** Runs `text` from the researcher's composer and waits for the progress to settle. */
async function runText(page: Page, text: string): Promise<string> {
  await page.getByTestId('query-text').fill(text);
  await page.getByTestId('query-submit').click();
  await page.getByTestId('query-confirm').click();
  const progress = page.getByTestId('query-progress');
  await expect(progress).toHaveAttribute('data-phase', /^(done|failed|refused)$/, {
    timeout: 120_000,
  });
  return (await progress.getAttribute('data-phase')) ?? '';
}

test('node tabs reloaded keep their shares and the next query succeeds; then the budget is spent and the UI says so', async () => {
  test.setTimeout(240_000);
  const partitions = async () =>
    Promise.all(
      nodes.map((n) =>
        n.page.evaluate(() =>
          window.confideNode!.snapshot().partitions.map((p) => JSON.stringify(p)),
        ),
      ),
    );
  const before = await partitions();
  for (const p of before) expect(p.length).toBe(1);
  for (const n of nodes) await n.page.reload();
  for (const n of nodes) await expect(n.page.getByTestId('node-id')).toHaveText(n.id);
  await waitFullMesh(nodes, 60_000);
  await expect.poll(partitions, { timeout: 30_000 }).toEqual(before);

  // A regression solved inside MPC (only the coefficients are opened), against least squares in
  // the clear over the same rows.
  const rp = researcher.page;
  const young = patients.filter((p) => p.age < 30);
  expect(await runText(rp, 'SELECT COUNT(*), REGRESS(bmi, age) FROM cohort WHERE age < 30')).toBe(
    'done',
  );
  const [[count, coefs]] = (await resultRows(rp)) as [[string, string]];
  expect(count).toBe(young.length.toLocaleString('en-US'));
  const n = young.length;
  const mx = young.reduce((a, p) => a + p.age, 0) / n;
  const my = young.reduce((a, p) => a + p.bmi, 0) / n;
  const sxy = young.reduce((a, p) => a + (p.age - mx) * (p.bmi - my), 0);
  const sxx = young.reduce((a, p) => a + (p.age - mx) ** 2, 0);
  const slope = sxy / sxx;
  const [gotIcpt, gotSlope] = coefs.split(', ').map((v) => Number(v.replace(/,/g, '')));
  // the table shows 6 significant digits
  expect(Math.abs(gotSlope! - slope)).toBeLessThan(1e-5 * Math.max(1, Math.abs(slope)));
  expect(Math.abs(gotIcpt! - (my - slope * mx))).toBeLessThan(1e-5 * Math.abs(my));

  // Budget 3, all used: the workspace says so and does not let the researcher pay again.
  const asked = await nodeQueryCount();
  await expect(rp.getByText('You have used every query your grant allows')).toBeVisible({
    timeout: 30_000,
  });
  await expect(rp.getByTestId('query-submit')).toBeDisabled();
  expect(await nodeQueryCount()).toBe(asked);
});

test('revoked, expired and missing grants: the UI says why, nothing is paid and no node computes', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const hp = hospital.page;
  const rp = researcher.page;
  const dsBox = hp.getByTestId(`dataset-${datasetId}`);
  const asked = await nodeQueryCount();

  // Revoked: the researcher’s open workspace follows the chain: its card says so and the composer
  // has nothing to run.
  await dsBox
    .locator(`tr[data-researcher="${researcher.address}"]`)
    .getByRole('button', { name: 'Revoke' })
    .click();
  await expect(dsBox.getByTestId('grant-message')).toContainText(`revoked ${researcher.address}`, {
    timeout: 30_000,
  });
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText('revoked', {
    timeout: 30_000,
  });
  await expect(rp.getByText('You have no active grant yet')).toBeVisible();

  // Expired: a new one-day grant, then the chain's clock moves two days on. The tab's clock has
  // not moved, so the request reaches the contract, which refuses it; the UI explains.
  await dsBox.getByTestId('grant-researcher').fill(researcher.address);
  await dsBox.getByTestId('grant-days').fill('1');
  await dsBox.getByTestId('grant-submit').click();
  await expect(dsBox.getByTestId('grant-message')).toContainText(`granted ${researcher.address}`, {
    timeout: 30_000,
  });
  await expect(rp.locator(`[data-dataset="${datasetId}"]`)).toContainText('active', {
    timeout: 30_000,
  });
  const testClient = createTestClient({ mode: 'anvil', transport: http(anvil!.rpcUrl) });
  await testClient.increaseTime({ seconds: 2 * 86_400 });
  await testClient.mine({ blocks: 1 });
  const pub = createPublicClient({ transport: http(anvil!.rpcUrl) });
  const balance = await pub.getBalance({ address: researcher.address });
  await expect(rp.getByTestId('query-dataset')).toHaveValue(datasetId, { timeout: 30_000 });
  expect(await runText(rp, 'SELECT COUNT(*) FROM cohort WHERE age >= 18')).toBe('failed');
  await expect(rp.getByTestId('query-message')).toContainText(
    'The contract refused the transaction (GrantExpired)',
  );
  await expect(rp.getByTestId('query-message')).toContainText('Ask the data owner to renew it');
  expect(await pub.getBalance({ address: researcher.address })).toBe(balance);

  // Never granted: another researcher sees why there is nothing to run.
  const stranger = await openAs(browser, '/researcher', generatePrivateKey());
  await expect(stranger.page.getByText('You have no active grant yet')).toBeVisible({
    timeout: 30_000,
  });
  expect(await nodeQueryCount()).toBe(asked);
});
