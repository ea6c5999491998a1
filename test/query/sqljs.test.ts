/**
 * Hundreds of random queries over random datasets: our pipeline (parse → check → plan → plaintext
 * evaluation of the plan → finalize) against SQLite (sql.js) computing the same SQL.
 *
 * The MPC compiler runs the same plan and is checked against this evaluator bit for bit
 * (test/query/mpc.test.ts), so together they tie the secure answers to SQLite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AVG_FRAC_BITS,
  compileQueryText,
  evaluatePlain,
  finalize,
  layout,
  planQuery,
  type QueryResult,
} from '../../src/query/index';
import { randomAvgQuery, randomDataset, randomQuery, rng } from './gen';
import { compareWithSqlite, initSqlite, loadSqlite } from './sqlite';

beforeAll(initSqlite);

describe('random queries vs SQLite (sql.js)', () => {
  const SEED = Number(process.env.QUERY_SEED ?? 20261125);
  it(`400 random queries over 40 random datasets agree (seed ${SEED})`, () => {
    const r = rng(SEED);
    let queries = 0;
    let values = 0;
    let avgOnly = 0;
    for (let d = 0; d < 40; d++) {
      const ds = randomDataset(r);
      const db = loadSqlite(ds);
      try {
        for (let qi = 0; qi < 10; qi++) {
          const g = randomQuery(r, ds);
          let ours: QueryResult;
          let avgFracBits: number | undefined;
          try {
            const plan = planQuery(compileQueryText(g.text, ds.schema));
            avgFracBits = plan.avgDiv?.fracBits;
            if (avgFracBits !== undefined) avgOnly++;
            ours = finalize(plan, evaluatePlain(plan, ds.stored, { minCohort: 0 }));
          } catch (e) {
            throw new Error(
              `seed ${SEED}, dataset ${d}, query ${g.text}: ${(e as Error).message}`,
              { cause: e },
            );
          }
          values += compareWithSqlite(db, ds, g, ours, avgFracBits);
          queries++;
        }
      } finally {
        db.close();
      }
    }
    expect(queries).toBe(400);
    expect(values).toBeGreaterThan(1000);
    expect(avgOnly).toBeGreaterThan(0);
  });

  it(`200 random AVG-only queries (AVGs computed by division inside MPC) agree within 2^-16 stored units (seed ${SEED})`, () => {
    const r = rng(SEED + 7);
    let queries = 0;
    for (let d = 0; d < 20; d++) {
      const ds = randomDataset(r);
      const db = loadSqlite(ds);
      try {
        for (let qi = 0; qi < 10; qi++) {
          const g = randomAvgQuery(r, ds);
          const plan = planQuery(compileQueryText(g.text, ds.schema));
          expect(plan.avgDiv?.fracBits, g.text).toBe(AVG_FRAC_BITS);
          const opened = evaluatePlain(plan, ds.stored, { minCohort: 0 });
          // counts and sums are not in the opened vector
          plan.groupKeys.forEach((_, gi) =>
            plan.rowVecs.forEach((_, v) => expect(opened[layout.stat(plan, gi, v)]).toBe(0n)),
          );
          compareWithSqlite(db, ds, g, finalize(plan, opened), plan.avgDiv!.fracBits);
          queries++;
        }
      } finally {
        db.close();
      }
    }
    expect(queries).toBe(200);
  });
});
