/**
 * `npm test`: every check the project has, in order — WASM build, type-check, lint, format,
 * unit + contract tests (vitest), end-to-end tests in headless Chromium (Playwright).
 * Ends with one plain line `N passed, N failed` summing all test cases.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { ensureChromium } from './ensure-chromium';

const OUT = '.cache/test';
mkdirSync(OUT, { recursive: true });
let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];

function step(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): boolean {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  console.log(
    `=== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (!ok) failures.push(name);
  return ok;
}

const bin = (name: string) => `node_modules/.bin/${name}`;

step('wasm', bin('tsx'), ['scripts/build-wasm.ts']);
step('contracts', bin('tsx'), ['scripts/compile-contracts.ts']);
step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('lint', bin('eslint'), ['.', '--max-warnings=0']);
step('format', bin('prettier'), ['--check', '.', '--log-level=warn']);

const vitestJson = `${OUT}/vitest.json`;
step('unit+contracts', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
  };
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests;
}

const hasE2e = existsSync('e2e') && readdirSync('e2e').some((f) => f.endsWith('.spec.ts'));
if (hasE2e) {
  const pwJson = `${OUT}/playwright.json`;
  try {
    ensureChromium();
    step('e2e', bin('playwright'), ['test', '--reporter=list,json'], {
      PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
    });
  } catch (err) {
    console.error(`e2e: cannot run without Chromium: ${(err as Error).message}`);
    failures.push('e2e (no chromium)');
  }
  if (existsSync(pwJson)) {
    const r = JSON.parse(readFileSync(pwJson, 'utf8')) as {
      stats: { expected: number; unexpected: number; flaky: number; skipped: number };
    };
    passed += r.stats.expected + r.stats.flaky;
    failed += r.stats.unexpected;
    skipped += r.stats.skipped;
  }
}

if (failures.length) console.log(`\nfailed steps: ${failures.join(', ')}`);
if (failures.length && failed === 0) failed = failures.length;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures.length ? 1 : 0);
