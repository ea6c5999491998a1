/**
 * CSV intake for the hospital's browser (papaparse). Checks at the boundary: size, encoding
 * (UTF-8 only, BOM stripped, UTF-16 and invalid bytes refused with the byte offset and line),
 * binary content, header sanity (non-empty, unique, no formula prefix), and the shape of every row.
 * A row with the wrong number of fields is kept as a row error (row number, reason), never dropped
 * silently. Record numbers: the header is row 0, the first data record is row 1.
 */
import Papa from 'papaparse';
import { StorageError } from './errors';

export interface CsvLimits {
  /** Default 32 MiB (100k rows x 10 columns is ~6-8 MB). */
  maxBytes: number;
  /** Default 2,000,000 data rows. */
  maxRows: number;
  /** Default 256. */
  maxColumns: number;
  /** Default 1,024 characters per cell. */
  maxCellLength: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxRows: 2_000_000,
  maxColumns: 256,
  maxCellLength: 1024,
};

export type RowErrorCode =
  | 'FIELD_COUNT'
  | 'MISSING_VALUE'
  | 'NOT_INTEGER'
  | 'NOT_DECIMAL'
  | 'TOO_MANY_DECIMALS'
  | 'OUT_OF_RANGE'
  | 'NOT_DATE'
  | 'UNKNOWN_CATEGORY'
  | 'FORMULA_INJECTION'
  | 'CELL_TOO_LONG'
  | 'QUOTES';

export interface RowError {
  /** Data record number, 1-based (the header is row 0). */
  row: number;
  /** Column name, when the error is about one cell. */
  column?: string;
  /** 1-based column position, when the error is about one cell. */
  columnIndex?: number;
  code: RowErrorCode;
  reason: string;
}

export interface ParsedCsv {
  header: string[];
  /** Data records in file order; records with the wrong field count are NOT here (see rowErrors). */
  rows: { row: number; cells: string[] }[];
  /** Structural errors (field count, quotes); value errors come from schema validation. */
  rowErrors: RowError[];
  /** Blank lines skipped (they carry no data). */
  blankLines: number;
  delimiter: string;
}

/** Characters that make spreadsheet software treat a cell as a formula (OWASP CSV injection). */
export const FORMULA_PREFIX = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

function lineOfOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Index of the first byte that does not start a valid UTF-8 sequence, or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Decodes CSV bytes as UTF-8 with precise errors; strings are passed through (already decoded). */
export function decodeCsvBytes(input: Uint8Array, limits: CsvLimits = DEFAULT_CSV_LIMITS): string {
  if (input.length === 0) throw new StorageError('CSV_EMPTY', 'the file is empty');
  if (input.length > limits.maxBytes) {
    throw new StorageError(
      'CSV_TOO_LARGE',
      `the file is ${(input.length / 1048576).toFixed(1)} MiB; the limit is ${(limits.maxBytes / 1048576).toFixed(0)} MiB — split it into several datasets`,
      { bytes: input.length, limit: limits.maxBytes },
    );
  }
  if ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff)) {
    throw new StorageError('CSV_ENCODING', 'the file is UTF-16 encoded; save it as UTF-8 CSV', {
      byte: 0,
    });
  }
  let bytes = input;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new StorageError(
      'CSV_ENCODING',
      `the file contains a NUL byte at byte ${nul} (line ${lineOfOffset(bytes, nul)}): not a text CSV`,
      {
        byte: nul,
        line: lineOfOffset(bytes, nul),
      },
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    const at = firstInvalidUtf8(bytes);
    throw new StorageError(
      'CSV_ENCODING',
      `the file is not valid UTF-8 (first bad byte 0x${(bytes[at] ?? 0).toString(16)} at byte ${at}, line ${lineOfOffset(bytes, at)}); save it as UTF-8 CSV`,
      { byte: at, line: lineOfOffset(bytes, at) },
      { cause: e },
    );
  }
}

/** Parses CSV text (or UTF-8 bytes) with a header row. Throws only for whole-file problems. */
export function parseCsv(input: string | Uint8Array, limitsIn: Partial<CsvLimits> = {}): ParsedCsv {
  const limits = { ...DEFAULT_CSV_LIMITS, ...limitsIn };
  let text: string;
  if (typeof input === 'string') {
    if (
      input.length * 3 > limits.maxBytes &&
      new TextEncoder().encode(input).length > limits.maxBytes
    ) {
      throw new StorageError(
        'CSV_TOO_LARGE',
        `the text is larger than ${(limits.maxBytes / 1048576).toFixed(0)} MiB`,
      );
    }
    text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  } else {
    text = decodeCsvBytes(input, limits);
  }
  if (text.trim().length === 0) throw new StorageError('CSV_EMPTY', 'the file has no content');

  // Guess the delimiter on the first non-blank lines, then parse everything with it (blank lines
  // are kept so record numbers match the file).
  const guess = Papa.parse<string[]>(text, {
    preview: 50,
    skipEmptyLines: 'greedy',
    delimitersToGuess: [',', ';', '\t', '|'],
  }).meta.delimiter;
  const res = Papa.parse<string[]>(text, {
    header: false,
    skipEmptyLines: false,
    delimiter: guess,
    // Never let papaparse turn strings into numbers: exact decimal handling is ours.
    dynamicTyping: false,
  });
  const data = res.data;
  const delimiter = res.meta.delimiter;
  // Header: the first non-blank record.
  let h = 0;
  while (h < data.length && data[h]!.every((c) => c.trim() === '')) h++;
  if (h >= data.length) throw new StorageError('CSV_EMPTY', 'the file has no header row');
  const header = data[h]!.map((c) => c.trim());
  if (header.length > limits.maxColumns) {
    throw new StorageError(
      'CSV_HEADER',
      `the header has ${header.length} columns; the limit is ${limits.maxColumns}`,
    );
  }
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name === '')
      throw new StorageError('CSV_HEADER', `header column ${i + 1} has no name`, {
        columnIndex: i + 1,
      });
    if (FORMULA_PREFIX.test(name)) {
      throw new StorageError(
        'CSV_HEADER',
        `header column ${i + 1} starts with a formula character`,
        { columnIndex: i + 1 },
      );
    }
    if (name.length > 256)
      throw new StorageError('CSV_HEADER', `header column ${i + 1} is longer than 256 characters`, {
        columnIndex: i + 1,
      });
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new StorageError(
        'CSV_HEADER',
        `header columns ${prev + 1} and ${i + 1} have the same name ${JSON.stringify(name)}`,
        {
          column: name,
          columnIndex: i + 1,
        },
      );
    }
    seen.set(name, i);
  });

  const quoteErrors = new Map<number, string>();
  for (const e of res.errors)
    if (e.row !== undefined && e.type === 'Quotes') quoteErrors.set(e.row, e.message);

  const rows: ParsedCsv['rows'] = [];
  const rowErrors: RowError[] = [];
  let blankLines = 0;
  for (let r = h + 1; r < data.length; r++) {
    const cells = data[r]!;
    const row = r - h;
    if (cells.length === 1 && cells[0]!.trim() === '') {
      blankLines++;
      continue;
    }
    if (rows.length + rowErrors.length >= limits.maxRows) {
      throw new StorageError(
        'CSV_TOO_MANY_ROWS',
        `the file has more than ${limits.maxRows} data rows`,
        { row },
      );
    }
    const q = quoteErrors.get(r);
    if (q !== undefined) {
      rowErrors.push({ row, code: 'QUOTES', reason: `malformed quotes: ${q}` });
      continue;
    }
    if (cells.length !== header.length) {
      rowErrors.push({
        row,
        code: 'FIELD_COUNT',
        reason: `has ${cells.length} fields, the header has ${header.length}`,
      });
      continue;
    }
    const long = cells.findIndex((c) => c.length > limits.maxCellLength);
    if (long >= 0) {
      rowErrors.push({
        row,
        column: header[long]!,
        columnIndex: long + 1,
        code: 'CELL_TOO_LONG',
        reason: `cell is longer than ${limits.maxCellLength} characters`,
      });
      continue;
    }
    rows.push({ row, cells: cells.map((c) => c.trim()) });
  }
  if (rows.length === 0 && rowErrors.length === 0)
    throw new StorageError('CSV_NO_ROWS', 'the file has a header but no data rows');
  return { header, rows, rowErrors, blankLines, delimiter };
}

/**
 * Reads a user-chosen file (a `File` is a `Blob`) with the size checked BEFORE anything is read,
 * then parses it. A 50 MB file is refused at once with CSV_TOO_LARGE, without loading it.
 */
export async function readCsvFile(
  file: Blob,
  limitsIn: Partial<CsvLimits> = {},
): Promise<ParsedCsv> {
  const limits = { ...DEFAULT_CSV_LIMITS, ...limitsIn };
  if (file.size === 0) throw new StorageError('CSV_EMPTY', 'the file is empty');
  if (file.size > limits.maxBytes) {
    throw new StorageError(
      'CSV_TOO_LARGE',
      `the file is ${(file.size / 1048576).toFixed(1)} MiB; the limit is ${(limits.maxBytes / 1048576).toFixed(0)} MiB — split it into several datasets`,
      { bytes: file.size, limit: limits.maxBytes },
    );
  }
  return parseCsv(new Uint8Array(await file.arrayBuffer()), limits);
}
