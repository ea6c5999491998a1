/**
 * The computations a node's worker runs, as plain data (structured-cloneable: typed arrays move
 * with transfer lists). Shared by the worker and the main-thread runtime; imports types only.
 */
import type { Policy } from '../src/query/policy';
import type { DatasetSchema } from '../src/query/schema';

export interface JobBase {
  /** Threshold t < n/2. */
  t: number;
  /** 32-bit session tag, the same at every party (derived from the job id). */
  session: number;
  /** Engine per-step timeout (ms). */
  timeoutMs?: number;
}

/** Every party contributes a private vector; everybody learns the element-wise sum only. */
export interface SumJob extends JobBase {
  kind: 'sum';
  len: number;
  /** This party's private values (< 2^32). */
  input: Uint32Array;
  /** Test hook: wait for `release(session)` between the inputs and the opening. */
  pauseAfterInput?: boolean;
}

/** x from one dealer, y from another; opens x·y, [x < y] and [x = y] element-wise. */
export interface ArithJob extends JobBase {
  kind: 'arith';
  len: number;
  dealerX: number;
  dealerY: number;
  x?: Uint32Array;
  y?: Uint32Array;
}

/** `rounds` batches of `len` multiplications of random shared values (benchmark / liveness). */
export interface MulBenchJob extends JobBase {
  kind: 'mulbench';
  len: number;
  rounds: number;
  /** Run the MAC check and open a checksum at the end. */
  verify: boolean;
}

/**
 * A researcher's query over this node's stored shares: the text is checked against the hash the
 * chain authorised and against the grant's policy, the stored columns are adopted (degree-checked
 * jointly, so a member whose partition was altered is caught), the plan runs, and the result
 * shares are sealed to the requester's key. `len` is the dataset's row count.
 */
export interface QueryJob extends JobBase {
  kind: 'query';
  len: number;
  text: string;
  authorisedHash: string;
  schema: DatasetSchema;
  policy: Policy;
  /** This member's stored shares of the columns the plan reads (schema column index). */
  columns: { index: number; shares: BigUint64Array }[];
  /**
   * Stored shares of the bits of x − lo (least significant first) for columns the plan compares
   * with a constant, when the partition holds them: the comparisons then take the bit network.
   */
  bitColumns?: { index: number; bits: BigUint64Array[] }[];
  /** Requester's compressed secp256k1 result key (33 bytes). */
  requesterKey: Uint8Array;
}

/**
 * Re-sharing a stored partition to the committee of the job (new members included) without
 * reconstructing it: the dealers hold the current sharing; every party gets a fresh sharing of
 * the same columns (checked; see Session.reshare). `len` is the row count.
 */
export interface ReshareJob extends JobBase {
  kind: 'reshare';
  len: number;
  /** Party indices (increasing) that hold the current sharing, at least oldT+1. */
  dealers: number[];
  /** Threshold of the current sharing when the re-share changes it (the job's t is the new one). */
  oldT?: number;
  /** Number of columns re-shared (every party knows it). */
  width: number;
  /** At a dealer: its stored shares, `width` columns of `len` rows. */
  columns?: BigUint64Array[];
}

/**
 * A member that cannot take part (e.g. its stored partition failed its integrity check) joins the
 * session only to abort it, so the others fail at once instead of waiting for its messages.
 */
export interface WithdrawJob extends JobBase {
  kind: 'withdraw';
  /** Public reason, e.g. 'PARTITION_CORRUPT'. */
  reason: string;
}

export type JobSpec = SumJob | ArithJob | MulBenchJob | QueryJob | ReshareJob | WithdrawJob;

export type JobResult =
  | { kind: 'sum'; sum: BigUint64Array }
  | { kind: 'arith'; prod: BigUint64Array; lt: BigUint64Array; eq: BigUint64Array }
  | {
      kind: 'mulbench';
      muls: number;
      /** Everything after the random inputs: preprocessing + multiplications + verification. */
      seconds: number;
      /** Preprocessing (double sharings) + multiplications. */
      mulSeconds: number;
      /** Multiplications alone, with preprocessed double sharings. */
      onlineSeconds: number;
      bytesSent: number;
      framesSent: number;
    }
  | {
      kind: 'query';
      /** Canonical hash of the query that ran. */
      hash: string;
      /** This member's result shares, sealed to the requester. */
      box: Uint8Array;
      seconds: number;
      /** Of which: adopting the stored shares (session setup and degree check). */
      adoptSeconds: number;
    }
  | {
      kind: 'reshare';
      /** This party's new shares, column by column in the order dealt. */
      columns: BigUint64Array[];
      seconds: number;
    };

export interface Progress {
  stage: string;
  /** 0..1 */
  fraction: number;
}

export interface EngineWorkerApi {
  /** Runs one job as party `self` of `n` over `port`; progress goes to `onProgress`. */
  run(
    port: MessagePort,
    self: number,
    n: number,
    job: JobSpec,
    onProgress: (p: Progress) => void,
  ): Promise<JobResult>;
  /** Releases a job paused with `pauseAfterInput`. */
  release(session: number): void;
  /** Wall-clock ms the worker spent computing the last field kernel warm-up (sanity check). */
  ping(): number;
}
