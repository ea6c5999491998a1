/**
 * Opens compute-node tabs on the real `/node` page (separate browser contexts: separate IndexedDB,
 * separate node keys) and drives jobs through `window.confideNode`.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { VITE_PORT } from './servers';

export interface NodeTab {
  ctx: BrowserContext;
  page: Page;
  id: string;
}

/** Records main-thread long tasks (> 50 ms) from page start, as `window.__longTasks`. */
const LONG_TASKS = `
  window.__longTasks = [];
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) {}
`;

export async function openNodeTabs(
  browser: Browser,
  n: number,
  signalingPort: number,
  room: string,
  vitePort = VITE_PORT,
  /** More query-string parameters for every node page, e.g. `&grace=3000`. */
  extraQuery = '',
): Promise<NodeTab[]> {
  const tabs: NodeTab[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error(`[node ${i}] ${e.message}`));
    if (process.env.MESH_E2E_VERBOSE)
      page.on('console', (m) => console.error(`[node ${i}] ${m.text()}`));
    await page.addInitScript({ content: LONG_TASKS });
    await page.goto(
      `http://127.0.0.1:${vitePort}/node?signaling=ws://127.0.0.1:${signalingPort}&room=${room}&name=node${i}${extraQuery}`,
    );
    const id = await page.getByTestId('node-id').textContent({ timeout: 60_000 });
    tabs.push({ ctx, page, id: id! });
  }
  return tabs;
}

export async function waitFullMesh(tabs: NodeTab[], timeoutMs = 30_000) {
  const keys = tabs.map((t) => t.id);
  await Promise.all(
    tabs.map((t) =>
      t.page.evaluate(
        ({ keys, timeoutMs }) => window.confideNode!.mesh.waitForPeers(keys, timeoutMs),
        { keys, timeoutMs },
      ),
    ),
  );
}

export function seededUint32(seed: number, n: number, mask = 0xffffffff): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) & mask);
  }
  return out.map((v) => v >>> 0);
}
