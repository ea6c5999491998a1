/**
 * Spawn the anvil binary shipped inside the npm package @foundry-rs/anvil-linux-amd64 (no download at
 * run time), wait until its JSON-RPC answers, and stop it by PID. Used by contract tests, the e2e
 * tests, the benchmark and `npm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ANVIL_BIN = join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

/** anvil's first default dev account (public knowledge; never use on a real chain). */
export const ANVIL_DEV_KEY =
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
export const ANVIL_CHAIN_ID = 31337;

export interface AnvilHandle {
  rpcUrl: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface AnvilOptions {
  port: number;
  /** Seconds between blocks; default: mine each transaction instantly. */
  blockTime?: number;
  chainId?: number;
  readyTimeoutMs?: number;
}

async function rpcReady(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    return r.ok;
  } catch {
    return false;
  }
}

export async function startAnvil(opts: AnvilOptions): Promise<AnvilHandle> {
  if (!existsSync(ANVIL_BIN)) {
    throw new Error(`startAnvil: anvil binary not found at ${ANVIL_BIN} (run npm ci)`);
  }
  const rpcUrl = `http://127.0.0.1:${opts.port}`;
  if (await rpcReady(rpcUrl)) {
    throw new Error(`startAnvil: port ${opts.port} already serves JSON-RPC (a stale anvil?)`);
  }
  const args = [
    '--port',
    String(opts.port),
    '--host',
    '127.0.0.1',
    '--chain-id',
    String(opts.chainId ?? ANVIL_CHAIN_ID),
    '--silent',
  ];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  const child: ChildProcess = spawn(ANVIL_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve())),
  );
  const stop = async () => {
    if (exited || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 3000);
    await exitPromise;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  while (!(await rpcReady(rpcUrl))) {
    if (exited)
      throw new Error(
        `startAnvil: anvil exited before ready on port ${opts.port}: ${stderr.trim()}`,
      );
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `startAnvil: anvil not ready on port ${opts.port} after ${opts.readyTimeoutMs ?? 15_000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { rpcUrl, port: opts.port, pid: child.pid!, stop };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.ANVIL_PORT ?? 8545);
  const a = await startAnvil({ port });
  console.log(`anvil pid ${a.pid} at ${a.rpcUrl}; Ctrl-C stops it`);
  const bye = () => void a.stop().then(() => process.exit(0));
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
}
