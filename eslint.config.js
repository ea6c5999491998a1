// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules the pure MPC engine must never import: it runs unchanged in a worker, in Node and in tests. */
const ENGINE_FORBIDDEN = [
  'react',
  'react-dom',
  'simple-peer',
  'idb',
  'yjs',
  'y-protocols',
  'y-indexeddb',
  'ws',
  'viem',
  'wagmi',
  'comlink',
  'node:*',
  'fs',
  'path',
  'net',
  'http',
  'crypto',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      '.cache',
      'test-results',
      'playwright-report',
      'src/mpc/wasm/field.wasm.ts',
      'src/chain/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    files: ['src/mpc/**/*.ts'],
    // tests run only in Node and may read the environment; the engine itself may not
    ignores: ['src/mpc/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ENGINE_FORBIDDEN.filter((m) => !m.includes('*')).map((name) => ({
            name,
            message: 'src/mpc is a pure engine: no DOM, network, storage or React.',
          })),
          patterns: [
            { group: ['node:*'], message: 'src/mpc is a pure engine: no Node built-ins.' },
            {
              group: [
                '../net/*',
                '../storage/*',
                '../chain/*',
                '../ui/*',
                '../node/*',
                '../coord/*',
                '../query/*',
                '**/net/**',
                '**/storage/**',
                '**/ui/**',
              ],
              message: 'src/mpc must not depend on the rest of the app.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'no DOM in src/mpc' },
        { name: 'document', message: 'no DOM in src/mpc' },
        { name: 'indexedDB', message: 'no storage in src/mpc' },
        { name: 'localStorage', message: 'no storage in src/mpc' },
        { name: 'fetch', message: 'no network in src/mpc' },
        { name: 'WebSocket', message: 'no network in src/mpc' },
        { name: 'RTCPeerConnection', message: 'no network in src/mpc' },
        { name: 'process', message: 'no Node globals in src/mpc' },
        { name: 'Buffer', message: 'no Node globals in src/mpc' },
      ],
    },
  },
);
