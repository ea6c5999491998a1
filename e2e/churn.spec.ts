/**
 * Churn in real Chromium against a real anvil chain: 7 node tabs on `/node` (a committee of 5 with
 * t = 2, and spare nodes), the sample dataset uploaded through the app's upload path.
 *
 * 1. A committee member's tab is closed in the middle of a researcher's query. The other members
 *    see it gone (grace period 3 s here), re-share its slot to the closest spare node without
 *    reconstructing anything, record the new committee on chain with t+1 member signatures, and the
 *    same paid query completes on the new committee: the researcher's progress shows the re-share
 *    and the answer equals the plaintext computation over the CSV.
 * 2. A member leaves cleanly from its console: the others re-share at once, the leaving node's stale
 *    partition is deleted once the chain records the new committee, and the next query is answered
 *    correctly by a committee without it.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import {
  createPublicClient,
  createTestClient,
  http,
  parseEther,
  type Address,
  type Hex,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { AnvilHandle } from '../scripts/anvil';
import { confideAbi } from '../src/chain/confide';
import { keyAddress } from '../src/chain/keys';
import {
  printNodeEvents,
  resultRows,
  specPorts,
  startAppNetwork,
  submitComposerQuery,
  type AppNetwork,
} from './support/app-network';
import { seedInPage } from './support/demo-page';
import type { NodeTab } from './support/node-tabs';
import { openWithWallet } from './support/wallet';

const { anvil: ANVIL_PORT, signaling: SIGNALING_PORT, vite: VITE_PORT } = specPorts(1);
const ROOM = 'churn-e2e';
const BASE = `http://127.0.0.1:${VITE_PORT}`;
const NODES = 7;
const GRACE_MS = 3000;

let net: AppNetwork | undefined;
let anvil: AnvilHandle | undefined;
let nodes: NodeTab[] = [];
const contexts: BrowserContext[] = [];
let confide: Address;
let datasetId: Hex;
let researcher: { page: Page; address: Address };
let researcherKey: Hex;
let hospitalKey: Hex;

test.describe.configure({ mode: 'serial' });

/** The sample patients as the upload types them (age integer, sex category, bmi one decimal). */
const patients = (() => {
  const [head, ...lines] = readFileSync('public/sample/patients.csv', 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => {
    const f = l.split(',');
    return {
      age: Number(f[cols.indexOf('age')]),
      sex: f[cols.indexOf('sex')]!,
      bmi: Number(f[cols.indexOf('bmi')]),
    };
  });
})();

function chainPub() {
  return createPublicClient({ transport: http(anvil!.rpcUrl) });
}

async function chainDataset() {
  return chainPub().readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'getDataset',
    args: [datasetId],
  });
}

/** Node keys of the dataset's current committee, in member order, from the chain's events. */
async function chainCommittee(): Promise<string[]> {
  const pub = chainPub();
  const [reg, re] = await Promise.all([
    pub.getContractEvents({
      address: confide,
      abi: confideAbi,
      eventName: 'DatasetRegistered',
      args: { datasetId },
      fromBlock: 0n,
    }),
    pub.getContractEvents({
      address: confide,
      abi: confideAbi,
      eventName: 'DatasetReshared',
      args: { datasetId },
      fromBlock: 0n,
    }),
  ]);
  const last = re.length ? re[re.length - 1]!.args.committee! : reg[0]!.args.committee!;
  return last.map((a) => {
    const n = nodes.find((t) => keyAddress(`0x${t.id}`).toLowerCase() === a.toLowerCase());
    if (!n) throw new Error(`committee member ${a} is not one of the test's node tabs`);
    return n.id;
  });
}

function tabOf(key: string): NodeTab {
  return nodes.find((n) => n.id === key)!;
}

async function partitionsOf(n: NodeTab) {
  return n.page.evaluate(() =>
    window.confideNode!.snapshot().partitions.map((p) => ({
      datasetId: p.datasetId,
      version: p.version,
      memberIndex: p.memberIndex,
    })),
  );
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  net = await startAppNetwork(browser, {
    anvilPort: ANVIL_PORT,
    signalingPort: SIGNALING_PORT,
    vitePort: VITE_PORT,
    room: ROOM,
    nodes: NODES,
    nodeQuery: `&grace=${GRACE_MS}`,
    entries: [
      'index.html',
      'src/ui/hospital/HospitalView.tsx',
      'src/ui/researcher/ResearcherView.tsx',
      'src/ui/node/NodeView.tsx',
      'workers/engine.worker.ts',
    ],
  });
  anvil = net.anvil;
  nodes = [...net.nodes];
  const dep = net.dep;
  confide = dep.confide;
  const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
  // The hospital uploads the sample through the app's upload path and grants the researcher.
  researcherKey = generatePrivateKey();
  hospitalKey = generatePrivateKey();
  await testClient.setBalance({
    address: privateKeyToAccount(hospitalKey).address,
    value: parseEther('100'),
  });
  const seedCtx = await browser.newContext();
  contexts.push(seedCtx);
  const seedPage = await seedCtx.newPage();
  await seedPage.goto(`${BASE}/`);
  const seeded = await seedInPage(seedPage, {
    cfg: { rpcUrl: anvil.rpcUrl, chainId: dep.chainId, confide: dep.confide },
    hospitalKey,
    researcher: privateKeyToAccount(researcherKey).address,
    csvUrl: `${BASE}/sample/patients.csv`,
    name: 'cohort',
    skip: ['patient_id'],
    minCohort: 10,
    budget: 10,
  });
  await seedPage.close();
  datasetId = seeded.datasetId;
  expect(seeded.committee).toHaveLength(5);
  researcher = await openWithWallet(browser, `${BASE}/researcher`, {
    rpcUrl: anvil.rpcUrl,
    chainId: dep.chainId,
    privateKey: researcherKey,
    contexts,
  });
  await expect(researcher.page.getByTestId('query-dataset')).toHaveValue(datasetId, {
    timeout: 60_000,
  });
  // The composer is ready once the schema a member published has named the dataset.
  await expect(researcher.page.locator(`[data-dataset="${datasetId}"] strong`).first()).toHaveText(
    'cohort',
    { timeout: 60_000 },
  );
  await expect(researcher.page.getByTestId('query-builder')).toBeVisible();
});

test.afterAll(async () => {
  await net?.stop(contexts);
});

test('a member closed mid-query: its slot is re-shared to a spare node and the paid query completes with the plaintext answer', async () => {
  test.setTimeout(240_000);
  const before = await chainCommittee();
  expect((await chainDataset()).version).toBe(1);
  const victim = tabOf(before[2]!);
  const spares = nodes.filter((n) => !before.includes(n.id));
  expect(spares).toHaveLength(2);

  const rp = researcher.page;
  const text = 'SELECT COUNT(*), AVG(bmi) FROM cohort WHERE age >= 40 GROUP BY sex';
  await submitComposerQuery(rp, text);
  // Close the victim's tab as soon as it reports the query running.
  await expect
    .poll(
      () =>
        victim.page.evaluate(() =>
          window.confideNode!.snapshot().queries.some((q) => q.state === 'computing'),
        ),
      { timeout: 60_000, intervals: [20] },
    )
    .toBe(true);
  await victim.ctx.close();
  nodes = nodes.filter((n) => n !== victim);

  const progress = rp.getByTestId('query-progress');
  try {
    await expect(progress).toHaveAttribute('data-phase', 'resharing', { timeout: 60_000 });
    await expect(progress).toContainText('member 3 left; waiting for the committee to re-share');
    await expect(progress).toHaveAttribute('data-phase', 'done', { timeout: 120_000 });
  } catch (e) {
    await printNodeEvents(nodes);
    throw e;
  }
  await rp.getByRole('tab', { name: 'Table' }).click();
  const rows = await resultRows(rp);
  const picked = patients.filter((p) => p.age >= 40);
  for (const sex of ['F', 'M']) {
    const g = picked.filter((p) => p.sex === sex);
    const row = rows.find((r) => r[0] === sex);
    expect(row, `group ${sex} in ${JSON.stringify(rows)}`).toBeDefined();
    expect(Number(row![1]!.replace(/,/g, ''))).toBe(g.length);
    expect(Math.abs(Number(row![2]) - g.reduce((a, p) => a + p.bmi, 0) / g.length)).toBeLessThan(
      0.01,
    );
  }

  // The chain records version 2: the victim's slot now belongs to a spare, the others stay put.
  expect((await chainDataset()).version).toBe(2);
  const after = await chainCommittee();
  expect(after.filter((k, i) => k !== before[i])).toHaveLength(1);
  expect(after[2]).not.toBe(before[2]);
  expect(spares.map((s) => s.id)).toContain(after[2]);
  // Every member of the new committee holds version 2 at its index, and answered the query.
  for (const [i, k] of after.entries()) {
    const tab = tabOf(k);
    expect(await partitionsOf(tab)).toEqual([
      { datasetId: datasetId.slice(2), version: 2, memberIndex: i },
    ]);
    const log = await tab.page.evaluate(() => window.confideNode!.snapshot().queries);
    expect(
      log.find((q) => q.state === 'answered' && q.version === 2),
      `member ${i}`,
    ).toBeDefined();
  }
  await expect(tabOf(after[2]!).page.getByTestId('reshares')).toContainText('done');
});

test('a member leaves from its console: the committee re-shares at once, its stale partition is deleted, and the next query is right', async () => {
  test.setTimeout(240_000);
  const before = await chainCommittee();
  const leaver = tabOf(before[0]!);
  const spare = nodes.find((n) => !before.includes(n.id))!;
  await leaver.page.getByTestId('node-leave').click();
  await expect(leaver.page.getByTestId('node-mode')).toContainText('Leaving');
  await expect.poll(async () => (await chainDataset()).version, { timeout: 60_000 }).toBe(3);
  const after = await chainCommittee();
  expect(after[0]).toBe(spare.id);
  expect(after.slice(1)).toEqual(before.slice(1));
  await expect.poll(() => partitionsOf(leaver), { timeout: 30_000 }).toEqual([]);
  // It also started its exit on chain (it is its own operator): no committee will pick it again.
  const leaverNode = await chainPub().readContract({
    address: confide,
    abi: confideAbi,
    functionName: 'getNode',
    args: [keyAddress(`0x${leaver.id}`)],
  });
  expect(leaverNode.status).toBe(2);
  await expect
    .poll(() => partitionsOf(spare), { timeout: 30_000 })
    .toEqual([{ datasetId: datasetId.slice(2), version: 3, memberIndex: 0 }]);

  const rp = researcher.page;
  await submitComposerQuery(rp, 'SELECT COUNT(*) FROM cohort WHERE age < 30');
  await expect(rp.getByTestId('query-progress')).toHaveAttribute('data-phase', 'done', {
    timeout: 120_000,
  });
  expect(await resultRows(rp)).toEqual([
    [patients.filter((p) => p.age < 30).length.toLocaleString('en-US')],
  ]);
  // The leaver was not asked; the spare answered as member 1.
  const asked = await leaver.page.evaluate(() => window.confideNode!.snapshot().queries.length);
  expect(asked).toBe(1);
});

test('a member claims its fee shares from its console and withdraws them to its operator (its own key)', async () => {
  test.setTimeout(120_000);
  const member = tabOf((await chainCommittee())[1]!);
  const nodeId = keyAddress(`0x${member.id}`);
  const pub = chainPub();
  // Both queries completed on chain; this member posted a result share for each.
  const posted = await pub.getContractEvents({
    address: confide,
    abi: confideAbi,
    eventName: 'ResultPosted',
    args: { nodeId },
    fromBlock: 0n,
  });
  const ids = [...new Set(posted.map((e) => e.args.queryId!))];
  expect(ids).toHaveLength(2);
  let expected = 0n;
  for (const q of ids) {
    const read = () =>
      pub.readContract({ address: confide, abi: confideAbi, functionName: 'getQuery', args: [q] });
    await expect.poll(async () => (await read()).status, { timeout: 60_000 }).toBe(3);
    const rec = await read();
    expected += rec.fee / BigInt(rec.postCount);
  }
  const credit = () =>
    pub.readContract({
      address: confide,
      abi: confideAbi,
      functionName: 'credits',
      args: [nodeId],
    });
  expect(await credit()).toBe(0n);
  const earnings = member.page.getByTestId('node-earnings');
  await expect(member.page.getByTestId('node-claim')).toContainText('2 queries', {
    timeout: 30_000,
  });
  await member.page.getByTestId('node-claim').click();
  await expect(member.page.getByTestId('node-register-message')).toContainText('Claimed', {
    timeout: 30_000,
  });
  expect(await credit()).toBe(expected);
  await expect(earnings).toContainText('fees to claim: 0 ETH', { timeout: 30_000 });
  const before = await pub.getBalance({ address: nodeId });
  await member.page.getByTestId('node-withdraw').click();
  await expect(member.page.getByTestId('node-register-message')).toContainText('Withdrew', {
    timeout: 30_000,
  });
  expect(await credit()).toBe(0n);
  // The balance grew by the credit, less the gas of the withdrawal.
  const after = await pub.getBalance({ address: nodeId });
  expect(after > before).toBe(true);
  expect(after - before <= expected).toBe(true);
});

test('query texts go to the dataset owner only: a request signed by anyone else is refused', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const [member] = await chainCommittee();
  // A bare mesh peer (any tab may join the room), asking a committee member directly.
  const ctx = await browser.newContext();
  contexts.push(ctx);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  const askerKey = await page.evaluate(
    async ({ signaling, room, member }) => {
      const { Mesh } = (await import(
        /* @vite-ignore */ `${location.origin}/src/net/mesh.ts`
      )) as typeof import('../src/net/mesh');
      const { randomIdentity } = (await import(
        /* @vite-ignore */ `${location.origin}/src/net/identity.ts`
      )) as typeof import('../src/net/identity');
      const p = (await import(
        /* @vite-ignore */ `${location.origin}/src/app/protocol.ts`
      )) as typeof import('../src/app/protocol');
      const identity = randomIdentity();
      const mesh = new Mesh({ signalingUrl: signaling, room, identity, iceServers: [] });
      const replies = new Map<string, unknown>();
      mesh.listen(p.SERVICE_CHANNEL, (from, bytes) => {
        if (from === member) {
          const m = p.decodeMessage(bytes);
          replies.set(m.header.req, m.header);
        }
      });
      await mesh.start();
      await mesh.waitForPeers([member], 30_000);
      (window as unknown as { ask: (proof: string) => Promise<unknown> }).ask = async (proof) => {
        const req = p.newRequestId();
        mesh.send(
          member,
          p.SERVICE_CHANNEL,
          p.encodeMessage({
            t: 'query-texts',
            req,
            datasetId: location.hash.slice(1),
            queryIds: ['1', '2', '3'],
            proof,
          }),
        );
        for (let i = 0; i < 200 && !replies.has(req); i++)
          await new Promise((r) => setTimeout(r, 100));
        return replies.get(req);
      };
      return identity.id;
    },
    { signaling: `ws://127.0.0.1:${SIGNALING_PORT}`, room: ROOM, member: member! },
  );
  await page.evaluate((ds) => (location.hash = ds), datasetId.slice(2));
  const { queryTextsMessage } = await import('../src/app/protocol');
  const ask = async (signer: Hex) => {
    const proof = await privateKeyToAccount(signer).signMessage({
      message: queryTextsMessage(datasetId.slice(2), askerKey),
    });
    return page.evaluate(
      (proof) => (window as unknown as { ask: (p: string) => Promise<unknown> }).ask(proof),
      proof,
    );
  };
  expect(await ask(researcherKey)).toMatchObject({ t: 'error', code: 'FORBIDDEN' });
  const reply = (await ask(hospitalKey)) as {
    t: string;
    texts: { queryId: string; text: string }[];
  };
  expect(reply.t).toBe('query-texts-reply');
  expect(reply.texts).toContainEqual({
    queryId: '2',
    text: 'SELECT COUNT(*) FROM cohort WHERE age < 30',
  });
});

test('a third departure (more than t = 2): a new tab joins, a member is closed, the new tab takes the slot and the data still answers right', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const before = await chainCommittee();
  // A new tab joins the network and registers; the others see it online.
  const [fresh] = await net!.addNodes(browser, 1);
  nodes.push(fresh!);
  const victim = tabOf(before[4]!);
  await victim.ctx.close();
  nodes = nodes.filter((n) => n !== victim);
  try {
    await expect.poll(async () => (await chainDataset()).version, { timeout: 90_000 }).toBe(4);
  } catch (e) {
    await printNodeEvents(nodes);
    throw e;
  }
  const after = await chainCommittee();
  expect(after).toEqual([...before.slice(0, 4), fresh!.id]);
  await expect
    .poll(() => partitionsOf(fresh!), { timeout: 30_000 })
    .toEqual([{ datasetId: datasetId.slice(2), version: 4, memberIndex: 4 }]);
  // Three members of the original committee are gone; the data answers as the plaintext does.
  const rp = researcher.page;
  const text = "SELECT COUNT(*), AVG(bmi) FROM cohort WHERE sex = 'F' AND age BETWEEN 30 AND 70";
  await submitComposerQuery(rp, text);
  await expect(rp.getByTestId('query-progress')).toHaveAttribute('data-phase', 'done', {
    timeout: 120_000,
  });
  const g = patients.filter((p) => p.sex === 'F' && p.age >= 30 && p.age <= 70);
  const [row] = await resultRows(rp);
  expect(Number(row![0]!.replace(/,/g, ''))).toBe(g.length);
  expect(Math.abs(Number(row![1]) - g.reduce((a, p) => a + p.bmi, 0) / g.length)).toBeLessThan(
    0.01,
  );
});

test('a member whose stored partition was tampered with is caught at the next query, withdraws, and the committee re-shares its slot; the query completes right', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const before = await chainCommittee();
  const version = Number((await chainDataset()).version);
  // A spare for the slot: a new tab joins and registers.
  const [spare] = await net!.addNodes(browser, 1);
  nodes.push(spare!);
  // Flip one byte of the first chunk of column age in member 1's IndexedDB, hashes left alone (its
  // position comes from the manifest: a bit-decomposed column is stored after its bits).
  const bad = tabOf(before[1]!);
  await bad.page.evaluate(
    async ({ ds, v }) => {
      const m = (await import(
        /* @vite-ignore */ `${location.origin}/src/storage/idb-store.ts`
      )) as typeof import('../src/storage/idb-store');
      const store = await m.IdbShareStore.open(m.DEFAULT_IDB_NAME);
      const col = (await store.getManifest(ds))!.columns.findIndex((c) => c.name === 'age');
      store.close();
      if (col < 0) throw new Error('no column age in the partition');
      await m.corruptChunkForTest(m.DEFAULT_IDB_NAME, ds, v, col, 0, 5);
    },
    { ds: datasetId.slice(2), v: version },
  );
  const rp = researcher.page;
  const text = 'SELECT COUNT(*) FROM cohort WHERE age >= 65';
  await submitComposerQuery(rp, text);
  const progress = rp.getByTestId('query-progress');
  try {
    await expect(progress).toHaveAttribute('data-phase', 'resharing', { timeout: 60_000 });
    await expect(progress).toContainText('member 2 left');
    await expect(progress).toHaveAttribute('data-phase', 'done', { timeout: 120_000 });
  } catch (e) {
    await printNodeEvents(nodes);
    throw e;
  }
  expect(await resultRows(rp)).toEqual([
    [patients.filter((p) => p.age >= 65).length.toLocaleString('en-US')],
  ]);
  // The member said why, the chain moved on without it, and its corrupt partition is gone.
  const log = await bad.page.evaluate(() => window.confideNode!.snapshot().queries);
  expect(log[0]).toMatchObject({ state: 'failed', code: 'PARTITION_CORRUPT' });
  expect(log[0]!.message).toMatch(/integrity check \(column age chunk 0\)/);
  expect(Number((await chainDataset()).version)).toBe(version + 1);
  const after = await chainCommittee();
  expect(after[1]).toBe(spare!.id);
  expect(after.filter((k, i) => k !== before[i])).toEqual([spare!.id]);
  await expect.poll(() => partitionsOf(bad), { timeout: 30_000 }).toEqual([]);
});

test('the owner grows the committee and raises t from its dashboard: the wallet signs, the members re-share to 7 with t = 3, and queries still answer right', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const before = await chainCommittee();
  const version = Number((await chainDataset()).version);
  const extra = await net!.addNodes(browser, 2);
  nodes.push(...extra);
  const hospital = await openWithWallet(browser, `${BASE}/hospital`, {
    rpcUrl: anvil!.rpcUrl,
    chainId: net!.dep.chainId,
    privateKey: hospitalKey,
    contexts,
  });
  const box = hospital.page.getByTestId(`dataset-${datasetId}`);
  await expect(box.getByTestId('resize-size')).toBeVisible({ timeout: 60_000 });
  await box.getByTestId('resize-size').fill('7');
  await box.getByTestId('resize-threshold').fill('3');
  await box.getByTestId('resize-submit').click();
  try {
    await expect(box.getByTestId('resize-message')).toContainText(
      `Re-shared: version ${version + 1}, 7 members, t = 3.`,
      { timeout: 120_000 },
    );
  } catch (e) {
    await printNodeEvents(nodes);
    throw e;
  }
  const after = await chainCommittee();
  expect(after.slice(0, 5)).toEqual(before);
  expect([...after.slice(5)].sort()).toEqual(extra.map((e) => e.id).sort());
  expect(Number((await chainDataset()).threshold)).toBe(3);
  for (const [i, k] of after.entries())
    await expect
      .poll(() => partitionsOf(tabOf(k)), { timeout: 30_000 })
      .toEqual([{ datasetId: datasetId.slice(2), version: version + 1, memberIndex: i }]);
  const rp = researcher.page;
  const text = 'SELECT COUNT(*) FROM cohort WHERE bmi > 30';
  await submitComposerQuery(rp, text);
  await expect(rp.getByTestId('query-progress')).toHaveAttribute('data-phase', 'done', {
    timeout: 120_000,
  });
  expect(await resultRows(rp)).toEqual([
    [patients.filter((p) => p.bmi > 30).length.toLocaleString('en-US')],
  ]);
  // all 7 members answered
  for (const k of after)
    expect(
      (await tabOf(k).page.evaluate(() => window.confideNode!.snapshot().queries))[0],
    ).toMatchObject({ state: 'answered', version: version + 1 });
});
