/**
 * Benchmark harness shared by every `bench/*.bench.ts` module (format: shared/BENCH.md).
 * Each module exports `benchmarks: Benchmark[]`; `bench/run.ts` runs them.
 */
export interface BenchRecord {
  name: string;
  value: number;
  unit: 'op/s' | 'MB/s' | 's' | 'ms' | 'MiB' | 'gas' | 'B/op' | 'secrets/s';
  baseline?: string;
  ratio?: number;
  reps?: number;
  [param: string]: string | number | undefined;
}

export interface BenchOptions {
  /** Reduced sizes so that all benchmarks finish in under 45 s. */
  quick: boolean;
  /** Progress and logs go here (stderr), never to stdout. */
  log: (msg: string) => void;
}

export interface Benchmark {
  /** Stable dotted name prefix used by `--filter`. */
  name: string;
  run(opts: BenchOptions): Promise<BenchRecord[]>;
}

/** Median of `reps` timed runs after one warm-up run; returns seconds. */
export async function medianSeconds(
  reps: number,
  fn: () => unknown | Promise<unknown>,
): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/** Median of measured values (the upper one of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}
