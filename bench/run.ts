/**
 * `npm run bench [-- --json] [--quick] [--filter NAME]` — runs every benchmark in bench/*.bench.ts.
 * With --json, stdout carries one JSON object per line and nothing else.
 */
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Benchmark, BenchRecord } from './harness';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const filterIdx = args.indexOf('--filter');
const filter = filterIdx >= 0 ? args[filterIdx + 1] : undefined;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const dir = new URL('.', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const rows: BenchRecord[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(new URL(f, dir).pathname).href)) as {
    benchmarks?: Benchmark[];
  };
  for (const b of mod.benchmarks ?? []) {
    if (filter && !b.name.startsWith(filter) && !filter.startsWith(b.name)) continue;
    log(`[bench] ${b.name} ...`);
    const recs = await b.run({ quick, log });
    for (const r of recs) {
      if (filter && !r.name.startsWith(filter) && !b.name.startsWith(filter)) continue;
      rows.push(r);
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  }
}
if (!json) {
  const fmt = (v: number) =>
    Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(4);
  console.log(
    `${'name'.padEnd(28)} ${'value'.padStart(16)} unit    ${'baseline'.padEnd(20)} ratio     params`,
  );
  for (const r of rows) {
    const { name, value, unit, baseline, ratio, ...params } = r;
    console.log(
      `${name.padEnd(28)} ${fmt(value).padStart(16)} ${unit.padEnd(7)} ${(baseline ?? '').padEnd(20)} ${ratio === undefined ? ''.padEnd(9) : ratio.toPrecision(3).padEnd(9)} ${Object.entries(
        params,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  }
}
