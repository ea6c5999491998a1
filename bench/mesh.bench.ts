/**
 * Mesh benchmarks between real Chromium tabs (separate browser contexts) over WebRTC on loopback:
 *   mesh.throughput  MB/s of one data channel (chunked messages, back-pressure on)
 *   mesh.rtt         median round trip of an 8-byte message, ms
 *   mesh.mul         secure multiplications/s across 5 tabs (n=5, t=2), engine in Web Workers;
 *                    reported with bytes sent per multiplication and the ratio to the bound that
 *                    mesh.throughput of the same run puts on it.
 * Starts its own signaling service (port 18610) and Vite (port 5182) as child processes.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
import { openNodeTabs, waitFullMesh } from '../e2e/support/node-tabs';
import { startSignaling, startVite } from '../e2e/support/servers';
import { ensureChromium } from '../scripts/ensure-chromium';
import { median, type Benchmark, type BenchOptions, type BenchRecord } from './harness';

const SIGNALING_PORT = 18610;
/** Not the e2e tests' 5182, so a benchmark and the tests can run at the same time. */
const BENCH_VITE_PORT = 18618;

async function meshPages(
  browser: Browser,
  n: number,
  room: string,
): Promise<{ pages: Page[]; ids: string[] }> {
  const pages: Page[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${BENCH_VITE_PORT}/e2e/support/mesh-page.html`);
    await page.waitForFunction(() => typeof window.meshTest === 'object');
    ids.push(await page.evaluate(() => window.meshTest.init()));
    pages.push(page);
  }
  for (const p of pages)
    await p.evaluate(
      (room) => window.meshTest.start({ url: `ws://127.0.0.1:18610`, room, hash: false }),
      room,
    );
  for (const p of pages) await p.evaluate((keys) => window.meshTest.waitPeers(keys, 30_000), ids);
  return { pages, ids };
}

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  ensureChromium();
  const signaling = await startSignaling(SIGNALING_PORT);
  const vite = await startVite(BENCH_VITE_PORT).catch(async (e: unknown) => {
    await signaling.stop();
    throw e;
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const out: BenchRecord[] = [];
  try {
    // ---- two tabs: throughput and round trip
    const { pages, ids } = await meshPages(browser, 2, 'bench-pair');
    const [a, b] = pages as [Page, Page];
    const SIZE = 4 * 1024 * 1024;
    const COUNT = opts.quick ? 8 : 32;
    const reps = opts.quick ? 1 : 3;
    const rates: number[] = [];
    for (let r = 0; r <= reps; r++) {
      await b.evaluate(() => window.meshTest.clearReceived());
      const t0 = Date.now();
      await a.evaluate(({ to, n, size, r }) => window.meshTest.send(to, 3, size, 100 * r, n), {
        to: ids[1]!,
        n: COUNT,
        size: SIZE,
        r,
      });
      await b.evaluate((n) => window.meshTest.waitReceived(n, 300_000), COUNT);
      const secs = (Date.now() - t0) / 1000;
      if (r > 0) rates.push((COUNT * SIZE) / secs / 1e6); // first run is the warm-up
    }
    const throughput = median(rates);
    out.push({
      name: 'mesh.throughput',
      value: throughput,
      unit: 'MB/s',
      peers: 2,
      size: COUNT * SIZE,
      chunk: 65520,
      reps,
    });
    opts.log(`[mesh] throughput ${throughput.toFixed(1)} MB/s`);
    await a.evaluate((to) => window.meshTest.rtt(to, 20), ids[1]!);
    const rtt = await a.evaluate(({ to, n }) => window.meshTest.rtt(to, n), {
      to: ids[1]!,
      n: opts.quick ? 100 : 500,
    });
    out.push({ name: 'mesh.rtt', value: rtt, unit: 'ms', peers: 2, reps: opts.quick ? 100 : 500 });
    opts.log(`[mesh] rtt ${rtt.toFixed(3)} ms`);
    for (const p of pages) await p.context().close();

    // ---- five tabs: secure multiplication, engine in workers
    const tabs = await openNodeTabs(browser, 5, SIGNALING_PORT, 'bench-mul', BENCH_VITE_PORT);
    await waitFullMesh(tabs);
    const committee = tabs.map((t) => t.id);
    const LEN = opts.quick ? 100_000 : 1_000_000;
    const ROUNDS = opts.quick ? 2 : 3;
    const runOnce = async (id: string) =>
      Promise.all(
        tabs.map((t) =>
          t.page.evaluate(
            async ({ committee, id, len, rounds }) => {
              const r = await window.confideNode!.runJob(id, committee, {
                kind: 'mulbench',
                t: 2,
                len,
                rounds,
                verify: false,
                timeoutMs: 300_000,
              });
              if (r.kind !== 'mulbench') throw new Error('wrong result kind');
              return r;
            },
            { committee, id, len: LEN, rounds: ROUNDS },
          ),
        ),
      );
    await runOnce('bench-mul-warmup');
    const res = await runOnce('bench-mul');
    const slowest = Math.max(...res.map((r) => r.mulSeconds));
    const slowestOnline = Math.max(...res.map((r) => r.onlineSeconds));
    const muls = res[0]!.muls;
    const rate = muls / slowest;
    const bytesAll = res.reduce((s, r) => s + r.bytesSent, 0);
    const bytesPerMul = bytesAll / muls;
    const busiest = Math.max(...res.map((r) => r.bytesSent)) / muls;
    // Bound from the same run's mesh.throughput. On this machine one link between two tabs already
    // uses both cores, so all 5 tabs together cannot move more bytes per second than that one link:
    // bound = throughput / (bytes all parties send per multiplication). (With one machine per tab,
    // links run in parallel; that looser bound is reported as parallel_links_bound_op_s.)
    const bound = (throughput * 1e6) / bytesPerMul;
    const parallelBound = (throughput * 1e6 * 4) / busiest;
    out.push({
      name: 'mesh.mul',
      value: rate,
      unit: 'op/s',
      n: 5,
      t: 2,
      size: LEN,
      rounds: ROUNDS,
      bytes_per_mul: Math.round(bytesPerMul * 10) / 10,
      busiest_party_bytes_per_mul: Math.round(busiest * 10) / 10,
      baseline: 'mesh.throughput bound',
      ratio: rate / bound,
      bound_op_s: Math.round(bound),
      parallel_links_bound_op_s: Math.round(parallelBound),
      online_only_op_s: Math.round(muls / slowestOnline),
      reps: 1,
    });
    opts.log(
      `[mesh] mul ${Math.round(rate)} op/s, ${bytesPerMul.toFixed(1)} B/mul in all, bound ${Math.round(bound)} op/s`,
    );
    for (const t of tabs) await t.ctx.close();
  } finally {
    await browser.close();
    await Promise.all([signaling.stop(), vite.stop()]);
  }
  return out;
}

export const benchmarks: Benchmark[] = [{ name: 'mesh', run }];
