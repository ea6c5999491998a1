/**
 * The computations a node's worker runs, as plain data (structured-cloneable: typed arrays move
 * with transfer lists). Shared by the worker and the main-thread runtime; imports nothing.
 */
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

export type JobSpec = SumJob | ArithJob | MulBenchJob;

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
