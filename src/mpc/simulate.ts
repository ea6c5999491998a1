/**
 * Runs n parties in one process over the in-memory network: the harness of the engine's tests,
 * benchmarks and terminal demo. Each party runs `fn` with its own Session; results are settled per
 * party so callers can assert that honest parties agree or all abort.
 */
import { Field } from './field';
import { createMemoryNetwork, type MemoryNetwork, type MemoryNetworkOptions } from './memnet';
import { seededRng, type Rng } from './rng';
import { Party, type Incident } from './runtime';
import { Session } from './session';
import type { Transport } from './transport';

export interface RunOptions extends MemoryNetworkOptions {
  t: number;
  session?: number;
  /** Seeded (insecure) randomness per party, for reproducible tests; default crypto randomness. */
  rngSeed?: number;
  timeoutMs?: number;
  onIncident?: (party: number, incident: Incident) => void;
  /** Wraps a party's transport (tests use this to make a party misbehave). */
  wrapTransport?: (party: number, tr: Transport) => Transport;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

let sharedField: Field | undefined;

export async function runParties<T>(
  n: number,
  opts: RunOptions,
  fn: (s: Session, party: Party, net: MemoryNetwork) => Promise<T>,
): Promise<{ results: Settled<T>[]; net: MemoryNetwork; parties: Party[] }> {
  const net = createMemoryNetwork(n, opts);
  sharedField ??= new Field();
  const field = sharedField;
  const parties = net.transports.map((tr0, i) => {
    const tr = opts.wrapTransport ? opts.wrapTransport(i, tr0) : tr0;
    const rng: Rng | undefined =
      opts.rngSeed === undefined ? undefined : seededRng(opts.rngSeed * 1009 + i);
    return new Party({
      transport: tr,
      t: opts.t,
      session: opts.session ?? 1,
      field,
      ...(rng ? { rng } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.onIncident ? { onIncident: (inc: Incident) => opts.onIncident!(i, inc) } : {}),
    });
  });
  const results = await Promise.all(
    parties.map(async (p): Promise<Settled<T>> => {
      try {
        const s = await Session.create(p);
        return { ok: true, value: await fn(s, p, net) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  for (const p of parties) p.close();
  return { results, net, parties };
}
