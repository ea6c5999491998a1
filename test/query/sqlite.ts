/**
 * SQLite (sql.js) as the independent plaintext engine of the query tests, and the comparison of
 * our answers with its answers. Used by sqljs.test.ts and mpc.test.ts.
 *
 * Simple aggregates (COUNT, SUM, AVG, MIN, MAX, arithmetic on them) come straight from SQLite's
 * GROUP BY; VAR, STDDEV, CORR, REGRESS and HISTOGRAM are computed here with textbook two-pass
 * formulas over the rows SQLite selected. Integer aggregates must match exactly; fixed-point and
 * derived statistics within a relative tolerance of 1e-9 (1e-6 for VAR, STDDEV, CORR and REGRESS,
 * whose float references lose digits).
 */
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import { expect } from 'vitest';
import type { QueryResult, ResultValue } from '../../src/query/index';
import type { Dataset, GenQuery } from './gen';

let SQL: Awaited<ReturnType<typeof initSqlJs>> | undefined;
export async function initSqlite(): Promise<void> {
  SQL ??= await initSqlJs();
}

export function loadSqlite(ds: Dataset): Database {
  if (!SQL) throw new Error('call initSqlite() first');
  const db = new SQL.Database();
  const cols = ds.schema.columns.map(
    (c) =>
      `${c.name} ${c.type.kind === 'integer' ? 'INTEGER' : c.type.kind === 'decimal' ? 'REAL' : 'TEXT'}`,
  );
  db.run(`CREATE TABLE ${ds.schema.name} (${cols.join(', ')})`);
  const stmt = db.prepare(
    `INSERT INTO ${ds.schema.name} VALUES (${ds.schema.columns.map(() => '?').join(', ')})`,
  );
  for (const row of ds.natural) stmt.run(row);
  stmt.free();
  return db;
}

function query(db: Database, sql: string): SqlValue[][] {
  const res = db.exec(sql);
  return res.length ? res[0]!.values : [];
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function refVar(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
}

function refCorr(a: number[], b: number[]): number | null {
  if (a.length < 2) return null;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  // Exactly constant columns give exactly 0 here (two-pass on grid values).
  if (saa < 1e-18 || sbb < 1e-18) return null;
  return sab / Math.sqrt(saa * sbb);
}

/** OLS with intercept via centered normal equations and partial pivoting; null if (near) singular. */
function refRegress(y: number[], xs: number[][]): (number | null)[] {
  const k = xs.length;
  const n = y.length;
  const nulls = Array.from({ length: k + 1 }, () => null);
  if (n <= k) return nulls;
  const mx = xs.map(mean);
  const my = mean(y);
  const A = xs.map((u, i) =>
    xs.map((v, j) => u.reduce((s, _, t) => s + (u[t]! - mx[i]!) * (v[t]! - mx[j]!), 0)),
  );
  const b = xs.map((u, i) => u.reduce((s, _, t) => s + (u[t]! - mx[i]!) * (y[t]! - my), 0));
  const m = A.map((r, i) => [...r, b[i]!]);
  const scale = Math.max(1e-300, ...A.flat().map(Math.abs));
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < scale * 1e-9) return nulls;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let q = c; q <= k; q++) m[r]![q]! -= f * m[c]![q]!;
    }
  }
  const beta = m.map((r, i) => r[k]! / r[i]!);
  return [my - beta.reduce((s, bb, j) => s + bb * mx[j]!, 0), ...beta];
}

function close(ours: ResultValue, ref: unknown, rel: number, what: string, abs = 0): void {
  if (ref === null || ref === undefined) {
    expect(ours, what).toBeNull();
    return;
  }
  if (typeof ref === 'string') {
    expect(ours, what).toBe(ref);
    return;
  }
  expect(typeof ours, `${what}: ours=${String(ours)} ref=${String(ref)}`).toBe('number');
  const o = ours as number;
  const r = ref as number;
  const tol = rel * Math.max(1, Math.abs(r)) + abs;
  expect(Math.abs(o - r), `${what}: ours=${o} ref=${r}`).toBeLessThanOrEqual(tol);
}

/**
 * Compares our result with SQLite's, group by group. Returns the number of values compared.
 * `avgFracBits` (the plan's `avgDiv.fracBits`, set for AVG-only queries) states the precision of
 * averages computed by division inside MPC: floor(Σx'·2^f / n), so an AVG is within 2^−f stored
 * units of the exact one (2^−f / 10^scale in the column's units), times the constant factor of
 * arithmetic on it.
 */
export function compareWithSqlite(
  db: Database,
  ds: Dataset,
  g: GenQuery,
  ours: QueryResult,
  avgFracBits?: number,
): number {
  const table = ds.schema.name;
  const where = g.where ? ` WHERE ${g.where}` : '';
  const gb = g.groupBy;
  const keyOf = (row: SqlValue[]) => JSON.stringify(row.slice(0, gb.length).map(String));
  // Simple items straight from SQLite's GROUP BY.
  const simpleSql = g.items.map((it) =>
    it.kind === 'simple' ? it.sql : it.kind === 'key' ? it.col : 'NULL',
  );
  const simple = new Map<string, SqlValue[]>();
  for (const row of query(
    db,
    `SELECT ${[...gb, ...simpleSql].join(', ')} FROM ${table}${where}${gb.length ? ` GROUP BY ${gb.join(', ')}` : ''}`,
  )) {
    simple.set(keyOf(row), row.slice(gb.length));
  }
  // Rows SQLite selects, for statistics computed in JS.
  const names = ds.schema.columns.map((c) => c.name);
  const rowsByGroup = new Map<string, Record<string, number>[]>();
  for (const row of query(db, `SELECT ${[...gb, ...names].join(', ')} FROM ${table}${where}`)) {
    const k = keyOf(row);
    const rec: Record<string, number> = {};
    names.forEach((n, i) => (rec[n] = row[gb.length + i] as number));
    if (!rowsByGroup.has(k)) rowsByGroup.set(k, []);
    rowsByGroup.get(k)!.push(rec);
  }
  let compared = 0;
  for (const row of ours.rows) {
    const k = JSON.stringify(row.key);
    expect(row.suppressed).toBe(false);
    const sq = simple.get(k);
    const recs = rowsByGroup.get(k) ?? [];
    if (gb.length && !sq) {
      // A group SQLite does not list is empty: counts 0, statistics null, histograms all zero.
      expect(recs.length).toBe(0);
    }
    g.items.forEach((it, i) => {
      const v = row.values[i]!;
      const what = `${g.text} | group ${k} | item ${i}`;
      compared++;
      switch (it.kind) {
        case 'simple': {
          const ref = sq
            ? sq[i]
            : it.sql.startsWith('COUNT')
              ? it.sql === 'COUNT(*) + 1'
                ? 1
                : 0
              : null;
          if (it.exact && typeof ref === 'number') expect(v, what).toBe(ref);
          else if (it.avg && avgFracBits !== undefined) {
            const col = ds.schema.columns.find((c) => c.name === it.avg!.col)!;
            const scale = col.type.kind === 'decimal' ? col.type.scale : 0;
            close(v, ref, 1e-9, what, (it.avg.factor * 2 ** -avgFracBits) / 10 ** scale);
          } else close(v, ref, 1e-9, what);
          break;
        }
        case 'key':
          expect(v, what).toBe(row.key[gb.indexOf(it.col)]);
          break;
        case 'var':
        case 'stddev': {
          const r = refVar(recs.map((x) => x[it.col]!));
          close(v, r === null ? null : it.kind === 'var' ? r : Math.sqrt(r), 1e-6, what);
          break;
        }
        case 'corr':
          close(
            v,
            refCorr(
              recs.map((x) => x[it.a]!),
              recs.map((x) => x[it.b]!),
            ),
            1e-6,
            what,
          );
          break;
        case 'regress': {
          const ref = refRegress(
            recs.map((x) => x[it.y]!),
            it.xs.map((c) => recs.map((x) => x[c]!)),
          );
          expect(Array.isArray(v), what).toBe(true);
          (v as (number | null)[]).forEach((b, j) => close(b, ref[j], 1e-6, `${what} coef ${j}`));
          break;
        }
        case 'histogram': {
          const u = 10 ** it.scale;
          const counts = Array.from({ length: it.bins }, () => 0);
          for (const rec of recs) {
            const xi = Math.round(rec[it.col]! * u);
            for (let b = 0; b < it.bins; b++) {
              const lower = (it.lo * it.bins + b * (it.hi - it.lo)) * u;
              const upper = (it.lo * it.bins + (b + 1) * (it.hi - it.lo)) * u;
              if (xi * it.bins >= lower && xi * it.bins < upper) counts[b]!++;
            }
          }
          expect(v, what).toEqual(counts);
          break;
        }
      }
    });
  }
  // Every group SQLite found is in our answer.
  for (const k of simple.keys()) {
    if (gb.length)
      expect(
        ours.rows.some((r) => JSON.stringify(r.key) === k),
        `group ${k}`,
      ).toBe(true);
  }
  return compared;
}
