/**
 * Small hand-written SVG charts for query results: histogram columns, horizontal group bars and a
 * regression line. They scale with their container (viewBox), name themselves for screen readers
 * (the same numbers are always in the results table), and mark suppressed groups with a hatch.
 */
import { useId } from 'react';

export interface Bar {
  label: string;
  value: number | null;
  suppressed?: boolean;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString();
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function Hatch({ id }: { id: string }) {
  return (
    <defs>
      <pattern
        id={id}
        width="6"
        height="6"
        patternUnits="userSpaceOnUse"
        patternTransform="rotate(45)"
      >
        <rect width="6" height="6" fill="#f0f3f7" />
        <line x1="0" y1="0" x2="0" y2="6" stroke="#aab4c0" strokeWidth="2" />
      </pattern>
    </defs>
  );
}

/** Vertical columns, e.g. histogram bins. */
export function ColumnChart({ title, bars }: { title: string; bars: readonly Bar[] }) {
  const hatch = useId().replace(/:/g, '');
  const W = 560;
  const H = 220;
  const left = 44;
  const bottom = 38;
  const top = 12;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value ?? 0)));
  const bw = (W - left - 8) / Math.max(1, bars.length);
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const every = Math.ceil(bars.length / 10);
  return (
    <figure className="chart-figure">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        <Hatch id={hatch} />
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line
              className="axis"
              x1={left}
              x2={W - 4}
              y1={y(max * f)}
              y2={y(max * f)}
              strokeDasharray={f ? '3 3' : undefined}
            />
            <text x={left - 6} y={y(max * f) + 4} textAnchor="end">
              {fmt(max * f)}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const x = left + i * bw + 1;
          const v = b.value ?? 0;
          return (
            <g key={i}>
              {b.suppressed || b.value === null ? (
                <rect
                  x={x}
                  y={top}
                  width={Math.max(1, bw - 2)}
                  height={H - top - bottom}
                  fill={`url(#${hatch})`}
                  opacity={0.7}
                >
                  <title>{`${b.label}: suppressed`}</title>
                </rect>
              ) : (
                <rect
                  className="bar"
                  x={x}
                  y={y(v)}
                  width={Math.max(1, bw - 2)}
                  height={Math.max(0, H - bottom - y(v))}
                >
                  <title>{`${b.label}: ${fmt(v)}`}</title>
                </rect>
              )}
              {i % every === 0 && (
                <text x={x + bw / 2} y={H - bottom + 14} textAnchor="middle">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">{title}</figcaption>
    </figure>
  );
}

/** Horizontal bars, one per group; suppressed groups are hatched and labelled. */
export function GroupBars({ title, bars }: { title: string; bars: readonly Bar[] }) {
  const hatch = useId().replace(/:/g, '');
  const W = 560;
  const row = 26;
  const left = 120;
  const right = 70;
  const H = bars.length * row + 10;
  const vals = bars.map((b) => b.value ?? 0);
  const lo = Math.min(0, ...vals);
  const hi = niceMax(Math.max(0, ...vals));
  const x = (v: number) => left + ((W - left - right) * (v - lo)) / (hi - lo || 1);
  return (
    <figure className="chart-figure">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        <Hatch id={hatch} />
        <line className="axis" x1={x(0)} x2={x(0)} y1={0} y2={H} />
        {bars.map((b, i) => {
          const yy = 5 + i * row;
          const label = b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label;
          const supp = b.suppressed || b.value === null;
          const v = b.value ?? 0;
          return (
            <g key={i}>
              <text x={left - 8} y={yy + 15} textAnchor="end">
                {label}
              </text>
              {supp ? (
                <>
                  <rect
                    x={left}
                    y={yy + 3}
                    width={(W - left - right) * 0.35}
                    height={row - 8}
                    fill={`url(#${hatch})`}
                  />
                  <text x={left + (W - left - right) * 0.35 + 6} y={yy + 15}>
                    suppressed
                  </text>
                </>
              ) : (
                <>
                  <rect
                    className="bar"
                    x={Math.min(x(0), x(v))}
                    y={yy + 3}
                    width={Math.abs(x(v) - x(0))}
                    height={row - 8}
                  />
                  <text x={Math.max(x(0), x(v)) + 6} y={yy + 15}>
                    {fmt(v)}
                  </text>
                </>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">{title}</figcaption>
    </figure>
  );
}

/** The fitted line y = a + b·x over [x0, x1]. */
export function RegressionLine({
  title,
  intercept,
  slope,
  x0,
  x1,
  xLabel,
  yLabel,
}: {
  title: string;
  intercept: number;
  slope: number;
  x0: number;
  x1: number;
  xLabel: string;
  yLabel: string;
}) {
  const W = 560;
  const H = 240;
  const left = 56;
  const bottom = 40;
  const top = 12;
  const ya = intercept + slope * x0;
  const yb = intercept + slope * x1;
  const ylo = Math.min(ya, yb);
  const yhi = Math.max(ya, yb);
  const pad = (yhi - ylo || Math.abs(yhi) || 1) * 0.15;
  const [y0, y1] = [ylo - pad, yhi + pad];
  const sx = (x: number) => left + ((W - left - 10) * (x - x0)) / (x1 - x0 || 1);
  const sy = (y: number) => top + (H - top - bottom) * (1 - (y - y0) / (y1 - y0 || 1));
  return (
    <figure className="chart-figure">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        <line className="axis" x1={left} x2={W - 10} y1={H - bottom} y2={H - bottom} />
        <line className="axis" x1={left} x2={left} y1={top} y2={H - bottom} />
        {[x0, (x0 + x1) / 2, x1].map((x) => (
          <text key={x} x={sx(x)} y={H - bottom + 14} textAnchor="middle">
            {fmt(x)}
          </text>
        ))}
        {[y0, (y0 + y1) / 2, y1].map((y) => (
          <text key={y} x={left - 6} y={sy(y) + 4} textAnchor="end">
            {fmt(y)}
          </text>
        ))}
        <text x={(left + W) / 2} y={H - 6} textAnchor="middle">
          {xLabel}
        </text>
        <text
          x={12}
          y={(top + H - bottom) / 2}
          textAnchor="middle"
          transform={`rotate(-90 12 ${(top + H - bottom) / 2})`}
        >
          {yLabel}
        </text>
        <line className="line" x1={sx(x0)} y1={sy(ya)} x2={sx(x1)} y2={sy(yb)} />
      </svg>
      <figcaption className="small muted">{title}</figcaption>
    </figure>
  );
}
