/**
 * The app layer's contract between the views (src/ui) and the network glue (src/app): what a
 * hospital or researcher tab can do once its wallet is connected. The views depend on these types
 * only; `createClient` (src/app/client.ts) implements them over the mesh, the chain and the
 * storage/query libraries.
 *
 *   hospital:   parse CSV → confirm schema → upload(accepted) → shares sealed to each committee
 *               member over the mesh → c signed receipts → dataset registered on chain
 *   researcher: datasets() / schema(id) → submitQuery(text) → fee paid on chain → committee
 *               members check the chain, compute under MPC, seal result shares to this tab's key →
 *               t+1 boxes opened here only
 */
import type { Address, Hex } from 'viem';
import type { Coord } from '../coord/coord';
import type { QueryResult } from '../query/finalize';
import type { Policy } from '../query/policy';
import type { DatasetSchema } from '../query/schema';
import type { AcceptedDataset } from '../storage/schema';

/** A compute node as the client sees it: registered on chain and/or present on the mesh. */
export interface NodeInfo {
  /** Node id on chain: the address of its node key. */
  nodeId: Address;
  /** Compressed secp256k1 node key, lower-case hex without 0x. */
  key: string;
  online: boolean;
  /** Active in the chain's registry (deposit locked). */
  registered: boolean;
}

export interface DatasetInfo {
  datasetId: Hex;
  owner: Address;
  /** Human name from the catalog (set at upload); the id when unknown. */
  name: string;
  rowCount: number;
  threshold: number;
  version: number;
  /** Node ids in member order. */
  committee: Address[];
  schemaHash: Hex;
  registeredAt: bigint;
}

/** Committee health as the owner's dashboard shows it. */
export interface CommitteeHealth {
  datasetId: Hex;
  members: {
    nodeId: Address;
    online: boolean;
    /** The member answered a health probe with a Merkle root equal to the one on chain. */
    verified: boolean | undefined;
    detail?: string;
  }[];
  lastReshare?: { version: number; block: bigint };
}

export interface UploadOptions {
  /** Shown in catalogs; the dataset id is derived from the owner and a fresh salt. */
  name: string;
  /** Committee size c and threshold t (t < c/2). Defaults: c = min(5, online nodes), t = ⌊(c−1)/2⌋. */
  committeeSize?: number;
  threshold?: number;
}

export type UploadPhase = 'committee' | 'share' | 'seal' | 'send' | 'register' | 'done';

export interface UploadProgress {
  phase: UploadPhase;
  /** 0..1 over the whole upload. */
  fraction: number;
  message: string;
}

export interface UploadResult {
  datasetId: Hex;
  committee: Address[];
  roots: Hex[];
  txHash: Hex;
  seconds: number;
}

export type QueryPhase =
  | 'checking'
  | 'paying'
  | 'sending'
  | 'computing'
  | 'resharing'
  | 'collecting'
  | 'done'
  | 'refused'
  | 'failed';

export interface QueryProgress {
  phase: QueryPhase;
  /** 0..1 */
  fraction: number;
  message: string;
  /** Per committee member: what it last said about this query. */
  members: { nodeId: Address; state: 'waiting' | 'computing' | 'answered' | 'refused' | 'gone' }[];
  queryId?: bigint;
}

export interface QueryOutcome {
  queryId: bigint;
  datasetId: Hex;
  text: string;
  result: QueryResult;
  seconds: number;
}

/** A refusal or failure with a code the UI can explain in plain words. */
export class AppError extends Error {
  constructor(
    readonly code:
      | 'NO_NODES'
      | 'NOT_ENOUGH_NODES'
      | 'UPLOAD_FAILED'
      | 'RECEIPT_INVALID'
      | 'NOT_GRANTED'
      | 'REFUSED'
      | 'TIMEOUT'
      | 'SCHEMA_UNAVAILABLE'
      | 'QUERY_FAILED'
      | 'RESHARE_FAILED',
    message: string,
    /** What the user can do next, in plain words. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export interface ConfideClient {
  /** Node key of this tab on the mesh (a client, never a committee member). */
  readonly key: string;
  /** Registered and online nodes, refreshed on mesh and chain changes. */
  nodes(): NodeInfo[];
  /** Every registered dataset (chain events + catalog names). */
  datasets(): Promise<DatasetInfo[]>;
  /**
   * The dataset's published schema (query-layer types with public bounds), fetched from a committee
   * member and checked against the hash on chain.
   */
  schema(datasetId: Hex): Promise<DatasetSchema>;
  /** Owner: share, seal, send to the committee, collect receipts, register on chain. */
  upload(
    data: AcceptedDataset,
    opts: UploadOptions,
    onProgress?: (p: UploadProgress) => void,
  ): Promise<UploadResult>;
  /** Owner: probe each member of a dataset for its partition root and compare with the chain. */
  health(datasetId: Hex): Promise<CommitteeHealth>;
  /**
   * Owner: re-share a dataset to a committee of `size` members (and threshold; growth adds the
   * closest registered nodes, shrinking drops the highest slots). The wallet signs the request; the
   * members re-share without reconstructing anything and record the new committee on chain.
   * Resolves with the dataset as the chain then records it.
   */
  resizeCommittee(
    datasetId: Hex,
    size: number,
    onProgress?: (message: string) => void,
    /** A new threshold (1 ≤ t, 2t < size); the current one when omitted. */
    threshold?: number,
  ): Promise<DatasetInfo>;
  /**
   * Owner: the texts of queries run on a dataset (the wallet signs one request), from its committee
   * members; only texts whose canonical hash equals the chain's `queryHash` are returned, by id.
   */
  queryTexts(
    datasetId: Hex,
    queries: readonly { queryId: bigint; queryHash: Hex }[],
  ): Promise<Map<string, string>>;
  /** Researcher: pay, send to the committee, collect and open the sealed result. */
  submitQuery(
    datasetId: Hex,
    text: string,
    opts?: { fee?: bigint; timeoutMs?: number },
    onProgress?: (p: QueryProgress) => void,
  ): Promise<QueryOutcome>;
  /** The grant's policy for this account on a dataset, or undefined when there is none. */
  policy(datasetId: Hex): Promise<(Policy & { expiry: bigint; budget: number }) | undefined>;
  /** The replicated coordination document (job board, shared query drafts) this tab joined. */
  readonly coord: Coord;
  onChange(listener: () => void): () => void;
  close(): void;
}
