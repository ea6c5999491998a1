/**
 * A query result: the table (suppressed groups marked), charts where a picture says more
 * (histograms, group bars, a regression line), and CSV export.
 */
import { useState } from 'react';
import type { QueryResult, ResultValue } from '../../query/finalize';
import type { DatasetSchema } from '../../query/schema';
import { Badge, Button, Table, Tabs } from '../kit';
import { ColumnChart, GroupBars, RegressionLine, type Bar } from './charts';
import { downloadText, resultToCsv } from './resultCsv';

const HIST_RE = /^HISTOGRAM\((.+), (-?[\d.]+), (-?[\d.]+), (\d+)\)$/;
const REGRESS_RE = /^REGRESS\(([^,]+), ([^,]+)\)$/;
const MAX_CHARTS = 6;

function showValue(v: ResultValue | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map((x) => (x === null ? '—' : showNumber(x))).join(', ');
  return typeof v === 'number' ? showNumber(v) : v;
}

function showNumber(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString();
  return Math.abs(x) >= 1000 ? x.toFixed(1) : x.toPrecision(6).replace(/\.?0+$/, '');
}

function groupName(key: readonly string[]): string {
  return key.length ? key.join(' · ') : 'all rows';
}

function bounds(schema: DatasetSchema | undefined, column: string): [number, number] | undefined {
  const c = schema?.columns.find((x) => x.name === column);
  if (!c || (c.type.kind !== 'integer' && c.type.kind !== 'decimal')) return undefined;
  return [Number(c.type.min), Number(c.type.max)];
}

/** The charts that fit this result. */
export function chartsFor(r: QueryResult, schema?: DatasetSchema) {
  const out: { key: string; node: React.ReactNode }[] = [];
  r.labels.forEach((label, j) => {
    const h = HIST_RE.exec(label);
    if (h) {
      const [lo, hi, n] = [Number(h[2]), Number(h[3]), Number(h[4])];
      const w = (hi - lo) / n;
      for (const row of r.rows.slice(0, MAX_CHARTS)) {
        const v = row.values[j];
        const bars: Bar[] = Array.from({ length: n }, (_, k) => ({
          label: showNumber(lo + k * w),
          value: Array.isArray(v) ? (v[k] ?? null) : null,
          suppressed: row.suppressed || (Array.isArray(v) && v[k] === null),
        }));
        out.push({
          key: `${j}-${row.key.join('|')}`,
          node: (
            <ColumnChart
              title={`${h[1]} histogram${r.groupBy.length ? `, ${groupName(row.key)}` : ''}`}
              bars={bars}
            />
          ),
        });
      }
      return;
    }
    const g = REGRESS_RE.exec(label);
    if (g) {
      const [yName, xName] = [g[1]!, g[2]!];
      const [x0, x1] = bounds(schema, xName) ?? [0, 100];
      for (const row of r.rows.slice(0, MAX_CHARTS)) {
        const v = row.values[j];
        if (!Array.isArray(v) || v[0] == null || v[1] == null) continue;
        out.push({
          key: `${j}-${row.key.join('|')}`,
          node: (
            <RegressionLine
              title={`${yName} = ${showNumber(v[0])} + ${showNumber(v[1])} × ${xName}${r.groupBy.length ? ` (${groupName(row.key)})` : ''}`}
              intercept={v[0]}
              slope={v[1]}
              x0={x0}
              x1={x1}
              xLabel={xName}
              yLabel={yName}
            />
          ),
        });
      }
      return;
    }
    if (
      r.groupBy.length &&
      r.rows.length > 1 &&
      r.rows.some((row) => typeof row.values[j] === 'number')
    ) {
      out.push({
        key: `${j}`,
        node: (
          <GroupBars
            title={`${label} by ${r.groupBy.join(', ')}`}
            bars={r.rows.map((row) => ({
              label: groupName(row.key),
              value: typeof row.values[j] === 'number' ? (row.values[j] as number) : null,
              suppressed: row.suppressed,
            }))}
          />
        ),
      });
    }
  });
  return out;
}

export function ResultTable({ result }: { result: QueryResult }) {
  return (
    <Table caption="Result" captionHidden data-testid="result-table">
      <thead>
        <tr>
          {result.groupBy.map((g) => (
            <th key={`g-${g}`}>{g}</th>
          ))}
          {result.labels.map((l, j) => (
            <th key={`l-${j}`} className="num">
              {l}
            </th>
          ))}
          {result.groupBy.length > 0 && <th>Note</th>}
        </tr>
      </thead>
      <tbody>
        {result.rows.map((row, i) => (
          <tr
            key={i}
            className={row.suppressed ? 'suppressed' : undefined}
            data-suppressed={row.suppressed || undefined}
          >
            {row.key.map((k, q) => (
              <td key={`k-${q}`}>{k}</td>
            ))}
            {result.labels.map((_, j) => (
              <td key={`v-${j}`} className="num">
                {showValue(row.values[j])}
              </td>
            ))}
            {result.groupBy.length > 0 && (
              <td>
                {row.suppressed && (
                  <Badge tone="warning">suppressed: group below the minimum cohort</Badge>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export function Results({
  result,
  schema,
  fileName,
}: {
  result: QueryResult;
  schema?: DatasetSchema | undefined;
  fileName: string;
}) {
  const charts = chartsFor(result, schema);
  const [tab, setTab] = useState(charts.length ? 'chart' : 'table');
  const suppressed = result.rows.filter((r) => r.suppressed).length;
  const table = <ResultTable result={result} />;
  return (
    <div className="stack-sm" data-testid="results">
      <div className="spread">
        <code className="small">{result.canonical}</code>
        <Button
          size="sm"
          onClick={() => downloadText(fileName, resultToCsv(result))}
          data-testid="export-csv"
        >
          Export CSV
        </Button>
      </div>
      {suppressed > 0 && (
        <p className="small">
          <Badge tone="warning">{suppressed} suppressed</Badge> These groups had fewer rows than the
          owner’s minimum cohort; their values were withheld inside the computation, so nobody —
          including you — learns them or their size.
        </p>
      )}
      {charts.length === 0 ? (
        table
      ) : (
        <Tabs
          label="Result views"
          selected={tab}
          onSelect={setTab}
          tabs={[
            {
              id: 'chart',
              label: 'Chart',
              content: (
                <div className={charts.length > 1 ? 'grid-2' : undefined}>
                  {charts.map((c) => (
                    <div key={c.key}>{c.node}</div>
                  ))}
                </div>
              ),
            },
            { id: 'table', label: 'Table', content: table },
          ]}
        />
      )}
    </div>
  );
}
