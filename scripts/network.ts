/**
 * The whole local Confide network in one Node process: compile and deploy the contracts to a local
 * anvil chain, start the signaling service, serve the app with Vite, and launch compute nodes as
 * headless Chromium tabs with persistent profiles (their node keys and shares survive restarts).
 * Prints the URL to open and two demo wallets. Ctrl-C (SIGINT/SIGTERM) stops everything it started.
 *
 * Usage: `tsx scripts/network.ts [--nodes N] [--no-nodes] [--anvil-port P] [--signaling-port P]
 *         [--app-port P] [--room NAME] [--data-dir DIR] [--node-timeout SECONDS] [--no-seed]`
 * Defaults: 6 nodes (a committee of 5 and a spare, so a node closed for good is re-shared), ports 8545 / 18600 / 5173, room "confide", profiles under .cache/network.
 * Everything listens on 127.0.0.1.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { ANVIL_CHAIN_ID, ANVIL_DEV_KEY, startAnvil, type AnvilHandle } from './anvil';
import { compileContracts } from './compile-contracts';
import { deployAll } from './deploy';
import { buildWasm } from './build-wasm';
import { ensureChromium } from './ensure-chromium';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

/** anvil's dev accounts 1 and 2 (public test keys from its default mnemonic; never on a real chain). */
const DEMO_WALLETS = [
  {
    label: 'hospital',
    key: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as Hex,
  },
  {
    label: 'researcher',
    key: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' as Hex,
  },
] as const;

interface Options {
  nodes: number;
  anvilPort: number;
  signalingPort: number;
  appPort: number;
  room: string;
  dataDir: string;
  nodeTimeoutMs: number;
  /** Upload the sample dataset as the demo hospital and grant the demo researcher. */
  seed: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      'no-nodes': { type: 'boolean' },
      'anvil-port': { type: 'string' },
      'signaling-port': { type: 'string' },
      'app-port': { type: 'string' },
      room: { type: 'string' },
      'data-dir': { type: 'string' },
      'node-timeout': { type: 'string' },
      'no-seed': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: tsx scripts/network.ts [--nodes N] [--no-nodes] [--anvil-port P] [--signaling-port P]\n' +
        '       [--app-port P] [--room NAME] [--data-dir DIR] [--node-timeout SECONDS] [--no-seed]',
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, def: number, min: number, max: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`network: --${name} must be an integer in [${min}, ${max}], got ${v}`);
    return n;
  };
  const nodes = values['no-nodes'] ? 0 : int('nodes', values.nodes, 6, 0, 32);
  const room = values.room ?? 'confide';
  if (!/^[\w.-]{1,64}$/.test(room))
    throw new Error(`network: --room must be 1-64 letters, digits, '.', '_' or '-'`);
  return {
    nodes,
    anvilPort: int('anvil-port', values['anvil-port'], 8545, 1, 65535),
    signalingPort: int('signaling-port', values['signaling-port'], 18600, 1, 65535),
    appPort: int('app-port', values['app-port'], 5173, 1, 65535),
    room,
    dataDir: resolve(ROOT, values['data-dir'] ?? '.cache/network'),
    nodeTimeoutMs: int('node-timeout', values['node-timeout'], 60, 1, 3600) * 1000,
    seed: !values['no-seed'] && nodes >= 3,
  };
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`network: ${method}: ${body.error.message}`);
  return body.result;
}

/** Resolves when `port` on 127.0.0.1 can be bound; rejects with a clear message when it is taken. */
function assertPortFree(port: number, what: string, flag: string): Promise<void> {
  return new Promise((res, rej) => {
    const srv = createNetServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      rej(
        new Error(
          e.code === 'EADDRINUSE'
            ? `network: port ${port} (${what}) is already in use on ${HOST} — is another network running? ` +
                `Stop it, or pick another port with ${flag}.`
            : `network: cannot bind port ${port} (${what}): ${e.message}`,
        ),
      ),
    );
    srv.listen(port, HOST, () => srv.close(() => res()));
  });
}

/** Child processes of this process (by /proc), so the Chromium browsers can be killed by PID. */
function childPids(): number[] {
  const out: number[] = [];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid) out.push(Number(d));
      } catch {
        // process gone meanwhile
      }
    }
  } catch {
    // no /proc: rely on graceful close only
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), res(v)),
      (e: unknown) => (clearTimeout(t), rej(e)),
    );
  });

const started = Date.now();
/** Progress lines carry the time since start, so a slow step is visible at a glance. */
const log = (m: string) =>
  console.log(`[network +${((Date.now() - started) / 1000).toFixed(1)} s] ${m}`);

type Closer = { what: string; close: () => Promise<void> };

/** Brings the network up and keeps it running until SIGINT/SIGTERM (used by `npm start` too). */
export async function main(argv: string[] = process.argv.slice(2)) {
  const opts = parseOptions(argv);
  const t0 = Date.now();
  const closers: Closer[] = [];
  const browserPids = new Set<number>();
  let stopping: Promise<void> | undefined;

  const stop = (code: number) => {
    if (stopping) return stopping;
    stopping = (async () => {
      log('stopping…');
      // Record Chromium PIDs before closing so stragglers can be killed by PID afterwards.
      for (const pid of childPids()) browserPids.add(pid);
      for (const c of closers.reverse()) {
        try {
          await withTimeout(c.close(), 8000, `stopping ${c.what}`);
        } catch (e) {
          console.error(
            `[network +${((Date.now() - started) / 1000).toFixed(1)} s] ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      for (const pid of browserPids) {
        if (alive(pid)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      log('stopped');
      process.exit(code);
    })();
    return stopping;
  };
  const onSignal = (code: number) => {
    if (!stopping) return void stop(code);
    // A second Ctrl-C while stopping: kill what is left by PID at once.
    log('second signal: killing remaining children');
    for (const pid of new Set([...browserPids, ...childPids()])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(code);
  };
  process.on('SIGINT', () => onSignal(130));
  process.on('SIGTERM', () => onSignal(143));

  try {
    await assertPortFree(opts.anvilPort, 'anvil JSON-RPC', '--anvil-port');
    await assertPortFree(opts.signalingPort, 'signaling', '--signaling-port');
    await assertPortFree(opts.appPort, 'app (Vite)', '--app-port');

    // 1. Contracts and chain.
    const c = compileContracts();
    log(`contracts ${c.compiled ? 'compiled' : 'up to date'}`);
    const anvil: AnvilHandle = await startAnvil({ port: opts.anvilPort });
    closers.push({ what: `anvil (pid ${anvil.pid})`, close: () => anvil.stop() });
    log(`anvil pid ${anvil.pid} at ${anvil.rpcUrl}`);
    const deployment = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_DEV_KEY });
    log(`Confide deployed at ${deployment.confide} (block ${deployment.blockNumber})`);

    // 2. Signaling, in-process.
    const { startSignalingServer } = await import('../src/signaling/server');
    const signaling = await startSignalingServer({ port: opts.signalingPort, host: HOST });
    closers.push({ what: 'signaling', close: () => signaling.close() });
    const signalingUrl = `ws://${HOST}:${signaling.port}`;
    log(`signaling at ${signalingUrl}`);

    // 3. WASM and the app. Vite reads VITE_* variables from process.env.
    await buildWasm();
    Object.assign(process.env, {
      VITE_CHAIN_RPC_URL: anvil.rpcUrl,
      VITE_CHAIN_ID: String(ANVIL_CHAIN_ID),
      VITE_CONFIDE_ADDRESS: deployment.confide,
      VITE_SIGNALING_URL: signalingUrl,
      VITE_MESH_ROOM: opts.room,
    });
    const { createServer } = await import('vite');
    const vite = await createServer({
      root: ROOT,
      server: { port: opts.appPort, strictPort: true, host: HOST },
      cacheDir: join(ROOT, `.cache/vite-network-${opts.appPort}`),
      logLevel: 'warn',
      clearScreen: false,
      optimizeDeps: {
        // Pre-bundle everything the pages and the engine worker import, so no tab is reloaded by
        // a late dependency optimisation while it starts.
        entries: ['index.html', 'workers/*.ts'],
        include: [
          'simple-peer/simplepeer.min.js',
          'comlink',
          'yjs',
          'y-protocols/sync',
          'y-protocols/awareness',
          'y-indexeddb',
          'idb',
          'lib0/encoding',
          'lib0/decoding',
        ],
      },
    });
    closers.push({ what: 'vite', close: () => vite.close() });
    await vite.listen();
    const appUrl = `http://${HOST}:${opts.appPort}`;
    log(`app at ${appUrl}`);

    // 4. Compute nodes: one Chromium process per node, each with its own persistent profile.
    const nodeIds: string[] = [];
    let demo: { datasetId: string; rows: number; committee: string[]; seconds: number } | undefined;
    if (opts.nodes > 0) {
      const executablePath = ensureChromium();
      const { chromium } = await import('@playwright/test');
      const { CHROMIUM_ARGS } = await import('../playwright.config');
      const browserOptions = {
        executablePath,
        args: CHROMIUM_ARGS,
        headless: true,
        // This process owns the signals: it closes the browsers itself, then kills by PID.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      };
      // One after another: launching the 5 together was slower here (26 s against 18 s to a full
      // mesh on 2 cores).
      const pages = [];
      for (let i = 0; i < opts.nodes; i++) {
        const dir = join(opts.dataDir, `node-${i}`);
        mkdirSync(dir, { recursive: true });
        const before = new Set(childPids());
        const ctx = await chromium.launchPersistentContext(dir, browserOptions);
        for (const pid of childPids()) if (!before.has(pid)) browserPids.add(pid);
        closers.push({ what: `node ${i} browser`, close: () => ctx.close() });
        const page = ctx.pages()[0] ?? (await ctx.newPage());
        page.on('pageerror', (e) => console.error(`[node ${i}] ${e.message}`));
        if (process.env.NETWORK_VERBOSE)
          page.on('console', (m) => console.error(`[node ${i}] ${m.text()}`));
        await page.goto(`${appUrl}/node?name=node-${i}`);
        pages.push(page);
      }
      const deadline = Date.now() + opts.nodeTimeoutMs;
      for (const [i, page] of pages.entries()) {
        try {
          await page.waitForFunction(() => window.confideNode?.id !== undefined, undefined, {
            timeout: Math.max(1000, deadline - Date.now()),
          });
        } catch {
          const alert = await page
            .getByRole('alert')
            .textContent({ timeout: 500 })
            .catch(() => null);
          throw new Error(
            `network: node ${i} did not start within ${opts.nodeTimeoutMs / 1000} s` +
              (alert ? `: ${alert}` : ' (no error shown on its page)'),
          );
        }
        nodeIds.push(await page.evaluate(() => window.confideNode!.id));
      }
      await Promise.all(
        pages.map(async (page, i) => {
          const ms = Math.max(1000, deadline - Date.now());
          try {
            await page.evaluate(({ keys, ms }) => window.confideNode!.mesh.waitForPeers(keys, ms), {
              keys: nodeIds,
              ms,
            });
          } catch (e) {
            throw new Error(
              `network: node ${i} is not connected to all ${opts.nodes - 1} other nodes ` +
                `within ${opts.nodeTimeoutMs / 1000} s: ${e instanceof Error ? e.message : String(e)}`,
            );
          }
        }),
      );
      log(
        `${opts.nodes} compute node${opts.nodes === 1 ? '' : 's'} up, full mesh of ` +
          `${(opts.nodes * (opts.nodes - 1)) / 2} connections (profiles in ${opts.dataDir})`,
      );

      // 5. Register every node on chain: each node key funds its own deposit and gas (anvil
      //    balances; on a real chain an operator sends them), signing in its own tab.
      const { keyAddress } = await import('../src/chain/keys');
      await Promise.all(
        pages.map(async (page, i) => {
          await rpc(anvil.rpcUrl, 'anvil_setBalance', [
            keyAddress(`0x${nodeIds[i]}`),
            '0x56BC75E2D63100000', // 100 ETH
          ]);
          await page.evaluate(
            (deposit) => window.confideNode!.service.register(BigInt(deposit)).then(String),
            deployment.params.minDeposit.toString(),
          );
        }),
      );
      log(`${opts.nodes} nodes registered on chain with a deposit`);

      // 6. The demo hospital uploads the sample dataset through the app's own upload path (in a
      //    headless tab: CSV → shares in a worker → sealed to each member → receipts → chain) and
      //    grants the demo researcher.
      if (opts.seed) {
        const browser = await chromium.launch(browserOptions);
        try {
          const page = await browser.newPage();
          page.on('pageerror', (e) => console.error(`[seed] ${e.message}`));
          await page.goto(`${appUrl}/`);
          const researcher = privateKeyToAccount(DEMO_WALLETS[1].key).address;
          const seeded = await page.evaluate(
            async (o) => {
              const m = (await import(
                /* @vite-ignore */ `${location.origin}/src/app/demo-seed.ts`
              )) as typeof import('../src/app/demo-seed');
              const r = await m.seedDemo({
                ...o,
                cfg: { ...o.cfg, confide: o.cfg.confide as `0x${string}` },
                hospitalKey: o.hospitalKey as `0x${string}`,
                researcher: o.researcher as `0x${string}`,
              });
              return { ...r, committee: r.committee.map(String) };
            },
            {
              cfg: { rpcUrl: anvil.rpcUrl, chainId: ANVIL_CHAIN_ID, confide: deployment.confide },
              hospitalKey: DEMO_WALLETS[0].key,
              researcher,
              csvUrl: `${appUrl}/sample/patients.csv`,
              name: 'patients',
              skip: ['patient_id'],
              minCohort: 10,
              budget: 1000,
            },
          );
          demo = seeded;
          log(
            `demo hospital uploaded ${seeded.rows} patients as dataset ${seeded.datasetId} ` +
              `to a committee of ${seeded.committee.length} in ${seeded.seconds.toFixed(1)} s; ` +
              `demo researcher granted`,
          );
        } finally {
          await browser.close();
        }
      }
    }

    // 7. What to open and which wallets to import.
    const lines = [
      '',
      `Confide local network ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      '',
      `  Open:              ${appUrl}/   (hospital: ${appUrl}/hospital, researcher: ${appUrl}/researcher, node: ${appUrl}/node)`,
      `  Chain:             ${anvil.rpcUrl} (chain id ${ANVIL_CHAIN_ID})`,
      `  Confide contract:  ${deployment.confide}`,
      `  Signaling:         ${signalingUrl} (room ${opts.room})`,
      `  Compute nodes:     ${nodeIds.length}${nodeIds.map((id, i) => `\n    node-${i} ${id}`).join('')}`,
      ...(demo
        ? [
            `  Demo dataset:      patients (${demo.rows} synthetic rows), id ${demo.datasetId}`,
            `                     try: SELECT COUNT(*), AVG(age) FROM patients WHERE bmi > 30`,
          ]
        : []),
      '',
      '  Demo wallets (anvil dev accounts; import into a browser wallet on the chain above):',
      ...DEMO_WALLETS.map((w) => {
        const a = privateKeyToAccount(w.key);
        return `    ${w.label.padEnd(11)} ${a.address}\n                private key ${w.key}`;
      }),
      '',
      '  Ctrl-C stops everything.',
      '',
    ];
    console.log(lines.join('\n'));
    console.log(`NETWORK READY ${appUrl}/`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    await stop(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(join(ROOT, 'node_modules'))) {
    console.error('network: node_modules is missing — run npm ci first');
    process.exit(1);
  }
  process.chdir(ROOT); // build-wasm and Vite resolve paths from the project root
  await main();
}
