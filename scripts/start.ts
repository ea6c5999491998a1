/**
 * `npm start`: first a short terminal demo of the MPC engine on the sample dataset (five parties in
 * this process, each answer beside the plaintext answer), then the whole local network — anvil with
 * the contracts deployed, the signaling service, the app and five compute-node tabs — until Ctrl-C.
 * Options: `--no-demo`, and every option of scripts/network.ts (e.g. `npm start -- --nodes 3`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasm } from './build-wasm';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'node_modules'))) {
  console.error('start: node_modules is missing — run npm ci first');
  process.exit(1);
}
process.chdir(ROOT);
const args = process.argv.slice(2);
const demo = !args.includes('--no-demo');
await buildWasm();
if (demo) {
  const { runEngineDemo } = await import('./demo-engine');
  const ok = await runEngineDemo(console.log, { quick: true });
  if (!ok) {
    console.error('start: an MPC answer differed from the plaintext answer');
    process.exit(1);
  }
}
const { main } = await import('./network');
await main(args.filter((a) => a !== '--no-demo'));
