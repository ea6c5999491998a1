/**
 * The whole network, as `npm start` brings it up (scripts/network.ts on bench ports, 5 Chromium node
 * tabs with fresh profiles, no demo seed):
 *   e2e.start                seconds from spawning network.ts to "NETWORK READY" (chain deployed,
 *                            signaling, app, 5 nodes connected and registered on chain)
 *   e2e.upload               seconds for a hospital tab to upload `rows` synthetic rows through the
 *                            app's upload path (parse, share in a worker, seal, send, receipts, chain)
 *   storage.upload           the issue's figure: seconds from CSV chosen to dataset committed on chain
 *                            for 100k rows x 10 columns (integers, decimals, categories, dates) to
 *                            5 node tabs through the same path (10k rows with --quick)
 *   e2e.query.count_filter   seconds from submit to decrypted result for
 *                            SELECT COUNT(*) FROM bench WHERE x > 500 over QUERY_ROWS rows, through the
 *                            app's client (pay, nodes check the chain, MPC in 5 tabs, seal, open);
 *                            baseline: the same count in plain JS over the same values
 * The answer is checked against the plaintext count; a wrong answer fails the benchmark. The
 * network's output (node consoles with NETWORK_VERBOSE=1) goes to .cache/bench-e2e/network.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { chromium } from '@playwright/test';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CHROMIUM_ARGS } from '../playwright.config';
import { ensureChromium } from '../scripts/ensure-chromium';
import { median, type Benchmark, type BenchOptions, type BenchRecord } from './harness';
import { csvBytes } from './storage.bench';
import { firstValue, queryInPage, seedInPage } from '../e2e/support/demo-page';

const ANVIL_PORT = 24545;
const SIGNALING_PORT = 24600;
const APP_PORT = 24173;
const NODES = 5;
const DATA_DIR = '.cache/bench-e2e';
/** anvil's public dev accounts 1 and 2 (the same demo wallets network.ts prints). */
const HOSPITAL_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const RESEARCHER_KEY: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

function xorshift(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

async function startNetwork(log: (m: string) => void) {
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  const t0 = performance.now();
  const net: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/network.ts',
      ...['--nodes', String(NODES), '--no-seed', '--room', 'bench-e2e', '--data-dir', DATA_DIR],
      ...['--anvil-port', String(ANVIL_PORT), '--signaling-port', String(SIGNALING_PORT)],
      ...['--app-port', String(APP_PORT), '--node-timeout', '90'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((res, rej) => {
    const onData = (d: Buffer) => {
      output += String(d);
      appendFileSync(`${DATA_DIR}/network.log`, d);
      const m = /NETWORK READY (http:\/\/\S+)/.exec(output);
      if (m) res(m[1]!);
    };
    net.stdout!.on('data', onData);
    net.stderr!.on('data', onData);
    net.once('exit', (code) =>
      rej(new Error(`network.ts exited with ${code}:\n${output.slice(-2000)}`)),
    );
    setTimeout(
      () => rej(new Error(`network.ts not ready in 180 s:\n${output.slice(-2000)}`)),
      180_000,
    );
  });
  const seconds = (performance.now() - t0) / 1000;
  log(`[bench] network ready in ${seconds.toFixed(1)} s`);
  const stop = () =>
    new Promise<void>((r) => {
      if (net.exitCode !== null || net.signalCode !== null) return r();
      net.once('exit', () => r());
      net.kill('SIGINT');
      setTimeout(() => net.kill('SIGKILL'), 20_000).unref();
    });
  return {
    url,
    seconds,
    stop,
    confide: /Confide contract:\s+(0x[0-9a-fA-F]{40})/.exec(output)?.[1],
  };
}

/**
 * Rows of the query's dataset (BENCH_QUERY_ROWS to change): the issue's 100k. With x stored
 * bit-decomposed (10 bits) the query takes ~30 s on 2 shared cores; before, the generic comparison
 * moved ~28.6 KB per row between the tabs and 100k rows ran past the client's 120 s timeout.
 */
const QUERY_ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 100_000);

async function run(opts: BenchOptions): Promise<BenchRecord[]> {
  const executablePath = ensureChromium();
  const uploadRows = opts.quick ? 10_000 : 100_000;
  const out: BenchRecord[] = [];
  const net = await startNetwork(opts.log);
  try {
    out.push({ name: 'e2e.start', value: net.seconds, unit: 's', nodes: NODES });
    if (!net.confide) throw new Error('network.ts did not print the contract address');
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => opts.log(`[bench] page error: ${e.message}`));
      await page.goto(net.url);
      const cfg = {
        rpcUrl: `http://127.0.0.1:${ANVIL_PORT}`,
        chainId: 31337,
        confide: net.confide,
      };
      /** Uploads `csv` as the hospital through the app's upload path; seconds to committed on chain. */
      const uploadCsv = (csv: string) =>
        seedInPage(page, {
          cfg,
          csv,
          hospitalKey: HOSPITAL_KEY,
          researcher: privateKeyToAccount(RESEARCHER_KEY).address,
          name: 'bench',
          skip: [],
          minCohort: 10,
          budget: 100,
        });
      /** Synthetic data (x uniform in 0..1000, a category column), uploaded as the hospital. */
      const upload = async (rows: number, seed: number) => {
        const r = xorshift(seed);
        const xs = Array.from({ length: rows }, () => Math.floor(r() * 1001));
        const csv = `x,site\n${xs.map((x, i) => `${x},${i % 3 === 0 ? 'a' : 'b'}`).join('\n')}\n`;
        const up = await uploadCsv(csv);
        if (up.rows !== rows) throw new Error(`upload accepted ${up.rows} of ${rows} rows`);
        opts.log(`[bench] uploaded ${rows} rows in ${up.seconds.toFixed(1)} s`);
        return { ...up, xs };
      };

      const big = await upload(uploadRows, 20261204);
      out.push({
        name: 'e2e.upload',
        value: big.seconds,
        unit: 's',
        rows: uploadRows,
        nodes: NODES,
        t: 2,
      });

      const wide = await uploadCsv(new TextDecoder().decode(csvBytes(uploadRows)));
      if (wide.rows !== uploadRows)
        throw new Error(`storage.upload: accepted ${wide.rows} of ${uploadRows} rows`);
      opts.log(
        `[bench] uploaded ${uploadRows} rows x 10 columns in ${wide.seconds.toFixed(1)} s (phases from CSV fetch: ${wide.phases.map((p) => `${p.phase} ${p.at.toFixed(1)} s`).join(', ')})`,
      );
      out.push({
        name: 'storage.upload',
        value: wide.seconds,
        unit: 's',
        rows: uploadRows,
        columns: 10,
        nodes: NODES,
        t: 2,
      });

      const ds = uploadRows === QUERY_ROWS ? big : await upload(QUERY_ROWS, 20261205);
      const t0 = performance.now();
      let plain = 0;
      for (const x of ds.xs) if (x > 500) plain++;
      const plainSeconds = (performance.now() - t0) / 1000;
      const times: number[] = [];
      const reps = opts.quick ? 1 : 3;
      for (let i = 0; i < reps + 1; i++) {
        const q = await queryInPage(page, {
          cfg,
          key: RESEARCHER_KEY,
          datasetId: ds.datasetId,
          text: 'SELECT COUNT(*) FROM bench WHERE x > 500',
        });
        const got = firstValue(q.result);
        if (Number(got) !== plain)
          throw new Error(`e2e.query.count_filter: got ${String(got)}, plaintext says ${plain}`);
        opts.log(`[bench] query ${q.queryId}: ${q.seconds.toFixed(2)} s (${q.phases.join(' → ')})`);
        if (i > 0) times.push(q.seconds); // the first run warms up the workers
      }
      const seconds = median(times);
      out.push({
        name: 'e2e.query.count_filter',
        value: seconds,
        unit: 's',
        rows: QUERY_ROWS,
        nodes: NODES,
        t: 2,
        reps,
        baseline: 'plain.count_filter',
        ratio: seconds / Math.max(plainSeconds, 1e-6),
      });
    } finally {
      await browser.close();
    }
  } finally {
    await net.stop();
  }
  return out;
}

export const benchmarks: Benchmark[] = [{ name: 'e2e', run }];
