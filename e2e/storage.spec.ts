/**
 * The share store on real Chromium IndexedDB (no fakes): two nodes with separate persistent
 * user-data dirs store their partitions; the browser is restarted with the same dirs and every
 * partition reads back byte-identical with its hashes verified; a tampered chunk is caught with a
 * clear error; a browser SIGKILLed in the middle of a write comes back with one consistent version.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Field, reconstruct } from '../src/mpc/index';
import { parseCsv } from '../src/storage/csv';
import { inferSchema, validateAndEncode } from '../src/storage/schema';
import { seededShares } from '../test/storage/helpers';

const PORT = 5183;
const PAGE = `http://127.0.0.1:${PORT}/test/storage/e2e-page.html`;
const DS = 'c3'.repeat(32);
const DS_CRASH = 'd4'.repeat(32);
const ROWS = 100_000;
const CHUNK = 16_384;

let vite: ChildProcess | undefined;
const dirs: string[] = [];

function b64(s: BigUint64Array): string {
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');
}
function fromB64(s: string): BigUint64Array {
  const b = Buffer.from(s, 'base64');
  return new BigUint64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function launch(dir: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => typeof window.storageTest === 'object');
  return { ctx, page };
}

function startVite(): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/storage/e2e-vite.ts', String(PORT)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`vite did not start: ${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('vite ready on')) {
        clearTimeout(t);
        resolve(proc);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += String(d)));
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`vite exited with ${code}: ${out}`));
    });
  });
}

/** PID of the Chromium main process this test launched with `dir` (a child of this process). */
function browserPid(dir: string): number {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === process.pid && m[3]!.includes(dir)) return Number(m[1]);
  }
  throw new Error(`no Chromium child process found for ${dir}`);
}

const member = (m: number) => [
  { name: 'age', shares: seededShares(ROWS, 100 + m) },
  { name: 'bmi', shares: seededShares(ROWS, 200 + m) },
  { name: 'sex', shares: seededShares(ROWS, 300 + m) },
];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  vite = await startVite();
});

test.afterAll(async () => {
  if (vite && vite.exitCode === null) {
    const exited = new Promise((r) => vite!.once('exit', r));
    vite.kill('SIGTERM');
    await exited;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('partitions persist across a browser restart, byte-identical and hash-verified; tampering is detected', async () => {
  const dA = mkdtempSync(join(tmpdir(), 'confide-node-a-'));
  const dB = mkdtempSync(join(tmpdir(), 'confide-node-b-'));
  dirs.push(dA, dB);
  const roots: string[] = [];
  {
    const a = await launch(dA);
    const b = await launch(dB);
    for (const [i, node] of [a, b].entries()) {
      const t0 = Date.now();
      const m = await node.page.evaluate((args) => window.storageTest.write(args), {
        datasetId: DS,
        version: 1,
        memberIndex: i,
        chunkSize: CHUNK,
        columns: member(i).map((c) => ({ name: c.name, b64: b64(c.shares) })),
      });
      console.log(
        `member ${i}: stored 3 x ${ROWS} shares in ${Date.now() - t0} ms, root ${m.merkleRoot.slice(0, 16)}…`,
      );
      expect(m.columns.map((c) => c.chunks.length)).toEqual([7, 7, 7]);
      roots.push(m.merkleRoot);
      // What is really in IndexedDB, bypassing the store.
      const raw = await node.page.evaluate(() => window.storageTest.raw());
      expect(raw.pointers).toEqual([DS]);
      expect(raw.keys).toHaveLength(21);
      expect(raw.keys[0]).toEqual([DS, 1, 0, 0]);
      expect(raw.bytesIsArrayBuffer).toBe(true);
      expect(raw.hashLength).toBe(32);
    }
    expect(roots[0]).not.toBe(roots[1]);
    await a.ctx.close();
    await b.ctx.close();
  }
  // Restart the browsers with the same user-data dirs.
  for (const [i, dir] of [dA, dB].entries()) {
    const n = await launch(dir);
    const back = await n.page.evaluate((ds) => window.storageTest.read(ds), DS);
    expect(back.manifest?.memberIndex).toBe(i);
    expect(back.manifest?.merkleRoot).toBe(roots[i]);
    for (const c of member(i)) {
      const got = fromB64(back.columns[c.name]!);
      expect(Buffer.from(got.buffer).equals(Buffer.from(c.shares.buffer))).toBe(true);
    }
    const ok = await n.page.evaluate(({ ds, root }) => window.storageTest.verify(ds, root), {
      ds: DS,
      root: roots[i]!,
    });
    expect(ok).toMatchObject({ ok: true, corrupt: [], missing: [], rootMismatch: false });
    if (i === 0) {
      // A node tampers with one chunk of its stored partition (bytes changed, hashes left alone).
      await n.page.evaluate(({ ds }) => window.storageTest.corrupt(ds, 1, 1, 4), { ds: DS });
      const err = await n.page.evaluate(({ ds }) => window.storageTest.readError(ds, 'bmi'), {
        ds: DS,
      });
      expect(err?.code).toBe('STORE_CHUNK_CORRUPT');
      expect(err?.message).toMatch(/column bmi chunk 4 fails its integrity hash/);
      expect(
        await n.page.evaluate(({ ds }) => window.storageTest.readError(ds, 'age'), { ds: DS }),
      ).toBeNull();
      const rep = await n.page.evaluate(({ ds, root }) => window.storageTest.verify(ds, root), {
        ds: DS,
        root: roots[0]!,
      });
      expect(rep.ok).toBe(false);
      expect(rep.corrupt).toEqual([{ column: 'bmi', chunk: 4 }]);
    }
    await n.ctx.close();
  }
});

test('a browser killed (SIGKILL) during a new version write comes back with one complete version', async () => {
  const d = mkdtempSync(join(tmpdir(), 'confide-node-crash-'));
  dirs.push(d);
  const v1 = member(7);
  const v2 = [...member(8), { name: 'extra', shares: seededShares(ROWS, 999) }];
  const args = (version: number, cols: typeof v1) => ({
    datasetId: DS_CRASH,
    version,
    memberIndex: 2,
    chunkSize: CHUNK,
    columns: cols.map((c) => ({ name: c.name, b64: b64(c.shares) })),
  });
  const n = await launch(d);
  await n.page.evaluate((a) => window.storageTest.write(a), args(1, v1));
  await n.page.evaluate((a) => window.storageTest.writeNoWait(a), args(2, v2));
  await new Promise((r) => setTimeout(r, 30));
  const pid = browserPid(d);
  process.kill(pid, 'SIGKILL');
  await n.ctx.close().catch(() => undefined);

  const again = await launch(d);
  const back = await again.page.evaluate((ds) => window.storageTest.read(ds), DS_CRASH);
  const version = back.manifest!.version;
  console.log(`after SIGKILL mid-write the partition is at version ${version}`);
  const expected = version === 1 ? v1 : v2;
  expect(back.manifest!.columns.map((c) => c.name)).toEqual(expected.map((c) => c.name));
  for (const c of expected)
    expect(
      Buffer.from(fromB64(back.columns[c.name]!).buffer).equals(Buffer.from(c.shares.buffer)),
    ).toBe(true);
  expect((await again.page.evaluate((ds) => window.storageTest.verify(ds), DS_CRASH)).ok).toBe(
    true,
  );
  // No orphan chunks of another version remain visible as the current partition.
  const raw = await again.page.evaluate(() => window.storageTest.raw());
  expect(raw.keys.filter((k) => k[0] === DS_CRASH && k[1] === version)).toHaveLength(
    expected.length * 7,
  );
  await again.ctx.close();
});

test('a hospital tab shares a CSV in a worker and 3 node tabs store it; after a restart the shares reconstruct the CSV', async () => {
  const DS_UP = 'e5'.repeat(32);
  const rows = ['age,bmi,sex,admitted,delta'];
  for (let i = 0; i < 20_000; i++) {
    rows.push(
      `${18 + (i % 80)},${(15 + (i % 300) / 10).toFixed(1)},${i % 3 === 0 ? 'F' : 'M'},2019-0${1 + (i % 9)}-1${i % 10},${(i % 21) - 10}`,
    );
  }
  rows.splice(77, 0, '=cmd|calc,20.0,F,2019-01-01,0'); // formula injection: rejected, not uploaded
  const csv = rows.join('\n');
  const keys = [0, 1, 2].map((j) => {
    const sk = secp256k1.utils.randomSecretKey();
    return {
      skHex: Buffer.from(sk).toString('hex'),
      pkHex: Buffer.from(secp256k1.getPublicKey(sk, true)).toString('hex'),
      j,
    };
  });
  const args = { csv, datasetId: DS_UP, t: 1, chunkSize: 4096, members: keys.map((k) => k.pkHex) };
  const memberDirs = keys.map(() => mkdtempSync(join(tmpdir(), 'confide-member-')));
  const ownerDir = mkdtempSync(join(tmpdir(), 'confide-owner-'));
  dirs.push(ownerDir, ...memberDirs);

  const owner = await launch(ownerDir);
  const t0 = Date.now();
  const up = await owner.page.evaluate((a) => window.storageTest.ownerUpload(a), args);
  console.log(
    `owner: ${up.acceptedRows} rows x 5 columns shared and sealed in a worker in ${Date.now() - t0} ms`,
  );
  expect(up.acceptedRows).toBe(20_000);
  expect(up.rejected).toBe(1);
  expect(up.mainThreadEmptied).toBe(true);
  expect(up.progress.at(-1)).toBe('seal 3/3');
  const receipts = [];
  for (const k of keys) {
    const m = await launch(memberDirs[k.j]!);
    receipts.push(
      await m.page.evaluate((a) => window.storageTest.memberAccept(a), {
        b64: up.sealed[k.j]!,
        skHex: k.skHex,
        datasetId: DS_UP,
        memberIndex: k.j,
      }),
    );
    await m.ctx.close();
  }
  const roots = await owner.page.evaluate(({ a, r }) => window.storageTest.ownerCollect(a, r), {
    a: args,
    r: receipts,
  });
  await owner.ctx.close();

  // Restart every node tab; read the partitions back and reconstruct in the test process.
  const stored: Record<string, BigUint64Array>[] = [];
  for (const k of keys) {
    const m = await launch(memberDirs[k.j]!);
    const back = await m.page.evaluate((ds) => window.storageTest.read(ds), DS_UP);
    expect(back.manifest!.merkleRoot).toBe(roots[k.j]);
    expect(
      (
        await m.page.evaluate(({ ds, root }) => window.storageTest.verify(ds, root), {
          ds: DS_UP,
          root: roots[k.j]!,
        })
      ).ok,
    ).toBe(true);
    stored.push(
      Object.fromEntries(Object.entries(back.columns).map(([name, b]) => [name, fromB64(b)])),
    );
    await m.ctx.close();
  }
  const parsed = parseCsv(csv);
  const expected = validateAndEncode(parsed, inferSchema(parsed).schema);
  const F = new Field();
  for (const col of expected.columns) {
    for (const pair of [
      [0, 1],
      [1, 2],
      [0, 2],
    ]) {
      const rec = reconstruct(
        F,
        pair.map((j) => stored[j]![col.name]!),
        pair,
      );
      expect(
        Buffer.from(rec.buffer).equals(Buffer.from(col.values.buffer)),
        `${col.name} from ${pair.join('+')}`,
      ).toBe(true);
    }
    // A single share reveals nothing useful: it differs from the plaintext column.
    expect(Buffer.from(stored[0]![col.name]!.buffer).equals(Buffer.from(col.values.buffer))).toBe(
      false,
    );
  }
});
