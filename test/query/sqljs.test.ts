/**
 * Hundreds of random queries over random datasets: our pipeline (parse → check → plan → plaintext
 * evaluation of the plan → finalize) against SQLite (sql.js) computing the same SQL.
 *
 * The MPC compiler runs the same plan and is checked against this evaluator bit for bit
 * (test/query/mpc.test.ts), so together they tie the secure answers to SQLite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compileQueryText,
  evaluatePlain,
  finalize,
  planQuery,
  type QueryResult,
} from '../../src/query/index';
import { randomDataset, randomQuery, rng } from './gen';
import { compareWithSqlite, initSqlite, loadSqlite } from './sqlite';

beforeAll(initSqlite);

describe('random queries vs SQLite (sql.js)', () => {
  const SEED = Number(process.env.QUERY_SEED ?? 20261125);
  it(`400 random queries over 40 random datasets agree (seed ${SEED})`, () => {
    const r = rng(SEED);
    let queries = 0;
    let values = 0;
    for (let d = 0; d < 40; d++) {
      const ds = randomDataset(r);
      const db = loadSqlite(ds);
      try {
        for (let qi = 0; qi < 10; qi++) {
          const g = randomQuery(r, ds);
          let ours: QueryResult;
          try {
            const plan = planQuery(compileQueryText(g.text, ds.schema));
            ours = finalize(plan, evaluatePlain(plan, ds.stored, { minCohort: 0 }));
          } catch (e) {
            throw new Error(
              `seed ${SEED}, dataset ${d}, query ${g.text}: ${(e as Error).message}`,
              { cause: e },
            );
          }
          values += compareWithSqlite(db, ds, g, ours);
          queries++;
        }
      } finally {
        db.close();
      }
    }
    expect(queries).toBe(400);
    expect(values).toBeGreaterThan(1000);
  });
});
