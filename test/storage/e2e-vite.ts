/**
 * Vite dev server for e2e/storage.spec.ts: `tsx test/storage/e2e-vite.ts PORT` (default 5183).
 * Private cache dir; the page's dependencies are pre-bundled up front so no late dependency
 * optimisation reloads the page mid-test.
 */
import { createServer } from 'vite';

const port = Number(process.argv[2] ?? 5183);
const server = await createServer({
  configFile: false,
  root: process.cwd(),
  server: { port, strictPort: true, host: '127.0.0.1', hmr: false },
  cacheDir: `.cache/vite-storage-${port}`,
  logLevel: 'warn',
  optimizeDeps: {
    entries: ['test/storage/e2e-page.html'],
    include: [
      'idb',
      'comlink',
      'papaparse',
      '@noble/hashes/sha2.js',
      '@noble/curves/secp256k1.js',
      '@noble/hashes/hkdf.js',
      '@noble/hashes/sha3.js',
    ],
  },
});
await server.listen();
console.log(`vite ready on http://127.0.0.1:${port}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
