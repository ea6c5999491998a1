/**
 * Vite dev server for the mesh e2e tests: `tsx e2e/support/vite-server.ts PORT`.
 * Uses the project's vite.config.ts with a private cache dir and pre-bundles the mesh pages'
 * dependencies up front, so no page is reloaded by a late dependency optimisation mid-test.
 */
import { createServer } from 'vite';

const port = Number(process.argv[2] ?? 5182);
const server = await createServer({
  server: { port, strictPort: true, host: '127.0.0.1', hmr: false },
  cacheDir: `.cache/vite-mesh-${port}`,
  logLevel: 'warn',
  optimizeDeps: {
    entries: ['e2e/support/mesh-page.html', 'index.html'],
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
await server.listen();
console.log(`vite ready on http://127.0.0.1:${port}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
