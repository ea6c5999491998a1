/**
 * Five real Chromium tabs (separate browser contexts, so separate IndexedDB and node keys) form an
 * authenticated WebRTC full mesh through the signaling service; then misbehaving tabs join.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import WebSocket from 'ws';
import { startSignaling, startVite, VITE_PORT, type Child } from './support/servers';

const SIGNALING_PORT = 18605;
const URL = `ws://127.0.0.1:${SIGNALING_PORT}`;
const PAGE = `http://127.0.0.1:${VITE_PORT}/e2e/support/mesh-page.html`;
const ROOM = 'mesh-e2e';
const N = 5;

let signaling: Child | undefined;
let vite: Child | undefined;
const contexts: BrowserContext[] = [];
const tabs: Page[] = [];
const ids: string[] = [];

async function openTab(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error(`[tab ${contexts.length}] ${e.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => typeof window.meshTest === 'object');
  return page;
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  // One after the other, so a failure of the second leaves the first assigned (and stopped in afterAll).
  signaling = await startSignaling(SIGNALING_PORT);
  vite = await startVite();
  for (let i = 0; i < N; i++) {
    const p = await openTab(browser);
    tabs.push(p);
    ids.push(await p.evaluate(() => window.meshTest.init()));
  }
});

test.afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await Promise.all([signaling?.stop(), vite?.stop()]);
});

test('5 tabs come up as an authenticated full mesh and exchange framed, chunked messages', async () => {
  expect(new Set(ids).size).toBe(N);
  for (const id of ids) expect(id).toMatch(/^0[23][0-9a-f]{64}$/);
  const t0 = Date.now();
  for (const p of tabs)
    await p.evaluate(({ url, room }) => window.meshTest.start({ url, room }), {
      url: URL,
      room: ROOM,
    });
  await Promise.all(
    tabs.map((p) => p.evaluate((keys) => window.meshTest.waitPeers(keys, 30_000), ids)),
  );
  console.log(
    `full mesh of ${N} tabs (${(N * (N - 1)) / 2} links) authenticated in ${Date.now() - t0} ms`,
  );
  for (let i = 0; i < N; i++) {
    expect(await tabs[i]!.evaluate(() => window.meshTest.connected())).toEqual(
      ids.filter((_, j) => j !== i).sort(),
    );
  }

  // Every tab sends every other tab one small and one 3 MiB message (48 chunks) on channels 1 and 2.
  const BIG = 3 * 1024 * 1024 + 123;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      if (i === j) continue;
      await tabs[i]!.evaluate(
        ({ to, small, big, big_size }) => {
          window.meshTest.send(to, 1, 100, small);
          window.meshTest.send(to, 2, big_size, big);
        },
        { to: ids[j]!, small: 1000 + 10 * i + j, big: 2000 + 10 * i + j, big_size: BIG },
      );
    }
  }
  for (let j = 0; j < N; j++) {
    const got = await tabs[j]!.evaluate(
      (n) => window.meshTest.waitReceived(n, 60_000),
      2 * (N - 1),
    );
    expect(got).toHaveLength(2 * (N - 1));
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      const mine = got.filter((r) => r.from === ids[i]);
      expect(mine.map((r) => r.channel).sort()).toEqual([1, 2]);
      const small = mine.find((r) => r.channel === 1)!;
      const big = mine.find((r) => r.channel === 2)!;
      expect(small.size).toBe(100);
      expect(big.size).toBe(BIG);
      expect(small.hash).toBe(
        await tabs[j]!.evaluate(({ s }) => window.meshTest.expectedHash(100, s), {
          s: 1000 + 10 * i + j,
        }),
      );
      expect(big.hash).toBe(
        await tabs[j]!.evaluate(({ n, s }) => window.meshTest.expectedHash(n, s), {
          n: BIG,
          s: 2000 + 10 * i + j,
        }),
      );
    }
    await tabs[j]!.evaluate(() => window.meshTest.clearReceived());
  }
});

test('back-pressure: 48 MiB queued at once to one peer arrives intact, channel buffer stays bounded', async () => {
  // Chromium's send queue holds ~16 MiB; without back-pressure `send` throws "queue is full".
  const COUNT = 12;
  const SIZE = 4 * 1024 * 1024;
  const t0 = Date.now();
  const queueMs = await tabs[0]!.evaluate(
    ({ to, n, size }) => window.meshTest.send(to, 3, size, 7000, n),
    { to: ids[1]!, n: COUNT, size: SIZE },
  );
  const got = await tabs[1]!.evaluate((n) => window.meshTest.waitReceived(n, 90_000), COUNT);
  const secs = (Date.now() - t0) / 1000;
  console.log(
    `48 MiB in ${secs.toFixed(2)} s = ${((COUNT * SIZE) / secs / 1e6).toFixed(1)} MB/s (queueing took ${queueMs.toFixed(0)} ms)`,
  );
  expect(got.map((r) => r.size)).toEqual(new Array<number>(COUNT).fill(SIZE));
  for (let k = 0; k < COUNT; k++) {
    expect(got[k]!.hash).toBe(
      await tabs[1]!.evaluate(({ size, s }) => window.meshTest.expectedHash(size, s), {
        size: SIZE,
        s: 7000 + k,
      }),
    );
  }
  const peers = await tabs[0]!.evaluate(() => window.meshTest.peers());
  const link = peers.find((p) => p.key === ids[1])!;
  expect(link.peakBuffered).toBeGreaterThan(0);
  // HIGH_WATER (1 MiB) plus at most one frame written past it.
  expect(link.peakBuffered).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
  expect(
    (await tabs[0]!.evaluate(() => window.meshTest.events())).filter((e) => e.type === 'peer-down'),
  ).toEqual([]);
  await tabs[1]!.evaluate(() => window.meshTest.clearReceived());
});

test('a dropped connection is detected and re-established; messages flow again', async () => {
  const [a, b] = [tabs[0]!, tabs[1]!];
  await a.evaluate((to) => window.meshTest.drop(to), ids[1]!);
  for (const [p, other] of [
    [a, ids[1]!],
    [b, ids[0]!],
  ] as const) {
    await expect
      .poll(
        async () => {
          const ev = await p.evaluate(() => window.meshTest.events());
          const down = ev.findIndex((e) => e.type === 'peer-down' && e.who === other);
          const upAgain =
            down >= 0 && ev.slice(down).some((e) => e.type === 'peer-up' && e.who === other);
          return { down: down >= 0, upAgain };
        },
        { timeout: 20_000 },
      )
      .toEqual({ down: true, upAgain: true });
  }
  await a.evaluate(({ to }) => window.meshTest.send(to, 1, 777, 4242), { to: ids[1]! });
  const got = await b.evaluate(() => window.meshTest.waitReceived(1, 20_000));
  expect(got[0]!.from).toBe(ids[0]);
  expect(got[0]!.hash).toBe(await b.evaluate(() => window.meshTest.expectedHash(777, 4242)));
  await b.evaluate(() => window.meshTest.clearReceived());
  expect(await a.evaluate(() => window.meshTest.connected())).toEqual(
    ids.filter((_, j) => j !== 0).sort(),
  );
});

test('tabs sending malformed frames, a forged handshake, replays, or with an unregistered key are rejected; the rest carry on', async ({
  browser,
}) => {
  const eventsBefore = await Promise.all(
    tabs.map((p) => p.evaluate(() => window.meshTest.events().length)),
  );
  const malformed = await openTab(browser);
  const replayer = await openTab(browser);
  const forger = await openTab(browser);
  const unregistered = await openTab(browser);
  const mKey = await malformed.evaluate(() => window.meshTest.init());
  const rKey = await replayer.evaluate(() => window.meshTest.init());
  await forger.evaluate(() => window.meshTest.init());
  const uKey = await unregistered.evaluate(() => window.meshTest.init());
  // The registry (the chain issue's hook) knows the honest nodes and two of the attackers.
  const registry = [...ids, mKey, rKey];
  for (const p of [...tabs, malformed, replayer, forger, unregistered])
    await p.evaluate((r) => window.meshTest.setRegistry(r), registry);

  const start = (p: Page, forgeKey?: string) =>
    p.evaluate(
      ({ url, room, forgeKey }) =>
        window.meshTest.start({ url, room, connectMs: 8000, ...(forgeKey ? { forgeKey } : {}) }),
      { url: URL, room: ROOM, forgeKey },
    );
  await start(malformed);
  await start(replayer);
  await start(forger, ids[0]!);
  await start(unregistered);
  await malformed.evaluate((k) => window.meshTest.waitPeers(k, 20_000), ids);
  await replayer.evaluate((k) => window.meshTest.waitPeers(k, 20_000), ids);
  for (const honest of ids) {
    await malformed.evaluate((to) => window.meshTest.attack.garbage(to), honest);
    await replayer.evaluate((to) => window.meshTest.attack.replay(to), honest);
  }

  // Every honest tab rejects each attacker exactly for what it did.
  for (let i = 0; i < N; i++) {
    await expect
      .poll(
        async () => {
          const ev = await tabs[i]!.evaluate(() => window.meshTest.events());
          const rej = ev.filter((e) => e.type === 'rejected');
          return {
            malformed: rej.some((e) => e.who === mKey && e.code === 'ERR_MALFORMED_FRAME'),
            replay: rej.some((e) => e.who === rKey && e.code === 'ERR_REPLAY'),
            forged: rej.some((e) => e.who?.startsWith('signal:') && e.code === 'ERR_HANDSHAKE'),
            unregistered: rej.some((e) => e.code === 'ERR_NOT_REGISTERED'),
          };
        },
        { timeout: 20_000 },
      )
      .toEqual({ malformed: true, replay: true, forged: true, unregistered: true });
    // The forger claimed tab 0's key; nobody let it in under that (or any) key.
    expect(await tabs[i]!.evaluate(() => window.meshTest.connected())).toEqual(
      ids.filter((_, j) => j !== i).sort(),
    );
  }
  expect(uKey).not.toBe(mKey);
  expect(await unregistered.evaluate(() => window.meshTest.connected())).not.toContain(ids[0]);

  // The honest five still exchange correct messages, and lost no link.
  for (let i = 0; i < N; i++)
    await tabs[i]!.evaluate(({ to, s }) => window.meshTest.send(to, 1, 5000, s), {
      to: ids[(i + 1) % N]!,
      s: 9000 + i,
    });
  for (let j = 0; j < N; j++) {
    const i = (j + N - 1) % N;
    const got = await tabs[j]!.evaluate(() => window.meshTest.waitReceived(1, 20_000));
    expect(got).toHaveLength(1);
    expect(got[0]!.from).toBe(ids[i]);
    expect(got[0]!.hash).toBe(
      await tabs[j]!.evaluate(({ s }) => window.meshTest.expectedHash(5000, s), { s: 9000 + i }),
    );
    const downs = (await tabs[j]!.evaluate(() => window.meshTest.events()))
      .slice(eventsBefore[j])
      .filter((e) => e.type === 'peer-down' && ids.includes(e.who!));
    expect(downs).toEqual([]);
  }
});

test('a peer that never answers the WebRTC set-up surfaces as ERR_CONNECT_TIMEOUT, not a hang', async ({
  browser,
}) => {
  // A signaling client in this process joins first and swallows every offer it gets.
  const silent = new WebSocket(URL);
  await new Promise<void>((res, rej) => {
    silent.once('open', () => {
      silent.send(JSON.stringify({ type: 'join', room: 'mesh-e2e-silent' }));
      res();
    });
    silent.once('error', rej);
  });
  let offers = 0;
  silent.on('message', (d) => {
    if ((JSON.parse(String(d)) as { type: string }).type === 'signal') offers++;
  });
  try {
    const p = await openTab(browser);
    await p.evaluate(() => window.meshTest.init());
    const t0 = Date.now();
    await p.evaluate(
      ({ url }) => window.meshTest.start({ url, room: 'mesh-e2e-silent', connectMs: 3000 }),
      { url: URL },
    );
    await expect
      .poll(
        async () =>
          (await p.evaluate(() => window.meshTest.events())).filter(
            (e) => e.code === 'ERR_CONNECT_TIMEOUT',
          ).length,
        {
          timeout: 15_000,
        },
      )
      .toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    expect(offers).toBeGreaterThan(0);
    expect(await p.evaluate(() => window.meshTest.connected())).toEqual([]);
    expect(
      await p.evaluate(() =>
        window.meshTest
          .errors()
          .some((m) => /no authenticated connection to .* within 3000 ms/.test(m)),
      ),
    ).toBe(true);
  } finally {
    silent.close();
  }
});
