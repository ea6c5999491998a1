/**
 * `npm start`. Until the app brings up the whole local network (chain, signaling, app, compute
 * nodes), this runs the terminal demo of the MPC engine on the sample dataset.
 */
import { buildWasm } from './build-wasm';

await buildWasm();
const { runEngineDemo } = await import('./demo-engine');
const ok = await runEngineDemo();
if (!ok) {
  console.error('demo: an MPC answer differed from the plaintext answer');
  process.exit(1);
}
