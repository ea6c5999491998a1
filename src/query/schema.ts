/**
 * Dataset schemas as the query layer sees them, and the stored (secret-shared) representation of
 * each column type. Every cell is stored as one integer:
 *
 * | type     | declared as                         | stored integer                        |
 * | -------- | ----------------------------------- | ------------------------------------- |
 * | integer  | `{ kind: 'integer', min, max }`     | the value                             |
 * | decimal  | `{ kind: 'decimal', scale, min, max }` | value × 10^scale (fixed point)     |
 * | category | `{ kind: 'category', domain }`      | index of the value in `domain`        |
 * | date     | `{ kind: 'date', min, max }`        | days since 1970-01-01                 |
 *
 * Bounds are part of the schema (the owner declares them; the CSV loader rejects values outside
 * them). They fix the bit width of secure comparisons, bound sums so that they cannot wrap in the
 * field, and give the sensitivity for differentially private noise.
 */
import { QueryError } from './errors';

export type ColumnType =
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'decimal'; scale: number; min: number | string; max: number | string }
  | { kind: 'category'; domain: readonly string[] }
  | { kind: 'date'; min: string; max: string };

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

export interface DatasetSchema {
  /** Dataset name used in FROM. */
  name: string;
  /** Optional on-chain id (e.g. `0x…`), also accepted in FROM. */
  id?: string;
  /** Number of rows (public: it is registered with the dataset). */
  rows: number;
  columns: readonly ColumnSchema[];
}

/** Largest range (max − min, stored units) of a column: secure comparisons work on 32-bit values. */
export const MAX_COLUMN_BITS = 31;
/** Largest category domain. */
export const MAX_DOMAIN = 256;

export interface ResolvedColumn {
  name: string;
  /** Position in `DatasetSchema.columns` (and in the shared column array). */
  index: number;
  type: ColumnType;
  /** Decimal places of the stored integer (0 except for decimals). */
  scale: number;
  /** Stored bounds (inclusive). */
  lo: bigint;
  hi: bigint;
  /** Bits of `hi - lo`: `x - lo` fits in `bits` bits. */
  bits: number;
}

export interface ResolvedSchema {
  name: string;
  id: string | undefined;
  rows: number;
  columns: ResolvedColumn[];
  byName: Map<string, ResolvedColumn>;
}

/** Exact decimal text (`-12.5`) → integer × 10^scale, or undefined if it has more decimals than `scale`. */
export function decimalToScaled(text: string, scale: number): bigint | undefined {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, int = '', frac0 = ''] = m;
  const frac = frac0.replace(/0+$/, '');
  if (frac.length > scale) return undefined;
  const v = BigInt((int || '0') + frac.padEnd(scale, '0'));
  return sign === '-' ? -v : v;
}

/** Decimal text → exact rational num / 10^den (den = number of decimals). */
export function decimalToRational(text: string): { num: bigint; exp: number } {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new QueryError('BAD_LITERAL', `malformed number "${text.slice(0, 40)}"`);
  const [, sign, int = '', frac = ''] = m;
  const v = BigInt((int || '0') + frac);
  return { num: sign === '-' ? -v : v, exp: frac.length };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** ISO date `yyyy-mm-dd` → days since 1970-01-01, or undefined if malformed or not a real date. */
export function dateToDays(s: string): number | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return Math.round(ms / 86_400_000);
}

export function daysToDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

function bitLength(v: bigint): number {
  let b = 0;
  while (v > 0n) {
    v >>= 1n;
    b++;
  }
  return b;
}

function schemaError(msg: string): never {
  throw new QueryError('BAD_SCHEMA', msg);
}

/** Validates a schema and computes stored bounds. Throws BAD_SCHEMA naming the column. */
export function resolveSchema(schema: DatasetSchema): ResolvedSchema {
  if (!schema || typeof schema.name !== 'string' || !Array.isArray(schema.columns)) {
    schemaError('schema: expected { name, rows, columns }');
  }
  if (!Number.isSafeInteger(schema.rows) || schema.rows < 0) {
    schemaError(
      `schema ${schema.name}: rows must be a non-negative integer, got ${String(schema.rows)}`,
    );
  }
  const columns: ResolvedColumn[] = [];
  const byName = new Map<string, ResolvedColumn>();
  schema.columns.forEach((c, index) => {
    const where = `schema ${schema.name}, column ${index} (${String(c?.name)})`;
    if (!c || typeof c.name !== 'string' || c.name.length === 0 || c.name.length > 128)
      schemaError(`${where}: bad name`);
    if (byName.has(c.name)) schemaError(`${where}: duplicate column name`);
    const t = c.type;
    let lo: bigint;
    let hi: bigint;
    let scale = 0;
    switch (t?.kind) {
      case 'integer':
        if (!Number.isSafeInteger(t.min) || !Number.isSafeInteger(t.max) || t.min > t.max) {
          schemaError(`${where}: integer bounds must be safe integers with min <= max`);
        }
        lo = BigInt(t.min);
        hi = BigInt(t.max);
        break;
      case 'decimal': {
        if (!Number.isInteger(t.scale) || t.scale < 0 || t.scale > 9)
          schemaError(`${where}: decimal scale must be 0..9`);
        scale = t.scale;
        const a = decimalToScaled(String(t.min), t.scale);
        const b = decimalToScaled(String(t.max), t.scale);
        if (a === undefined || b === undefined || a > b) {
          schemaError(
            `${where}: decimal bounds must have at most ${t.scale} decimals with min <= max`,
          );
        }
        lo = a;
        hi = b;
        break;
      }
      case 'category':
        if (!Array.isArray(t.domain) || t.domain.length < 1 || t.domain.length > MAX_DOMAIN) {
          schemaError(`${where}: category domain must have 1..${MAX_DOMAIN} values`);
        }
        if (new Set(t.domain).size !== t.domain.length)
          schemaError(`${where}: category domain has duplicates`);
        lo = 0n;
        hi = BigInt(t.domain.length - 1);
        break;
      case 'date': {
        const a = dateToDays(t.min);
        const b = dateToDays(t.max);
        if (a === undefined || b === undefined || a > b)
          schemaError(`${where}: date bounds must be yyyy-mm-dd with min <= max`);
        lo = BigInt(a);
        hi = BigInt(b);
        break;
      }
      default:
        schemaError(`${where}: unknown column type`);
    }
    const bits = bitLength(hi - lo);
    if (bits > MAX_COLUMN_BITS)
      schemaError(`${where}: range needs ${bits} bits; the limit is ${MAX_COLUMN_BITS}`);
    const rc: ResolvedColumn = { name: c.name, index, type: t, scale, lo, hi, bits };
    columns.push(rc);
    byName.set(c.name, rc);
  });
  return { name: schema.name, id: schema.id, rows: schema.rows, columns, byName };
}

/**
 * Encodes one natural value (number, decimal text, category value, ISO date) to its stored
 * integer, checking the bounds. Used by the CSV loader and by tests.
 */
export function encodeCell(col: ResolvedColumn, v: number | string): bigint {
  let s: bigint | undefined;
  switch (col.type.kind) {
    case 'integer':
      if (typeof v === 'number' && Number.isSafeInteger(v)) s = BigInt(v);
      else if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) s = BigInt(v);
      break;
    case 'decimal':
      s = decimalToScaled(typeof v === 'number' ? v.toFixed(col.scale) : v, col.scale);
      break;
    case 'category': {
      const i = col.type.domain.indexOf(String(v));
      if (i >= 0) s = BigInt(i);
      break;
    }
    case 'date': {
      const d = typeof v === 'string' ? dateToDays(v) : undefined;
      if (d !== undefined) s = BigInt(d);
      break;
    }
  }
  if (s === undefined || s < col.lo || s > col.hi) {
    throw new QueryError(
      'BAD_INPUT',
      `column ${col.name}: value ${String(v).slice(0, 40)} is not a valid ${col.type.kind} within the declared bounds`,
    );
  }
  return s;
}
