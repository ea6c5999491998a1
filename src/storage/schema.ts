/**
 * Schema inference, confirmation and encoding of CSV cells into field elements of p = 2^61 - 1.
 *
 * Column kinds:
 *   int       exact integers, |x| <= 2^53 - 1
 *   decimal   fixed point with `scale` decimal places: "12.5" at scale 2 -> 1250 (never rounded:
 *             more decimals than the scale is a row error)
 *   date      ISO YYYY-MM-DD -> days since 1970-01-01 (negative before 1970)
 *   category  a domain list; a value is encoded as its index in the list
 *   skip      not uploaded (identifiers, free text: they never leave the owner's browser)
 * A negative value v is encoded as p - |v|. Every input row ends up either encoded or in the
 * rejection list with row, column and reason: nothing is lost silently. Nothing can be shared or
 * sent before the owner accepts the report (`acceptValidation`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from './bytes';
import { FORMULA_PREFIX, type ParsedCsv, type RowError, type RowErrorCode } from './csv';
import { StorageError } from './errors';

export const P = (1n << 61n) - 1n;
export const MAX_ABS_VALUE = BigInt(Number.MAX_SAFE_INTEGER);
export const MAX_SCALE = 9;
export const MAX_CATEGORIES = 4096;
/** A kind is inferred when at least this share of a column's non-empty cells fit it. */
export const INFER_THRESHOLD = 0.9;

export type ColumnType =
  | { kind: 'int' }
  | { kind: 'decimal'; scale: number }
  | { kind: 'date' }
  | { kind: 'category'; domain: string[] }
  | { kind: 'skip' };

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

export interface DatasetSchema {
  version: 1;
  columns: ColumnSchema[];
}

export interface ColumnInference {
  name: string;
  type: ColumnType;
  /** Share of non-empty cells that fit the inferred type, 0..1. */
  fit: number;
  nonEmpty: number;
  /** Why a column was set to skip, or other advice for the owner. */
  note?: string;
}

// ---------------- cell parsers (exact, no floats) ----------------

const INT_RE = /^[+-]?\d{1,20}$/;
const DEC_RE = /^([+-]?)(\d{1,20})(?:\.(\d{1,20}))?$/;
const DEC_LEADING_DOT_RE = /^([+-]?)\.(\d{1,20})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

type CellResult = { ok: true; value: bigint } | { ok: false; code: RowErrorCode; reason: string };

function fail(code: RowErrorCode, reason: string): CellResult {
  return { ok: false, code, reason };
}

function inRange(v: bigint): CellResult {
  return v > MAX_ABS_VALUE || v < -MAX_ABS_VALUE
    ? fail('OUT_OF_RANGE', 'magnitude exceeds 2^53 - 1')
    : { ok: true, value: v };
}

function formulaOr(cell: string, code: RowErrorCode, reason: string): CellResult {
  return FORMULA_PREFIX.test(cell)
    ? fail(
        'FORMULA_INJECTION',
        `starts with ${JSON.stringify(cell[0])} (a spreadsheet formula prefix); refused`,
      )
    : fail(code, reason);
}

export function parseIntCell(cell: string): CellResult {
  if (!INT_RE.test(cell)) return formulaOr(cell, 'NOT_INTEGER', 'not an integer');
  return inRange(BigInt(cell));
}

/** Fraction digits of a decimal cell, or -1 if it is not a decimal. */
function decimalDigits(cell: string): number {
  const m = DEC_RE.exec(cell) ?? DEC_LEADING_DOT_RE.exec(cell);
  if (!m) return -1;
  const frac = m.length === 4 ? m[3] : m[2];
  return frac === undefined ? 0 : frac.replace(/0+$/, '').length;
}

export function parseDecimalCell(cell: string, scale: number): CellResult {
  let sign = '';
  let whole = '0';
  let frac = '';
  const m = DEC_RE.exec(cell);
  if (m) [sign, whole, frac] = [m[1]!, m[2]!, m[3] ?? ''];
  else {
    const d = DEC_LEADING_DOT_RE.exec(cell);
    if (!d) return formulaOr(cell, 'NOT_DECIMAL', 'not a decimal number');
    [sign, frac] = [d[1]!, d[2]!];
  }
  const trimmed = frac.replace(/0+$/, '');
  if (trimmed.length > scale) {
    return fail(
      'TOO_MANY_DECIMALS',
      `has ${trimmed.length} decimal places, the column keeps ${scale}`,
    );
  }
  const digits = whole + trimmed.padEnd(scale, '0');
  const v = BigInt(digits);
  return inRange(sign === '-' ? -v : v);
}

/** Days since 1970-01-01 for a real calendar date YYYY-MM-DD. */
export function parseDateCell(cell: string): CellResult {
  const m = DATE_RE.exec(cell);
  if (!m) return formulaOr(cell, 'NOT_DATE', 'not a date in the form YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return fail('NOT_DATE', 'not a real calendar date');
  }
  return { ok: true, value: BigInt(Math.round(t / 86_400_000)) };
}

/** Field encoding of a signed integer: v for v >= 0, p - |v| otherwise. */
export function encodeSigned(v: bigint): bigint {
  if (v > MAX_ABS_VALUE || v < -MAX_ABS_VALUE)
    throw new StorageError('SCHEMA_INVALID', 'encodeSigned: value out of range');
  return v >= 0n ? v : P + v;
}

/** Inverse of encodeSigned for any field element: values above (p-1)/2 are negative. */
export function decodeSigned(x: bigint): bigint {
  return x > (P - 1n) / 2n ? x - P : x;
}

// ---------------- inference ----------------

export function inferSchema(csv: ParsedCsv): { schema: DatasetSchema; columns: ColumnInference[] } {
  const columns: ColumnInference[] = csv.header.map((name, ci) => {
    let nonEmpty = 0;
    let ints = 0;
    let decs = 0;
    let dates = 0;
    let scale = 0;
    const distinct = new Map<string, number>();
    for (const { cells } of csv.rows) {
      const c = cells[ci]!;
      if (c === '') continue;
      nonEmpty++;
      if (distinct.size <= MAX_CATEGORIES) distinct.set(c, (distinct.get(c) ?? 0) + 1);
      if (INT_RE.test(c)) ints++;
      const dd = decimalDigits(c);
      if (dd >= 0) {
        decs++;
        if (dd > scale && dd <= MAX_SCALE) scale = dd;
      }
      if (DATE_RE.test(c)) dates++;
    }
    const fit = (k: number) => (nonEmpty === 0 ? 0 : k / nonEmpty);
    if (nonEmpty === 0)
      return { name, type: { kind: 'skip' }, fit: 0, nonEmpty, note: 'the column is empty' };
    if (fit(ints) >= INFER_THRESHOLD)
      return { name, type: { kind: 'int' }, fit: fit(ints), nonEmpty };
    if (fit(decs) >= INFER_THRESHOLD)
      return { name, type: { kind: 'decimal', scale }, fit: fit(decs), nonEmpty };
    if (fit(dates) >= INFER_THRESHOLD)
      return { name, type: { kind: 'date' }, fit: fit(dates), nonEmpty };
    if (distinct.size > MAX_CATEGORIES || distinct.size > Math.max(32, nonEmpty / 2)) {
      return {
        name,
        type: { kind: 'skip' },
        fit: 0,
        nonEmpty,
        note: `${distinct.size > MAX_CATEGORIES ? `more than ${MAX_CATEGORIES}` : distinct.size} distinct values: looks like an identifier or free text, so it is not uploaded`,
      };
    }
    const domain = [...distinct.keys()].filter((v) => !FORMULA_PREFIX.test(v)).sort();
    const inDomain = domain.reduce((acc, v) => acc + distinct.get(v)!, 0);
    return { name, type: { kind: 'category', domain }, fit: fit(inDomain), nonEmpty };
  });
  return {
    schema: { version: 1, columns: columns.map(({ name, type }) => ({ name, type })) },
    columns,
  };
}

/** Validates a schema the owner edited (e.g. changed a scale, reordered a domain, skipped a column). */
export function checkSchema(schema: DatasetSchema, header?: readonly string[]): DatasetSchema {
  const bad = (msg: string, column?: string): never => {
    throw new StorageError('SCHEMA_INVALID', msg, column === undefined ? {} : { column });
  };
  if (schema.version !== 1 || !Array.isArray(schema.columns) || schema.columns.length === 0)
    bad('schema needs version 1 and columns');
  const names = new Set<string>();
  for (const c of schema.columns) {
    if (typeof c.name !== 'string' || c.name === '' || names.has(c.name))
      bad(`column names must be unique and non-empty: ${JSON.stringify(c.name)}`);
    names.add(c.name);
    const t = c.type;
    switch (t.kind) {
      case 'int':
      case 'date':
      case 'skip':
        break;
      case 'decimal':
        if (!Number.isInteger(t.scale) || t.scale < 0 || t.scale > MAX_SCALE)
          bad(`column ${c.name}: scale must be 0..${MAX_SCALE}`, c.name);
        break;
      case 'category': {
        if (!Array.isArray(t.domain) || t.domain.length === 0 || t.domain.length > MAX_CATEGORIES) {
          bad(`column ${c.name}: a category domain has 1..${MAX_CATEGORIES} values`, c.name);
        }
        if (new Set(t.domain).size !== t.domain.length)
          bad(`column ${c.name}: the domain lists a value twice`, c.name);
        if (t.domain.some((v) => typeof v !== 'string' || FORMULA_PREFIX.test(v)))
          bad(`column ${c.name}: domain values must be strings without formula prefixes`, c.name);
        break;
      }
      default:
        bad(`column ${(c as ColumnSchema).name}: unknown kind`);
    }
  }
  if (schema.columns.every((c) => c.type.kind === 'skip'))
    bad('every column is skipped: nothing to upload');
  if (header) {
    if (
      header.length !== schema.columns.length ||
      header.some((h, i) => h !== schema.columns[i]!.name)
    ) {
      throw new StorageError(
        'SCHEMA_MISMATCH',
        `the schema's columns (${schema.columns.map((c) => c.name).join(', ')}) do not match the CSV header (${header.join(', ')})`,
      );
    }
  }
  return schema;
}

/** Canonical bytes of a schema (stable key order) and its sha256, registered on chain. */
export function canonicalSchema(schema: DatasetSchema): string {
  const col = (c: ColumnSchema): string => {
    const t = c.type;
    const type =
      t.kind === 'decimal'
        ? `{"kind":"decimal","scale":${t.scale}}`
        : t.kind === 'category'
          ? `{"kind":"category","domain":${JSON.stringify(t.domain)}}`
          : `{"kind":${JSON.stringify(t.kind)}}`;
    return `{"name":${JSON.stringify(c.name)},"type":${type}}`;
  };
  return `{"version":1,"columns":[${schema.columns.map(col).join(',')}]}`;
}

export function schemaHash(schema: DatasetSchema): string {
  return toHex(sha256(utf8.encode(canonicalSchema(checkSchema(schema)))));
}

// ---------------- validation and encoding ----------------

export interface EncodedColumn {
  name: string;
  type: ColumnType;
  /** Field elements, one per accepted row. */
  values: BigUint64Array;
  /** Smallest and largest encoded value before the field map (signed), for the query layer's bit widths. */
  min: number;
  max: number;
}

export interface ValidationReport {
  schema: DatasetSchema;
  schemaHash: string;
  /** Data rows in the file (blank lines excluded). */
  totalRows: number;
  acceptedRows: number;
  /** Every rejected row with every reason; sorted by row. totalRows = acceptedRows + rejected rows. */
  rejected: RowError[];
  rejectedRows: number;
  /** Data row number of each accepted row, in order (so a row's shares can be traced to its line). */
  acceptedRowNumbers: Uint32Array;
  columns: EncodedColumn[];
}

function encodeCell(
  cell: string,
  t: ColumnType,
  domainIndex: Map<string, number> | undefined,
): CellResult {
  if (cell === '') return fail('MISSING_VALUE', 'empty cell');
  switch (t.kind) {
    case 'int':
      return parseIntCell(cell);
    case 'decimal':
      return parseDecimalCell(cell, t.scale);
    case 'date':
      return parseDateCell(cell);
    case 'category': {
      const code = domainIndex!.get(cell);
      if (code !== undefined) return { ok: true, value: BigInt(code) };
      return formulaOr(
        cell,
        'UNKNOWN_CATEGORY',
        `not one of the ${t.domain.length} values of the column's domain`,
      );
    }
    case 'skip':
      return { ok: true, value: 0n };
  }
}

/** Validates every row against a confirmed schema and encodes the accepted ones. Never throws for bad cells. */
export function validateAndEncode(csv: ParsedCsv, schemaIn: DatasetSchema): ValidationReport {
  const schema = checkSchema(schemaIn, csv.header);
  const kept = schema.columns.map((c, i) => ({ c, i })).filter(({ c }) => c.type.kind !== 'skip');
  const domains = kept.map(({ c }) =>
    c.type.kind === 'category' ? new Map(c.type.domain.map((v, k) => [v, k])) : undefined,
  );
  const n = csv.rows.length;
  const buffers = kept.map(() => new BigUint64Array(n));
  const mins = kept.map(() => Infinity);
  const maxs = kept.map(() => -Infinity);
  const accepted = new Uint32Array(n);
  const rejected: RowError[] = [...csv.rowErrors];
  let a = 0;
  const rowVals: bigint[] = new Array<bigint>(kept.length);
  for (const { row, cells } of csv.rows) {
    let ok = true;
    for (let k = 0; k < kept.length; k++) {
      const { c, i } = kept[k]!;
      const r = encodeCell(cells[i]!, c.type, domains[k]);
      if (r.ok) rowVals[k] = r.value;
      else {
        ok = false;
        rejected.push({ row, column: c.name, columnIndex: i + 1, code: r.code, reason: r.reason });
      }
    }
    if (!ok) continue;
    for (let k = 0; k < kept.length; k++) {
      const v = rowVals[k]!;
      buffers[k]![a] = v >= 0n ? v : P + v;
      const num = Number(v);
      if (num < mins[k]!) mins[k] = num;
      if (num > maxs[k]!) maxs[k] = num;
    }
    accepted[a++] = row;
  }
  rejected.sort((x, y) => x.row - y.row || (x.columnIndex ?? 0) - (y.columnIndex ?? 0));
  const rejectedRows = new Set(rejected.map((e) => e.row)).size;
  return {
    schema,
    schemaHash: schemaHash(schema),
    totalRows: n + csv.rowErrors.length,
    acceptedRows: a,
    rejected,
    rejectedRows,
    acceptedRowNumbers: accepted.slice(0, a),
    columns: kept.map(({ c }, k) => ({
      name: c.name,
      type: c.type,
      values: buffers[k]!.slice(0, a),
      min: a === 0 ? 0 : mins[k]!,
      max: a === 0 ? 0 : maxs[k]!,
    })),
  };
}

declare const acceptedBrand: unique symbol;
/** A validation report the owner has accepted; the only input the sharing/upload step takes. */
export type AcceptedDataset = ValidationReport & { readonly [acceptedBrand]: true };

/**
 * The owner's explicit acceptance. With rejected rows, the owner must also confirm that those rows
 * are left out (`dropRejectedRows`), otherwise UPLOAD_NOT_ACCEPTED: nothing is shared or sent.
 */
export function acceptValidation(
  report: ValidationReport,
  confirm: { dropRejectedRows: boolean },
): AcceptedDataset {
  if (report.acceptedRows === 0) {
    throw new StorageError(
      'UPLOAD_NOT_ACCEPTED',
      `no row passed validation (${report.rejectedRows} rejected): nothing to upload`,
    );
  }
  if (report.rejectedRows > 0 && !confirm.dropRejectedRows) {
    throw new StorageError(
      'UPLOAD_NOT_ACCEPTED',
      `${report.rejectedRows} rows were rejected (first: row ${report.rejected[0]!.row}${report.rejected[0]!.column ? `, column ${report.rejected[0]!.column}` : ''}: ${report.rejected[0]!.reason}); fix them or confirm that they are left out`,
      { row: report.rejected[0]!.row },
    );
  }
  return report as AcceptedDataset;
}

/** Human-readable line for a row error (the hospital dashboard shows these). */
export function describeRowError(e: RowError): string {
  return e.column === undefined
    ? `row ${e.row}: ${e.reason}`
    : `row ${e.row}, column ${e.columnIndex} (${e.column}): ${e.reason}`;
}
