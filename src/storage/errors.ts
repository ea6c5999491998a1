/**
 * Typed, coded errors for the storage layer. Every error names what was wrong and where (dataset,
 * column, chunk; CSV row and column), never the plaintext value of a record or a share.
 */
export type StorageErrorCode =
  // share store
  | 'STORE_BAD_INPUT'
  | 'STORE_NOT_FOUND'
  | 'STORE_CHUNK_MISSING'
  | 'STORE_CHUNK_CORRUPT'
  | 'STORE_MANIFEST_CORRUPT'
  | 'STORE_VERSION_CONFLICT'
  | 'STORE_IO'
  // placement
  | 'PLACEMENT_BAD_KEY'
  | 'PLACEMENT_BAD_ID'
  | 'PLACEMENT_DUPLICATE_NODE'
  | 'PLACEMENT_NOT_ENOUGH_NODES'
  | 'PLACEMENT_BAD_PARAMS'
  // CSV / schema / encoding
  | 'CSV_EMPTY'
  | 'CSV_TOO_LARGE'
  | 'CSV_ENCODING'
  | 'CSV_HEADER'
  | 'CSV_NO_ROWS'
  | 'CSV_TOO_MANY_ROWS'
  | 'SCHEMA_INVALID'
  | 'SCHEMA_MISMATCH'
  | 'UPLOAD_NOT_ACCEPTED'
  // envelopes and receipts
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_AUTH'
  | 'BUNDLE_CONTEXT'
  | 'RECEIPT_INVALID'
  | 'MERKLE_BAD_INPUT';

export interface StorageErrorDetails {
  datasetId?: string;
  column?: string;
  chunk?: number;
  version?: number;
  member?: number;
  /** 1-based data row number in the CSV (the header is row 0). */
  row?: number;
  [key: string]: string | number | undefined;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly details: StorageErrorDetails;

  constructor(
    code: StorageErrorCode,
    message: string,
    details: StorageErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.details = details;
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}
