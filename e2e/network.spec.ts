/**
 * `npm run network` end to end: scripts/network.ts brings up anvil, the contract, signaling, the app
 * and 3 Chromium compute nodes on uncommon ports; a fresh browser page opens /node and joins the mesh
 * of exactly those 3 nodes; SIGINT stops everything and frees the ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { expect, test } from '@playwright/test';

const ANVIL_PORT = 28545;
const SIGNALING_PORT = 28600;
const APP_PORT = 28173;
const NODES = 3;
const DATA_DIR = '.cache/network-e2e';

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** PIDs of processes whose command line mentions `needle` (the node profiles' directory). */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let net: ChildProcess | undefined;
let output = '';

test.afterAll(async () => {
  // Only if the test failed before its own SIGINT: never leave the network running.
  if (net && net.exitCode === null && net.signalCode === null) {
    const exited = new Promise((r) => net!.once('exit', r));
    net.kill('SIGINT');
    const t = setTimeout(() => net!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
});

test('network.ts brings up chain, signaling, app and 3 nodes; SIGINT stops it all', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  for (const p of [ANVIL_PORT, SIGNALING_PORT, APP_PORT])
    expect(await portFree(p), `port ${p} must be free before the test`).toBe(true);
  // Fresh node profiles each run, so the test does not depend on an earlier run's IndexedDB.
  rmSync(DATA_DIR, { recursive: true, force: true });

  const t0 = Date.now();
  // node --import tsx (what `npx tsx` runs) so the PID we signal is the network process itself.
  net = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/network.ts',
      '--nodes',
      String(NODES),
      '--anvil-port',
      String(ANVIL_PORT),
      '--signaling-port',
      String(SIGNALING_PORT),
      '--app-port',
      String(APP_PORT),
      '--room',
      'network-e2e',
      '--data-dir',
      DATA_DIR,
      '--node-timeout',
      '45',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    net!.once('exit', (code, signal) => r({ code, signal })),
  );
  const ready = new Promise<string>((res, rej) => {
    const onData = (d: Buffer) => {
      output += String(d);
      if (process.env.NETWORK_E2E_VERBOSE) process.stderr.write(d);
      const m = /NETWORK READY (http:\/\/\S+)/.exec(output);
      if (m) res(m[1]!);
    };
    net!.stdout!.on('data', onData);
    net!.stderr!.on('data', onData);
    void exited.then(({ code }) =>
      rej(new Error(`network.ts exited with ${code} before ready:\n${output.slice(-3000)}`)),
    );
    setTimeout(
      () => rej(new Error(`network.ts not ready after 60 s:\n${output.slice(-3000)}`)),
      60_000,
    );
  });
  const url = await ready;
  console.log(`network ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${url}`);
  expect(url).toBe(`http://127.0.0.1:${APP_PORT}/`);
  expect(output).toMatch(/Confide contract:\s+0x[0-9a-fA-F]{40}/);
  expect(output).toContain(`ws://127.0.0.1:${SIGNALING_PORT}`);
  expect(output).toMatch(/hospital\s+0x70997970C51812dc3A010C7d01b50e0d17dc79C8/);
  expect(output).toMatch(/researcher\s+0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC/);
  expect(processesMentioning(DATA_DIR).length).toBeGreaterThanOrEqual(NODES);
  const nodeIds = [...output.matchAll(/node-\d (0[23][0-9a-f]{64})/g)].map((m) => m[1]!);
  expect(nodeIds).toHaveLength(NODES);

  // A fresh visitor: no query string, so the page uses the VITE_* config the network set.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error(`[visitor] ${e.message}`));
  await page.goto(`${url}node`);
  await expect(page.getByTestId('peer-count')).toHaveText(String(NODES), { timeout: 30_000 });
  const up = await page.evaluate(() =>
    window
      .confideNode!.mesh.peers()
      .filter((p) => p.state === 'up')
      .map((p) => p.key!)
      .sort(),
  );
  expect(up).toEqual([...nodeIds].sort());
  await ctx.close();

  // Ctrl-C: everything stops and every port is free again.
  net.kill('SIGINT');
  const exit = await Promise.race([
    exited,
    new Promise<never>((_, rej) =>
      setTimeout(
        () => rej(new Error(`no exit 20 s after SIGINT:\n${output.slice(-2000)}`)),
        20_000,
      ),
    ),
  ]);
  expect(exit.code).toBe(130);
  expect(output).toMatch(/\[network \+[\d.]+ s\] stopped/);
  for (const p of [ANVIL_PORT, SIGNALING_PORT, APP_PORT])
    expect(await portFree(p), `port ${p} free after SIGINT`).toBe(true);
  expect(processesMentioning(DATA_DIR), 'no node browser left running').toEqual([]);
});
