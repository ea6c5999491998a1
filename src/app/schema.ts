/**
 * The published schema of a dataset: what researchers see and write queries against, and whose
 * hash the chain records. Built from the owner's confirmed upload schema (src/storage) plus public
 * bounds per numeric column (the query layer needs them for comparison widths, overflow-free sums
 * and DP sensitivity). Bounds are the observed extremes rounded outward to round numbers (whole
 * years for dates), so they do not reveal any one record's exact extreme value.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { daysToDate, resolveSchema, type ColumnSchema, type DatasetSchema } from '../query/schema';
import type { AcceptedDataset } from '../storage/schema';
import type { BitSpec } from '../storage/bits';

/** Rounds [lo, hi] outward to multiples of a power of ten about a tenth of the range. */
export function roundBounds(lo: number, hi: number): [number, number] {
  const range = Math.max(1, hi - lo);
  const step = 10 ** Math.max(0, Math.floor(Math.log10(range)) - 1);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

function scaled(v: number, scale: number): string {
  const neg = v < 0;
  const s = Math.abs(v)
    .toString()
    .padStart(scale + 1, '0');
  const txt = scale ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
  return neg ? `-${txt}` : txt;
}

export function publishedSchema(data: AcceptedDataset, name: string, id?: string): DatasetSchema {
  const columns: ColumnSchema[] = [];
  for (const c of data.columns) {
    const t = c.type;
    if (t.kind === 'skip') continue;
    if (t.kind === 'category') {
      columns.push({ name: c.name, type: { kind: 'category', domain: [...t.domain] } });
      continue;
    }
    if (t.kind === 'date') {
      const y0 = Number(daysToDate(c.min).slice(0, 4));
      const y1 = Number(daysToDate(c.max).slice(0, 4));
      columns.push({
        name: c.name,
        type: { kind: 'date', min: `${String(y0).padStart(4, '0')}-01-01`, max: `${y1}-12-31` },
      });
      continue;
    }
    const [lo, hi] = roundBounds(c.min, c.max);
    if (t.kind === 'int')
      columns.push({ name: c.name, type: { kind: 'integer', min: lo, max: hi } });
    else
      columns.push({
        name: c.name,
        type: {
          kind: 'decimal',
          scale: t.scale,
          min: scaled(lo, t.scale),
          max: scaled(hi, t.scale),
        },
      });
  }
  const schema: DatasetSchema = {
    name,
    ...(id ? { id } : {}),
    rows: data.acceptedRows,
    columns,
  };
  resolveSchema(schema); // throws a QueryError naming the column when a bound is unusable
  return schema;
}

/** Canonical JSON (fixed key order) of a published schema. */
export function canonicalPublishedSchema(s: DatasetSchema): string {
  return JSON.stringify({
    name: s.name,
    rows: s.rows,
    columns: s.columns.map((c) => ({ name: c.name, type: sortKeys(c.type) })),
  });
}

function sortKeys(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = (o as Record<string, unknown>)[k];
  return out;
}

/** 0x-hex sha256 of the canonical published schema: what the chain records as `schemaHash`. */
export function publishedSchemaHash(s: DatasetSchema): `0x${string}` {
  return `0x${bytesToHex(sha256(utf8ToBytes(canonicalPublishedSchema(s))))}`;
}

/** Parses a schema received from a peer and checks it against the chain's hash. */
export function parsePublishedSchema(json: string, expectedHash: string): DatasetSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('published schema: not JSON');
  }
  const s = raw as DatasetSchema;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.name !== 'string' ||
    typeof s.rows !== 'number' ||
    !Array.isArray(s.columns)
  )
    throw new Error('published schema: not a schema object');
  const schema: DatasetSchema = { name: s.name, rows: s.rows, columns: s.columns };
  if (publishedSchemaHash(schema).toLowerCase() !== expectedHash.toLowerCase())
    throw new Error('published schema: does not match the hash registered on chain');
  resolveSchema(schema);
  return schema;
}

/**
 * Columns whose value range fits this many bits are also stored bit-decomposed (src/storage/bits.ts:
 * the bits of x − lo, each secret-shared like a column). A comparison with a constant then runs the
 * bit network of src/query/bitcmp.ts (no random bits, no openings: about a tenth of the traffic of
 * the generic comparison) at the cost of storing `bits` more share vectors for the column.
 */
export const MAX_STORED_BITS = 10;

/**
 * Which columns of a published schema the upload stores bit-decomposed, with lo and bits as the
 * query layer resolves them (so the planner and every node agree). Public: no data involved.
 */
export function bitSpecs(schema: DatasetSchema): BitSpec[] {
  return resolveSchema(schema)
    .columns.filter((c) => c.bits > 0 && c.bits <= MAX_STORED_BITS)
    .map((c) => ({ name: c.name, lo: c.lo, bits: c.bits }));
}
