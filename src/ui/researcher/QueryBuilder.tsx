/**
 * The visual query builder: statistics to compute, conditions (all must hold), and group-by
 * columns, over the dataset's schema. Every change produces a new builder state; the composer
 * turns it into canonical query text.
 */
import type { ColumnSchema, DatasetSchema } from '../../query/schema';
import type { CmpOp } from '../../query/ast';
import { Button } from '../kit';
import {
  ARGS,
  ITEM_LABEL,
  OPS,
  type BuilderCondition,
  type BuilderItem,
  type BuilderState,
  type ItemFn,
} from './builder';

const FNS: readonly ItemFn[] = [
  'COUNT',
  'AVG',
  'SUM',
  'MIN',
  'MAX',
  'STDDEV',
  'VAR',
  'HISTOGRAM',
  'CORR',
  'REGRESS',
  'VALUE',
];

const OP_LABEL: Record<CmpOp, string> = {
  '=': 'is',
  '<>': 'is not',
  '<': 'is less than',
  '<=': 'is at most',
  '>': 'is more than',
  '>=': 'is at least',
};

function numeric(c: ColumnSchema) {
  return c.type.kind === 'integer' || c.type.kind === 'decimal';
}

/** Columns a function's argument may take. */
function columnsFor(fn: ItemFn, schema: DatasetSchema | undefined): ColumnSchema[] {
  const cols = [...(schema?.columns ?? [])];
  if (fn === 'VALUE') return cols.filter((c) => c.type.kind === 'category');
  if (fn === 'MIN' || fn === 'MAX' || fn === 'HISTOGRAM')
    return cols.filter((c) => c.type.kind !== 'category');
  return cols.filter(numeric);
}

function defaultArgs(fn: ItemFn, schema: DatasetSchema | undefined): string[] {
  const cols = columnsFor(fn, schema);
  const first = cols[0]?.name ?? '';
  const second = cols[1]?.name ?? first;
  switch (fn) {
    case 'COUNT':
      return [];
    case 'HISTOGRAM': {
      const t = cols[0]?.type;
      if (t && t.kind === 'integer') return [first, String(t.min), String(t.max), '10'];
      if (t && t.kind === 'decimal') return [first, String(t.min), String(t.max), '10'];
      return [first, '0', '100', '10'];
    }
    case 'CORR':
    case 'REGRESS':
      return [first, second];
    default:
      return [first];
  }
}

/** A fresh condition on `c`: "is" its first value for categories, "is at least" its minimum. */
function conditionOn(c: ColumnSchema): BuilderCondition {
  const t = c.type;
  if (t.kind === 'category') return { column: c.name, op: '=', value: t.domain[0] ?? '' };
  const value = t.kind === 'date' ? t.min : t.kind === 'integer' ? String(t.min) : '0';
  return { column: c.name, op: '>=', value };
}

export function QueryBuilder({
  state,
  schema,
  onChange,
  disabled,
}: {
  state: BuilderState;
  schema: DatasetSchema | undefined;
  onChange(s: BuilderState): void;
  disabled?: boolean;
}) {
  const set = (patch: Partial<BuilderState>) => onChange({ ...state, ...patch });
  const setItem = (i: number, it: BuilderItem) =>
    set({ items: state.items.map((x, k) => (k === i ? it : x)) });
  const setCond = (i: number, c: BuilderCondition) =>
    set({ where: state.where.map((x, k) => (k === i ? c : x)) });
  const allColumns = schema?.columns ?? [];
  const groupable = allColumns.filter((c) => c.type.kind === 'category');
  return (
    <fieldset className="builder stack-sm" disabled={disabled} data-testid="query-builder">
      <legend className="visually-hidden">Query builder</legend>
      <div className="stack-sm">
        <h4>Compute</h4>
        {state.items.length === 0 && <p className="small muted">Add at least one statistic.</p>}
        {state.items.map((it, i) => {
          const spec = ARGS[it.fn];
          const cols = columnsFor(it.fn, schema);
          const kinds = [...spec.fixed, ...it.args.slice(spec.fixed.length).map(() => spec.more!)];
          return (
            <div className="builder-row" key={i} data-testid={`builder-item-${i}`}>
              <select
                className="select input-sm"
                aria-label={`Statistic ${i + 1}`}
                value={it.fn}
                onChange={(e) => {
                  const fn = e.target.value as ItemFn;
                  setItem(i, { fn, args: defaultArgs(fn, schema) });
                }}
              >
                {FNS.map((f) => (
                  <option key={f} value={f}>
                    {ITEM_LABEL[f]}
                  </option>
                ))}
              </select>
              {kinds.map((k, a) => {
                const label = `${ITEM_LABEL[it.fn]} ${spec.names[a] ?? `x${a}`} (statistic ${i + 1})`;
                const value = it.args[a] ?? '';
                const update = (v: string) =>
                  setItem(i, { fn: it.fn, args: it.args.map((x, j) => (j === a ? v : x)) });
                return k === 'column' ? (
                  <ColumnSelect
                    key={a}
                    label={label}
                    value={value}
                    columns={cols}
                    onChange={update}
                  />
                ) : (
                  <input
                    key={a}
                    className="input input-sm input-narrow"
                    inputMode="decimal"
                    aria-label={label}
                    placeholder={spec.names[a]}
                    value={value}
                    onChange={(e) => update(e.target.value)}
                  />
                );
              })}
              {it.fn === 'REGRESS' && (
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => setItem(i, { fn: it.fn, args: [...it.args, cols[0]?.name ?? ''] })}
                >
                  + x
                </Button>
              )}
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Remove statistic ${i + 1}`}
                onClick={() => set({ items: state.items.filter((_, k) => k !== i) })}
              >
                ✕
              </Button>
            </div>
          );
        })}
        <div>
          <Button
            size="sm"
            onClick={() =>
              set({ items: [...state.items, { fn: 'AVG', args: defaultArgs('AVG', schema) }] })
            }
            data-testid="builder-add-item"
          >
            + Statistic
          </Button>
        </div>
      </div>

      <div className="stack-sm">
        <h4>Only rows where (all hold)</h4>
        {state.where.length === 0 && <p className="small muted">All rows.</p>}
        {state.where.map((c, i) => {
          const column = allColumns.find((x) => x.name === c.column);
          return (
            <div className="builder-row" key={i} data-testid={`builder-cond-${i}`}>
              <ColumnSelect
                label={`Condition ${i + 1} column`}
                value={c.column}
                columns={allColumns}
                onChange={(v) => {
                  const next = allColumns.find((x) => x.name === v);
                  // A column of another kind takes its own comparisons and values: a category
                  // has no order, and a value typed for age means nothing for a date.
                  setCond(
                    i,
                    next && next.type.kind !== column?.type.kind
                      ? conditionOn(next)
                      : { ...c, column: v },
                  );
                }}
              />
              <select
                className="select input-sm"
                aria-label={`Condition ${i + 1} comparison`}
                value={c.op}
                onChange={(e) => setCond(i, { ...c, op: e.target.value as CmpOp })}
              >
                {(column?.type.kind === 'category' ? (['=', '<>'] as CmpOp[]) : OPS).map((o) => (
                  <option key={o} value={o}>
                    {OP_LABEL[o]}
                  </option>
                ))}
              </select>
              {column?.type.kind === 'category' ? (
                <select
                  className="select input-sm"
                  aria-label={`Condition ${i + 1} value`}
                  value={c.value}
                  onChange={(e) => setCond(i, { ...c, value: e.target.value })}
                >
                  {!column.type.domain.includes(c.value) && (
                    <option value={c.value}>{c.value}</option>
                  )}
                  {column.type.domain.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  className="input input-sm builder-value"
                  type={column?.type.kind === 'date' ? 'date' : 'text'}
                  inputMode={column?.type.kind === 'date' ? undefined : 'decimal'}
                  aria-label={`Condition ${i + 1} value`}
                  value={c.value}
                  onChange={(e) => setCond(i, { ...c, value: e.target.value })}
                />
              )}
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Remove condition ${i + 1}`}
                onClick={() => set({ where: state.where.filter((_, k) => k !== i) })}
              >
                ✕
              </Button>
            </div>
          );
        })}
        <div>
          <Button
            size="sm"
            disabled={allColumns.length === 0}
            onClick={() => {
              const first = allColumns[0];
              if (first) set({ where: [...state.where, conditionOn(first)] });
            }}
            data-testid="builder-add-cond"
          >
            + Condition
          </Button>
        </div>
      </div>

      <div className="stack-sm">
        <h4>Group by</h4>
        {groupable.length === 0 ? (
          <p className="small muted">No category columns to group by.</p>
        ) : (
          <div className="row-center">
            {groupable.map((c) => (
              <label key={c.name} className="check">
                <input
                  type="checkbox"
                  checked={state.groupBy.includes(c.name)}
                  onChange={(e) =>
                    set({
                      groupBy: e.target.checked
                        ? [...state.groupBy, c.name]
                        : state.groupBy.filter((g) => g !== c.name),
                    })
                  }
                />
                {c.name}
              </label>
            ))}
          </div>
        )}
      </div>
    </fieldset>
  );
}

function ColumnSelect({
  label,
  value,
  columns,
  onChange,
}: {
  label: string;
  value: string;
  columns: readonly ColumnSchema[];
  onChange(v: string): void;
}) {
  const known = columns.some((c) => c.name === value);
  return (
    <select
      className="select input-sm"
      aria-label={label}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    >
      {!known && <option value={value}>{value || 'choose a column'}</option>}
      {columns.map((c) => (
        <option key={c.name} value={c.name}>
          {c.name}
        </option>
      ))}
    </select>
  );
}
