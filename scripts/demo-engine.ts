/**
 * Terminal demo of the MPC engine: five parties in one process, over the in-memory network, load
 * the synthetic patient records in public/sample/, run a few researcher queries under MPC
 * (n = 5, t = 2, malicious-secure with abort) and print each answer next to the plaintext answer.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import {
  compileQueryText,
  encodeCell,
  evaluatePlain,
  finalize,
  planQuery,
  resolveSchema,
  runPlanInMemory,
  type DatasetSchema,
  type Policy,
  type QueryResult,
} from '../src/query/index';

const QUERIES = [
  'SELECT COUNT(*) FROM patients WHERE age >= 60',
  'SELECT COUNT(*), AVG(bmi) FROM patients WHERE age >= 60 AND diabetic = 1',
  'SELECT COUNT(*), AVG(systolic_bp), STDDEV(systolic_bp) FROM patients GROUP BY sex',
  "SELECT SUM(diabetic), AVG(age) FROM patients WHERE age BETWEEN 40 AND 65 AND sex = 'F'",
  'SELECT COUNT(*) FROM patients WHERE systolic_bp > 140 AND bmi >= 30',
];

/** The queries whose comparisons the query layer evaluates as small polynomials (a few seconds in all). */
const QUICK = 4;

export async function runEngineDemo(
  log: (s: string) => void = console.log,
  opts: { quick?: boolean } = {},
): Promise<boolean> {
  const schema = JSON.parse(
    readFileSync('public/sample/patients.schema.json', 'utf8'),
  ) as DatasetSchema;
  const resolved = resolveSchema(schema);
  const csv = Papa.parse<Record<string, string>>(
    readFileSync('public/sample/patients.csv', 'utf8'),
    {
      header: true,
      skipEmptyLines: true,
    },
  );
  if (csv.errors.length)
    throw new Error(`patients.csv: ${csv.errors[0]!.message} (row ${csv.errors[0]!.row})`);
  const rows = csv.data;
  const data = resolved.columns.map((c) => rows.map((r) => encodeCell(c, r[c.name]!)));
  const policy: Policy = { minCohort: 10 };
  log(
    `Confide engine demo — ${rows.length} synthetic patients, 5 parties (t = 2), one process, in-memory network`,
  );
  log(
    'Each party sees only random-looking shares; the requester (party 0) alone opens the answer.\n',
  );
  let allMatch = true;
  for (const text of opts.quick ? QUERIES.slice(0, QUICK) : QUERIES) {
    const plan = planQuery(compileQueryText(text, schema));
    const t0 = performance.now();
    const run = await runPlanInMemory(plan, data, { n: 5, t: 2, policy });
    const secs = (performance.now() - t0) / 1000;
    const plain = finalize(plan, evaluatePlain(plan, data, policy));
    const match = JSON.stringify(run.result.rows) === JSON.stringify(plain.rows);
    allMatch &&= match;
    log(`> ${text}`);
    log(`  MPC:       ${fmt(run.result)}`);
    log(`  plaintext: ${fmt(plain)}   ${match ? 'match' : 'MISMATCH'}`);
    log(
      `  ${secs.toFixed(2)} s, ${run.steps} rounds, ${(run.bytes / 1e6).toFixed(1)} MB exchanged\n`,
    );
  }
  return allMatch;
}

function fmt(r: QueryResult): string {
  return r.rows
    .map((row) => {
      const vals = row.values
        .map(
          (v, i) => `${r.labels[i]}=${typeof v === 'number' ? +v.toFixed(4) : JSON.stringify(v)}`,
        )
        .join(', ');
      const key = row.key.length
        ? `[${r.groupBy.map((g, i) => `${g}=${row.key[i]}`).join(',')}] `
        : '';
      return `${key}${row.suppressed ? '(suppressed: group below minimum cohort)' : vals}`;
    })
    .join(' | ');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await runEngineDemo();
  process.exit(ok ? 0 : 1);
}
