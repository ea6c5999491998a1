/**
 * Helper servers for the mesh e2e tests, each a child process this test file owns and stops by
 * PID: the signaling service (src/signaling/main.ts) and a Vite dev server (e2e/support/vite-server.ts)
 * with its own cache directory, so parallel work on other ports does not share Vite's cache.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function startChild(
  args: string[],
  ready: RegExp,
  what: string,
  timeoutMs = 60_000,
): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const stop = () =>
    new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      void stop();
      reject(
        new Error(`${what} did not start within ${timeoutMs} ms; output: ${out.slice(-2000)}`),
      );
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += String(d);
      if (ready.test(out)) {
        clearTimeout(t);
        resolve({ proc, stop });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => {
      out += String(d);
      if (process.env.MESH_E2E_VERBOSE) process.stderr.write(d);
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

export function startSignaling(port: number): Promise<Child> {
  return startChild(
    ['src/signaling/main.ts', '--port', String(port)],
    /signaling listening on/,
    `signaling on ${port}`,
  );
}

export const VITE_PORT = 5182;

export function startVite(port = VITE_PORT): Promise<Child> {
  return startChild(
    ['e2e/support/vite-server.ts', String(port)],
    /vite ready on/,
    `vite on ${port}`,
  );
}

/**
 * The app's Vite dev server in this process, for specs that drive the real views. Vite reads
 * VITE_* from process.env when it serves, so `env` is set for the server's lifetime; `close()`
 * stops it and removes those variables again. `entries` are pre-bundled up front (a late
 * dependency optimisation would reload a page mid-test).
 */
export async function startAppServer(o: {
  port: number;
  name: string;
  env: Record<string, string>;
  entries: string[];
  include?: string[];
}): Promise<{ close(): Promise<void> }> {
  Object.assign(process.env, o.env);
  const { createServer } = await import('vite');
  const vite = await createServer({
    server: { port: o.port, strictPort: true, host: '127.0.0.1', hmr: false },
    cacheDir: `.cache/vite-${o.name}-${o.port}`,
    logLevel: 'warn',
    optimizeDeps: { entries: o.entries, ...(o.include ? { include: o.include } : {}) },
  });
  await vite.listen();
  return {
    async close() {
      await vite.close();
      for (const k of Object.keys(o.env)) delete process.env[k];
    },
  };
}
