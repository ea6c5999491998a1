/**
 * The share store: a node's DHT partition. Per dataset, per column, per chunk it keeps the share
 * vector (the raw bytes of a `BigUint64Array`, 8 bytes per share, little-endian), the version it
 * belongs to and its SHA-256. A manifest (the "pointer") names the current version of a dataset's
 * partition, the member index, the columns, every chunk's hash and the Merkle root over them.
 *
 * Writes never touch the current version: a new version's chunks are written first (staged), then
 * the pointer flips to the new manifest in one atomic step, then older versions are deleted. A crash
 * before the flip leaves the previous version current and intact; orphaned staged chunks are
 * deleted by the next commit or `deletePartition`.
 *
 * Implementations: `IdbShareStore` (browser, ./idb-store) and `FsShareStore` (headless Node nodes,
 * ./fs-store). Both are built on `ChunkedShareStore` over a small backend so they behave the same,
 * and the same test suite runs against both.
 */
import { LITTLE_ENDIAN, fromHex, toHex } from './bytes';
import { StorageError } from './errors';
import { sha256Async } from './hash';
import { chunkLeaf, leafHash, merkleRootOfHashes } from './merkle';

/** p = 2^61 - 1: every stored share must be a canonical field element. */
export const FIELD_P = (1n << 61n) - 1n;
/**
 * Default shares per chunk: 262,144 shares = 2 MiB. A column of up to this many rows is one chunk,
 * which `readColumn` hands out without copying (a multi-chunk column costs one transient copy:
 * measured in a tab, peak/raw memory 2.1 with single-chunk columns vs 3.1 with two chunks).
 */
export const DEFAULT_CHUNK_SIZE = 262_144;
/** Upper bound on a chunk (16 MiB) so a corrupt manifest cannot make us allocate without limit. */
export const MAX_CHUNK_SIZE = 1 << 21;
export const MAX_COLUMNS = 1024;

export interface ChunkMeta {
  /** Number of shares in the chunk. */
  length: number;
  /** SHA-256 of the chunk's bytes, lower-case hex. */
  hash: string;
}

export interface ColumnManifest {
  name: string;
  /** Number of shares (rows) in the column. */
  rows: number;
  chunks: ChunkMeta[];
}

export interface PartitionManifest {
  /** 32-byte dataset id, lower-case hex without 0x. */
  datasetId: string;
  /** Strictly increasing per dataset (1 at upload, +1 per re-share). */
  version: number;
  /** This node's index in the committee; it holds evaluations at x = memberIndex + 1. */
  memberIndex: number;
  chunkSize: number;
  columns: ColumnManifest[];
  /** Merkle root over `chunkLeaf`s in canonical order (lower-case hex). */
  merkleRoot: string;
  /** Free-form small metadata (threshold, committee size, schema hash, ...). */
  meta: Record<string, string | number>;
}

export interface PartitionHeader {
  datasetId: string;
  version: number;
  memberIndex: number;
  /** Defaults to DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
  meta?: Record<string, string | number>;
}

export interface PartitionInput extends PartitionHeader {
  columns: { name: string; shares: BigUint64Array }[];
}

export interface StagedColumn {
  name: string;
  rows: number;
}

export interface VerifyReport {
  ok: boolean;
  datasetId: string;
  version: number;
  merkleRoot: string;
  /** Chunks whose bytes no longer hash to the manifest's hash. */
  corrupt: { column: string; chunk: number }[];
  missing: { column: string; chunk: number }[];
  /** Set when `expectedRoot` was given and differs from the root recomputed from the manifest. */
  rootMismatch: boolean;
}

export interface ShareStore {
  /** Writes a whole new version of a partition and makes it current atomically. */
  writePartition(input: PartitionInput): Promise<PartitionManifest>;
  /** Stages one chunk of a future version (for streamed uploads and re-sharing). */
  stageChunk(
    datasetId: string,
    version: number,
    columnIndex: number,
    chunkIndex: number,
    shares: BigUint64Array,
  ): Promise<ChunkMeta>;
  /** Checks every staged chunk of `header.version`, then flips the pointer and drops older versions. */
  commitPartition(header: PartitionHeader, columns: StagedColumn[]): Promise<PartitionManifest>;
  /** The current manifest, or undefined. */
  getManifest(datasetId: string): Promise<PartitionManifest | undefined>;
  /** One chunk of the current version, its hash verified. */
  readChunk(datasetId: string, column: string | number, chunk: number): Promise<BigUint64Array>;
  /** A whole column of the current version, every chunk verified. */
  readColumn(datasetId: string, column: string | number): Promise<BigUint64Array>;
  /** Re-hashes every chunk and recomputes the Merkle root; never throws for corruption. */
  verifyPartition(datasetId: string, expectedRoot?: string): Promise<VerifyReport>;
  listDatasets(): Promise<string[]>;
  deletePartition(datasetId: string): Promise<void>;
  close(): Promise<void>;
}

/** A stored chunk as the backends keep it. */
export interface ChunkRecord {
  bytes: ArrayBuffer;
  /** SHA-256 of bytes. */
  hash: Uint8Array;
}

/** What an implementation must provide; all atomicity lives here. */
export interface StoreBackend {
  putChunk(
    datasetId: string,
    version: number,
    col: number,
    chunk: number,
    rec: ChunkRecord,
  ): Promise<void>;
  getChunk(
    datasetId: string,
    version: number,
    col: number,
    chunk: number,
  ): Promise<ChunkRecord | undefined>;
  getManifest(datasetId: string): Promise<unknown>;
  /**
   * Atomically: store `chunks` (may be empty: already staged) and make `manifest` current, unless
   * the current version is already >= manifest.version (STORE_VERSION_CONFLICT) or a chunk the
   * manifest names is absent (STORE_CHUNK_MISSING). Then (not necessarily in the same transaction)
   * delete every chunk of the dataset with an older version. Newer staged versions are left alone.
   */
  commit(
    manifest: PartitionManifest,
    chunks: { col: number; chunk: number; rec: ChunkRecord }[],
  ): Promise<void>;
  listDatasets(): Promise<string[]>;
  deleteDataset(datasetId: string): Promise<void>;
  close(): Promise<void>;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function checkDatasetId(id: string, where: string): string {
  if (typeof id !== 'string' || !HEX64.test(id)) {
    throw new StorageError(
      'STORE_BAD_INPUT',
      `${where}: dataset id must be 64 lower-case hex characters, got ${JSON.stringify(String(id).slice(0, 80))}`,
    );
  }
  return id;
}

function checkUint(v: number, max: number, what: string, where: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new StorageError(
      'STORE_BAD_INPUT',
      `${where}: ${what} must be an integer in 0..${max}, got ${v}`,
    );
  }
  return v;
}

/** Throws unless every element is < p (a stored share must be a canonical field element). */
export function checkShares(
  shares: BigUint64Array,
  where: string,
  details: Record<string, string | number>,
): void {
  if (!(shares instanceof BigUint64Array)) {
    throw new StorageError('STORE_BAD_INPUT', `${where}: shares must be a BigUint64Array`, details);
  }
  for (let i = 0; i < shares.length; i++) {
    if (shares[i]! >= FIELD_P) {
      throw new StorageError(
        'STORE_BAD_INPUT',
        `${where}: share ${i} is not reduced mod p = 2^61-1`,
        {
          ...details,
          index: i,
        },
      );
    }
  }
}

function copyShares(shares: BigUint64Array): ArrayBuffer {
  return shares.buffer.slice(
    shares.byteOffset,
    shares.byteOffset + shares.byteLength,
  ) as ArrayBuffer;
}

/** Merkle root of a manifest's chunks (hex). */
export function manifestRoot(columns: readonly ColumnManifest[]): string {
  const leaves: Uint8Array[] = [];
  columns.forEach((c, ci) =>
    c.chunks.forEach((k, ki) =>
      leaves.push(leafHash(chunkLeaf(ci, ki, k.length, fromHex(k.hash, 32, 'chunk hash')))),
    ),
  );
  return toHex(merkleRootOfHashes(leaves));
}

/** Validates an untrusted manifest read back from storage. */
export function parseManifest(raw: unknown, datasetId: string): PartitionManifest {
  const bad = (why: string): never => {
    throw new StorageError('STORE_MANIFEST_CORRUPT', `manifest of dataset ${datasetId}: ${why}`, {
      datasetId,
    });
  };
  if (typeof raw !== 'object' || raw === null) bad('not an object');
  const m = raw as Record<string, unknown>;
  if (m['datasetId'] !== datasetId) bad('dataset id does not match its key');
  const int = (k: string, max: number): number => {
    const v = m[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
      bad(`field ${k} is invalid`);
    return v as number;
  };
  const version = int('version', 0xffffffff);
  const memberIndex = int('memberIndex', 0xffff);
  const chunkSize = int('chunkSize', MAX_CHUNK_SIZE);
  if (chunkSize === 0) bad('chunkSize is 0');
  const cols = m['columns'];
  if (!Array.isArray(cols) || cols.length > MAX_COLUMNS) bad('columns is not a bounded array');
  const columns: ColumnManifest[] = (cols as unknown[]).map((c, ci) => {
    if (typeof c !== 'object' || c === null) bad(`column ${ci} is not an object`);
    const cc = c as Record<string, unknown>;
    const { name, rows, chunks } = cc;
    if (
      typeof name !== 'string' ||
      typeof rows !== 'number' ||
      !Number.isInteger(rows) ||
      rows < 0
    ) {
      bad(`column ${ci} has no valid name/rows`);
    }
    if (!Array.isArray(chunks) || chunks.length !== Math.ceil((rows as number) / chunkSize)) {
      bad(`column ${ci} has the wrong number of chunks`);
    }
    const metas = (chunks as unknown[]).map((k, ki) => {
      const kk = (typeof k === 'object' && k !== null ? k : {}) as Record<string, unknown>;
      const expectLen = Math.min(chunkSize, (rows as number) - ki * chunkSize);
      if (kk['length'] !== expectLen || typeof kk['hash'] !== 'string' || !HEX64.test(kk['hash'])) {
        bad(`column ${ci} chunk ${ki} metadata is invalid`);
      }
      return { length: expectLen, hash: kk['hash'] as string };
    });
    return { name: name as string, rows: rows as number, chunks: metas };
  });
  const merkle = m['merkleRoot'];
  if (typeof merkle !== 'string' || !HEX64.test(merkle)) bad('merkleRoot is invalid');
  const metaRaw = m['meta'];
  const meta: Record<string, string | number> = {};
  if (typeof metaRaw === 'object' && metaRaw !== null) {
    for (const [k, v] of Object.entries(metaRaw))
      if (typeof v === 'string' || typeof v === 'number') meta[k] = v;
  }
  return {
    datasetId,
    version,
    memberIndex,
    chunkSize,
    columns,
    merkleRoot: merkle as string,
    meta,
  };
}

/** The shared logic of every share store: validation, hashing, Merkle roots, verified reads. */
export class ChunkedShareStore implements ShareStore {
  constructor(protected readonly backend: StoreBackend) {
    if (!LITTLE_ENDIAN) {
      throw new StorageError(
        'STORE_IO',
        'share stores require a little-endian platform (shares are stored as LE u64)',
      );
    }
  }

  async writePartition(input: PartitionInput): Promise<PartitionManifest> {
    const header = this.checkHeader(input, 'writePartition');
    await this.checkNewVersion(header.datasetId, header.version, 'writePartition');
    const chunks: { col: number; chunk: number; rec: ChunkRecord }[] = [];
    const columns: ColumnManifest[] = [];
    if (
      !Array.isArray(input.columns) ||
      input.columns.length === 0 ||
      input.columns.length > MAX_COLUMNS
    ) {
      throw new StorageError(
        'STORE_BAD_INPUT',
        `writePartition: 1..${MAX_COLUMNS} columns required`,
        {
          datasetId: header.datasetId,
        },
      );
    }
    this.checkColumnNames(
      input.columns.map((c) => c.name),
      header.datasetId,
    );
    for (let ci = 0; ci < input.columns.length; ci++) {
      const { name, shares } = input.columns[ci]!;
      checkShares(shares, 'writePartition', { datasetId: header.datasetId, column: name });
      const metas: ChunkMeta[] = [];
      for (let ki = 0; ki * header.chunkSize < shares.length; ki++) {
        const part = shares.subarray(
          ki * header.chunkSize,
          Math.min(shares.length, (ki + 1) * header.chunkSize),
        );
        const bytes = copyShares(part);
        const hash = await sha256Async(new Uint8Array(bytes));
        chunks.push({ col: ci, chunk: ki, rec: { bytes, hash } });
        metas.push({ length: part.length, hash: toHex(hash) });
      }
      columns.push({ name, rows: shares.length, chunks: metas });
    }
    const manifest = this.makeManifest(header, columns);
    await this.backend.commit(manifest, chunks);
    return manifest;
  }

  async stageChunk(
    datasetId: string,
    version: number,
    columnIndex: number,
    chunkIndex: number,
    shares: BigUint64Array,
  ): Promise<ChunkMeta> {
    checkDatasetId(datasetId, 'stageChunk');
    checkUint(version, 0xffffffff, 'version', 'stageChunk');
    checkUint(columnIndex, MAX_COLUMNS - 1, 'column index', 'stageChunk');
    checkUint(chunkIndex, 0xffffffff, 'chunk index', 'stageChunk');
    if (shares.length === 0 || shares.length > MAX_CHUNK_SIZE) {
      throw new StorageError(
        'STORE_BAD_INPUT',
        `stageChunk: a chunk holds 1..${MAX_CHUNK_SIZE} shares, got ${shares.length}`,
        {
          datasetId,
          chunk: chunkIndex,
        },
      );
    }
    checkShares(shares, 'stageChunk', { datasetId, column: columnIndex, chunk: chunkIndex });
    await this.checkNewVersion(datasetId, version, 'stageChunk');
    const bytes = copyShares(shares);
    const hash = await sha256Async(new Uint8Array(bytes));
    await this.backend.putChunk(datasetId, version, columnIndex, chunkIndex, { bytes, hash });
    return { length: shares.length, hash: toHex(hash) };
  }

  async commitPartition(
    headerIn: PartitionHeader,
    staged: StagedColumn[],
  ): Promise<PartitionManifest> {
    const header = this.checkHeader(headerIn, 'commitPartition');
    await this.checkNewVersion(header.datasetId, header.version, 'commitPartition');
    if (!Array.isArray(staged) || staged.length === 0 || staged.length > MAX_COLUMNS) {
      throw new StorageError(
        'STORE_BAD_INPUT',
        `commitPartition: 1..${MAX_COLUMNS} columns required`,
      );
    }
    this.checkColumnNames(
      staged.map((c) => c.name),
      header.datasetId,
    );
    const columns: ColumnManifest[] = [];
    for (let ci = 0; ci < staged.length; ci++) {
      const { name, rows } = staged[ci]!;
      checkUint(rows, 0xffffffff, 'rows', 'commitPartition');
      const metas: ChunkMeta[] = [];
      for (let ki = 0; ki * header.chunkSize < rows; ki++) {
        const expect = Math.min(header.chunkSize, rows - ki * header.chunkSize);
        const rec = await this.backend.getChunk(header.datasetId, header.version, ci, ki);
        const where = {
          datasetId: header.datasetId,
          version: header.version,
          column: name,
          chunk: ki,
        };
        if (!rec) {
          throw new StorageError(
            'STORE_CHUNK_MISSING',
            `commitPartition: column ${name} chunk ${ki} was not staged`,
            where,
          );
        }
        if (rec.bytes.byteLength !== expect * 8) {
          throw new StorageError(
            'STORE_BAD_INPUT',
            `commitPartition: column ${name} chunk ${ki} has ${rec.bytes.byteLength / 8} shares, expected ${expect}`,
            where,
          );
        }
        const hash = toHex(await sha256Async(new Uint8Array(rec.bytes)));
        if (hash !== toHex(rec.hash)) {
          throw new StorageError(
            'STORE_CHUNK_CORRUPT',
            `commitPartition: staged column ${name} chunk ${ki} fails its hash`,
            where,
          );
        }
        metas.push({ length: expect, hash });
      }
      columns.push({ name, rows, chunks: metas });
    }
    const manifest = this.makeManifest(header, columns);
    await this.backend.commit(manifest, []);
    return manifest;
  }

  async getManifest(datasetId: string): Promise<PartitionManifest | undefined> {
    checkDatasetId(datasetId, 'getManifest');
    const raw = await this.backend.getManifest(datasetId);
    return raw === undefined ? undefined : parseManifest(raw, datasetId);
  }

  async readChunk(
    datasetId: string,
    column: string | number,
    chunk: number,
  ): Promise<BigUint64Array> {
    const m = await this.requireManifest(datasetId, 'readChunk');
    const ci = this.columnIndex(m, column, 'readChunk');
    const col = m.columns[ci]!;
    if (!Number.isInteger(chunk) || chunk < 0 || chunk >= col.chunks.length) {
      throw new StorageError(
        'STORE_NOT_FOUND',
        `readChunk: column ${col.name} has no chunk ${chunk}`,
        {
          datasetId,
          column: col.name,
          chunk,
        },
      );
    }
    return this.loadVerified(m, ci, chunk);
  }

  async readColumn(datasetId: string, column: string | number): Promise<BigUint64Array> {
    const m = await this.requireManifest(datasetId, 'readColumn');
    const ci = this.columnIndex(m, column, 'readColumn');
    const col = m.columns[ci]!;
    // One chunk: hand out the record's own buffer (no copy, no garbage).
    if (col.chunks.length === 1) return this.loadVerified(m, ci, 0);
    const out = new BigUint64Array(col.rows);
    for (let ki = 0; ki < col.chunks.length; ki++) {
      out.set(await this.loadVerified(m, ci, ki), ki * m.chunkSize);
    }
    return out;
  }

  async verifyPartition(datasetId: string, expectedRoot?: string): Promise<VerifyReport> {
    const m = await this.requireManifest(datasetId, 'verifyPartition');
    const corrupt: VerifyReport['corrupt'] = [];
    const missing: VerifyReport['missing'] = [];
    for (let ci = 0; ci < m.columns.length; ci++) {
      const col = m.columns[ci]!;
      for (let ki = 0; ki < col.chunks.length; ki++) {
        try {
          await this.loadVerified(m, ci, ki);
        } catch (e) {
          if (e instanceof StorageError && e.code === 'STORE_CHUNK_MISSING')
            missing.push({ column: col.name, chunk: ki });
          else if (e instanceof StorageError && e.code === 'STORE_CHUNK_CORRUPT')
            corrupt.push({ column: col.name, chunk: ki });
          else throw e;
        }
      }
    }
    const root = manifestRoot(m.columns);
    const rootMismatch =
      root !== m.merkleRoot || (expectedRoot !== undefined && expectedRoot.toLowerCase() !== root);
    return {
      ok: corrupt.length === 0 && missing.length === 0 && !rootMismatch,
      datasetId,
      version: m.version,
      merkleRoot: root,
      corrupt,
      missing,
      rootMismatch,
    };
  }

  listDatasets(): Promise<string[]> {
    return this.backend.listDatasets();
  }

  async deletePartition(datasetId: string): Promise<void> {
    checkDatasetId(datasetId, 'deletePartition');
    await this.backend.deleteDataset(datasetId);
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  // ---- internals ----

  private checkHeader(h: PartitionHeader, where: string): Required<PartitionHeader> {
    checkDatasetId(h.datasetId, where);
    checkUint(h.version, 0xffffffff, 'version', where);
    if (h.version === 0) throw new StorageError('STORE_BAD_INPUT', `${where}: versions start at 1`);
    checkUint(h.memberIndex, 0xfffe, 'member index', where);
    const chunkSize = h.chunkSize ?? DEFAULT_CHUNK_SIZE;
    checkUint(chunkSize, MAX_CHUNK_SIZE, 'chunk size', where);
    if (chunkSize === 0)
      throw new StorageError('STORE_BAD_INPUT', `${where}: chunk size must be positive`);
    return {
      datasetId: h.datasetId,
      version: h.version,
      memberIndex: h.memberIndex,
      chunkSize,
      meta: { ...(h.meta ?? {}) },
    };
  }

  private checkColumnNames(names: string[], datasetId: string): void {
    const seen = new Set<string>();
    for (const n of names) {
      if (typeof n !== 'string' || n.length === 0 || n.length > 256 || seen.has(n)) {
        throw new StorageError(
          'STORE_BAD_INPUT',
          `column names must be unique, 1..256 characters; bad: ${JSON.stringify(n)}`,
          {
            datasetId,
          },
        );
      }
      seen.add(n);
    }
  }

  /** Versions strictly increase: writing at or below the current version could clobber it. */
  private async checkNewVersion(datasetId: string, version: number, where: string): Promise<void> {
    const raw = await this.backend.getManifest(datasetId);
    if (raw === undefined) return;
    const cur = parseManifest(raw, datasetId);
    if (version <= cur.version) {
      throw new StorageError(
        'STORE_VERSION_CONFLICT',
        `${where}: dataset ${datasetId} is at version ${cur.version}; a new version must be greater, got ${version}`,
        { datasetId, version },
      );
    }
  }

  private makeManifest(h: Required<PartitionHeader>, columns: ColumnManifest[]): PartitionManifest {
    return {
      datasetId: h.datasetId,
      version: h.version,
      memberIndex: h.memberIndex,
      chunkSize: h.chunkSize,
      columns,
      merkleRoot: manifestRoot(columns),
      meta: h.meta,
    };
  }

  private async requireManifest(datasetId: string, where: string): Promise<PartitionManifest> {
    const m = await this.getManifest(datasetId);
    if (!m)
      throw new StorageError('STORE_NOT_FOUND', `${where}: no partition for dataset ${datasetId}`, {
        datasetId,
      });
    return m;
  }

  private columnIndex(m: PartitionManifest, column: string | number, where: string): number {
    const ci = typeof column === 'number' ? column : m.columns.findIndex((c) => c.name === column);
    if (!Number.isInteger(ci) || ci < 0 || ci >= m.columns.length) {
      throw new StorageError(
        'STORE_NOT_FOUND',
        `${where}: dataset ${m.datasetId} has no column ${JSON.stringify(column)}`,
        {
          datasetId: m.datasetId,
          column: String(column),
        },
      );
    }
    return ci;
  }

  private async loadVerified(
    m: PartitionManifest,
    ci: number,
    ki: number,
  ): Promise<BigUint64Array> {
    const col = m.columns[ci]!;
    const meta = col.chunks[ki]!;
    const where = { datasetId: m.datasetId, version: m.version, column: col.name, chunk: ki };
    const rec = await this.backend.getChunk(m.datasetId, m.version, ci, ki);
    if (!rec) {
      throw new StorageError(
        'STORE_CHUNK_MISSING',
        `dataset ${m.datasetId} v${m.version}: column ${col.name} chunk ${ki} is missing from the store`,
        where,
      );
    }
    const bytes = new Uint8Array(rec.bytes);
    const actual = toHex(await sha256Async(bytes));
    if (
      rec.bytes.byteLength !== meta.length * 8 ||
      actual !== meta.hash ||
      toHex(rec.hash) !== meta.hash
    ) {
      throw new StorageError(
        'STORE_CHUNK_CORRUPT',
        `dataset ${m.datasetId} v${m.version}: column ${col.name} chunk ${ki} fails its integrity hash ` +
          `(expected sha256 ${meta.hash.slice(0, 16)}…, stored bytes hash to ${actual.slice(0, 16)}…)`,
        where,
      );
    }
    // Zero-copy: backends hand out a fresh, exact ArrayBuffer the caller owns (see StoreBackend).
    return new BigUint64Array(rec.bytes);
  }
}
