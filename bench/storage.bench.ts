/**
 * Storage benchmarks, all in one Node process (no network, no chain, no browser):
 * - storage.upload.local  seconds from CSV bytes to 5 stored partitions and 5 checked receipts
 *                         (parse, infer, validate, share c=5 t=2, seal, open, store, sign, verify);
 *                         baseline: papaparse alone on the same bytes. The issue's `storage.upload`
 *                         (with tabs, mesh and chain) needs the node and chain layers.
 * - storage.reshare       cells/s re-shared from 4 dealers to a committee of 5 (deal + combine),
 *                         baseline shamir.share of the same cells in the same run.
 * - storage.reshare.checked  cells/s re-shared by the protocol the nodes run (Session.reshare: 4
 *                         dealers of a committee of 5, one replaced, all 5 parties in this process
 *                         over the in-memory network, masked degree and consistency checks and
 *                         verify() included); baseline storage.reshare (the unchecked local steps).
 * - storage.write / .read MB/s of the on-disk store (sha256 + fsync + rename), baseline a plain
 *                         writeFile/readFile of the same bytes.
 * - mem.node.peak         MiB: peak RSS growth of a real Chromium tab (renderer VmHWM after
 *                         resetting it, minus its idle RSS) while it loads 1M stored cells from
 *                         IndexedDB through the share store and holds them; baseline the raw share
 *                         bytes (8 B/cell), so ratio = peak / raw. Uses port 5184.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { Field, share } from '../src/mpc/index';
import { runParties } from '../src/mpc/simulate';
import { parseCsv } from '../src/storage/csv';
import { FsShareStore } from '../src/storage/fs-store';
import { DEFAULT_CHUNK_SIZE } from '../src/storage/store';
import { reshareCombine, reshareDeal, type ResharePlan } from '../src/storage/reshare';
import { acceptValidation, inferSchema, validateAndEncode } from '../src/storage/schema';
import {
  acceptShareBundle,
  collectReceipts,
  newNodeKey,
  shareAndSeal,
} from '../src/storage/upload';
import type { Benchmark, BenchRecord } from './harness';
import { medianSeconds } from './harness';

/** Synthetic patients, 10 columns of every kind (integers, decimals, categories, dates, flags). */
export function csvBytes(rows: number): Uint8Array {
  const lines = ['age,bmi,sex,admitted,sbp,dbp,chol,smoker,region,visits'];
  let s = 12345;
  const r = (m: number) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % m;
  };
  for (let i = 0; i < rows; i++) {
    lines.push(
      `${18 + r(80)},${15 + r(30)}.${r(10)}${r(10)},${['F', 'M'][r(2)]},20${10 + r(15)}-0${1 + r(9)}-1${r(9)},${90 + r(90)},${50 + r(50)},${100 + r(200)},${r(2)},${['north', 'south', 'east', 'west'][r(4)]},${r(40)}`,
    );
  }
  return new TextEncoder().encode(lines.join('\n'));
}

async function uploadLocal(
  rows: number,
  reps: number,
  log: (m: string) => void,
): Promise<BenchRecord[]> {
  const bytes = csvBytes(rows);
  const text = new TextDecoder().decode(bytes);
  const F = new Field();
  const root = mkdtempSync(join(tmpdir(), 'confide-bench-upload-'));
  let run = 0;
  try {
    const keys = Array.from({ length: 5 }, () => newNodeKey());
    const once = async () => {
      run++;
      const stores = await Promise.all(
        keys.map((_, j) => FsShareStore.open(join(root, `r${run}-m${j}`))),
      );
      const csv = parseCsv(bytes);
      const report = validateAndEncode(csv, inferSchema(csv).schema);
      const accepted = acceptValidation(report, { dropRejectedRows: false });
      const datasetId = run.toString(16).padStart(64, '0');
      const target = {
        datasetId,
        version: 1,
        t: 2,
        members: keys.map((k, j) => ({ memberIndex: j, publicKey: k.publicKey })),
      };
      const sealed = await shareAndSeal(accepted, target, { field: F });
      const receipts = await Promise.all(
        sealed.map(
          async (s) =>
            (
              await acceptShareBundle(
                stores[s.memberIndex]!,
                s.sealed,
                keys[s.memberIndex]!.secretKey,
                { datasetId, version: 1, memberIndex: s.memberIndex },
              )
            ).receipt,
        ),
      );
      collectReceipts(target, receipts);
    };
    const total = await medianSeconds(reps, once);
    const parse = await medianSeconds(reps, () => Papa.parse(text, { header: false }));
    log(
      `[bench] storage.upload.local ${rows} rows x 10 columns: ${total.toFixed(2)} s (papaparse alone ${parse.toFixed(3)} s)`,
    );
    return [
      {
        name: 'storage.upload.local',
        value: total,
        unit: 's',
        rows,
        columns: 10,
        n: 5,
        t: 2,
        baseline: 'papaparse.parse',
        ratio: total / parse,
        reps,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function reshare(cells: number, reps: number): Promise<BenchRecord[]> {
  const F = new Field();
  const secrets = F.random(cells);
  const shares = share(F, secrets, 5, 2);
  const plan: ResharePlan = { dealers: [0, 1, 3, 4], newSize: 5, newThreshold: 2 };
  const re = await medianSeconds(reps, () => {
    const dealt = plan.dealers.map((d) => reshareDeal(F, shares[d]!, plan));
    for (let j = 0; j < 5; j++)
      reshareCombine(
        F,
        dealt.map((v) => v[j]!),
        plan,
      );
  });
  const base = await medianSeconds(reps, () => share(F, secrets, 5, 2));
  const value = cells / re;
  const checked = await medianSeconds(reps, async () => {
    const { results } = await runParties(5, { t: 2 }, async (s, p) => {
      const v = await s.reshare(
        plan.dealers,
        plan.dealers.includes(p.self) ? shares[p.self] : undefined,
        cells,
      );
      await s.verify();
      return v.length;
    });
    for (const r of results)
      if (!r.ok) throw new Error(`storage.reshare.checked: ${String(r.error)}`);
  });
  return [
    {
      name: 'storage.reshare.checked',
      value: cells / checked,
      unit: 'op/s',
      cells,
      n: 5,
      t: 2,
      dealers: 4,
      baseline: 'storage.reshare',
      ratio: cells / checked / value,
      reps,
    },
    {
      name: 'storage.reshare',
      value,
      unit: 'op/s',
      cells,
      n: 5,
      t: 2,
      dealers: 4,
      baseline: 'shamir.share',
      ratio: value / (cells / base),
      reps,
    },
  ];
}

async function storeIo(cells: number, reps: number): Promise<BenchRecord[]> {
  const F = new Field();
  const col = F.random(cells);
  const mb = (cells * 8) / 1e6;
  const root = mkdtempSync(join(tmpdir(), 'confide-bench-store-'));
  try {
    const store = await FsShareStore.open(join(root, 's'));
    const ds = 'ab'.repeat(32);
    let v = 0;
    const w = await medianSeconds(reps, () =>
      store.writePartition({
        datasetId: ds,
        version: ++v,
        memberIndex: 0,
        columns: [{ name: 'x', shares: col }],
      }),
    );
    const r = await medianSeconds(reps, () => store.readColumn(ds, 'x'));
    const raw = join(root, 'raw.bin');
    const wb = await medianSeconds(reps, () => writeFileSync(raw, new Uint8Array(col.buffer)));
    const rb = await medianSeconds(reps, () => readFileSync(raw));
    return [
      {
        name: 'storage.write',
        value: mb / w,
        unit: 'MB/s',
        cells,
        store: 'fs',
        baseline: 'fs.writeFile',
        ratio: wb / w,
        reps,
      },
      {
        name: 'storage.read',
        value: mb / r,
        unit: 'MB/s',
        cells,
        store: 'fs',
        baseline: 'fs.readFile',
        ratio: rb / r,
        reps,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'storage',
    async run({ quick, log }) {
      return [
        ...(await uploadLocal(quick ? 10_000 : 100_000, quick ? 1 : 3, log)),
        ...(await reshare(quick ? 100_000 : 1_000_000, quick ? 1 : 3)),
        ...(await storeIo(quick ? 100_000 : 1_000_000, quick ? 1 : 3)),
      ];
    },
  },
];

// ─── mem.node.peak: a real Chromium tab holding shares ───

/** PIDs of every descendant of `root` whose command line matches `re`. */
function descendants(root: number, re: RegExp): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  const rows = ps
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const r of rows.filter((x) => x.ppid === p)) {
      if (re.test(r.args)) out.push(r.pid);
      walk(r.pid);
    }
  };
  walk(root);
  return out;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function memNodePeak(cells: number, log: (m: string) => void): Promise<BenchRecord[]> {
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_ARGS } = await import('../playwright.config');
  const port = 5184;
  const vite = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/storage/e2e-vite.ts', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const dir = mkdtempSync(join(tmpdir(), 'confide-bench-mem-'));
  try {
    await new Promise<void>((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error(`vite did not start: ${out}`)), 60_000);
      vite.stdout!.on('data', (d: Buffer) => {
        out += String(d);
        if (out.includes('vite ready on')) {
          clearTimeout(t);
          res();
        }
      });
    });
    const ctx = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      headless: true,
    });
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      const url = `http://127.0.0.1:${port}/test/storage/e2e-page.html`;
      await page.goto(url);
      await page.waitForFunction(() => typeof window.storageTest === 'object');
      const F = new Field();
      const ds = 'f6'.repeat(32);
      const cols = 10;
      await page.evaluate((a) => window.storageTest.write(a), {
        datasetId: ds,
        version: 1,
        memberIndex: 0,
        chunkSize: DEFAULT_CHUNK_SIZE,
        columns: Array.from({ length: cols }, (_, k) => {
          const v = F.random(cells / cols);
          return { name: `c${k}`, b64: Buffer.from(v.buffer).toString('base64') };
        }),
      });
      // A fresh page (new renderer state), then measure the peak while loading and holding every cell.
      await page.reload();
      await page.waitForFunction(() => typeof window.storageTest === 'object');
      const browserPid = Number(
        /^\s*(\d+)/.exec(
          execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
            .split('\n')
            .find((l) => l.includes(dir) && new RegExp(`^\\s*\\d+\\s+${process.pid}\\s`).test(l)) ??
            '',
        )?.[1],
      );
      const renderers = descendants(browserPid, /--type=renderer/);
      const before = new Map(renderers.map((p) => [p, statusKiB(p, 'VmRSS')]));
      for (const p of renderers) writeFileSync(`/proc/${p}/clear_refs`, '5'); // reset the peak RSS
      const held = await page.evaluate((d) => window.storageTest.holdAll(d), ds);
      const peakKiB = Math.max(...renderers.map((p) => statusKiB(p, 'VmHWM') - before.get(p)!));
      const rawMiB = (held * 8) / 1048576;
      const peakMiB = peakKiB / 1024;
      log(
        `[bench] mem.node.peak: ${held} cells, peak +${peakMiB.toFixed(1)} MiB over the idle tab (raw ${rawMiB.toFixed(1)} MiB)`,
      );
      return [
        {
          name: 'mem.node.peak',
          value: peakMiB,
          unit: 'MiB',
          cells: held,
          phase: 'load+hold',
          baseline: 'raw share bytes',
          ratio: peakMiB / rawMiB,
          reps: 1,
        },
      ];
    } finally {
      await ctx.close();
    }
  } finally {
    vite.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

benchmarks.push({
  name: 'mem.node.peak',
  run: ({ quick, log }) => memNodePeak(quick ? 100_000 : 1_000_000, log),
});
