/**
 * The MPC engine in a Web Worker, exposed with comlink. The main thread only orchestrates: it
 * hands over a MessagePort bridged to the mesh (see port-transport.ts) and a job; all share
 * arithmetic and protocol logic run here, off the UI thread. Imports the engine, the (pure) query
 * compiler and comlink: no DOM, network or storage.
 */
import * as Comlink from 'comlink';
import { Field, Party, Session, vecFrom, MpcError, type Operand } from '../src/mpc/index';
import { answerQuery, prepareAnswer } from '../src/query/answer';
import { adoptStored } from '../src/query/stored';
import type { EngineWorkerApi, JobResult, JobSpec, Progress } from './jobs';
import { PortTransport } from './port-transport';

let field: Field | undefined;
const RESHARE_GROUP_CELLS = 1 << 20;
const paused = new Map<number, () => void>();
const earlyRelease = new Set<number>();

function checkJob(self: number, n: number, job: JobSpec) {
  const bad = (m: string) => new MpcError('ERR_PARAM', `worker.run: ${m}`);
  if (!Number.isInteger(n) || n < 2 || n > 64) throw bad(`n must be 2..64, got ${n}`);
  if (!Number.isInteger(self) || self < 0 || self >= n)
    throw bad(`self must be 0..${n - 1}, got ${self}`);
  if (job.kind === 'withdraw') {
    if (typeof job.reason !== 'string') throw bad('a withdrawal needs a reason');
    return;
  }
  if (!Number.isInteger(job.len) || job.len < 1 || job.len > 1 << 24)
    throw bad(`len must be 1..2^24, got ${job.len}`);
  if (job.kind === 'sum' && (!(job.input instanceof Uint32Array) || job.input.length !== job.len))
    throw bad(`sum input must be a Uint32Array of length ${job.len}`);
  if (job.kind === 'arith') {
    for (const [d, v, name] of [
      [job.dealerX, job.x, 'x'],
      [job.dealerY, job.y, 'y'],
    ] as const) {
      if (!Number.isInteger(d) || d < 0 || d >= n)
        throw bad(`dealer of ${name} must be 0..${n - 1}`);
      if (d === self && (!(v instanceof Uint32Array) || v.length !== job.len))
        throw bad(`${name} must be a Uint32Array of length ${job.len} at its dealer`);
    }
  }
  if (job.kind === 'query') {
    for (const c of job.columns)
      if (!(c.shares instanceof BigUint64Array) || c.shares.length !== job.len)
        throw bad(`query column ${c.index} must be a BigUint64Array of length ${job.len}`);
    for (const c of job.bitColumns ?? [])
      if (
        !Number.isInteger(c.index) ||
        !Array.isArray(c.bits) ||
        c.bits.length === 0 ||
        c.bits.some((b) => !(b instanceof BigUint64Array) || b.length !== job.len)
      )
        throw bad(`query bit column ${c.index} must be BigUint64Arrays of length ${job.len}`);
    if (!(job.requesterKey instanceof Uint8Array) || job.requesterKey.length !== 33)
      throw bad('query requester key must be 33 bytes');
  }
  if (job.kind === 'reshare') {
    const ds = job.dealers;
    if (
      !Array.isArray(ds) ||
      ds.some((d, i) => !Number.isInteger(d) || d < 0 || d >= n || (i > 0 && d <= ds[i - 1]!))
    )
      throw bad(`reshare dealers must be increasing party indices 0..${n - 1}`);
    if (!Number.isInteger(job.width) || job.width < 1 || job.width > 4096)
      throw bad(`reshare width must be 1..4096, got ${job.width}`);
    if (
      ds.includes(self) &&
      (!Array.isArray(job.columns) ||
        job.columns.length !== job.width ||
        job.columns.some((c) => !(c instanceof BigUint64Array) || c.length !== job.len))
    )
      throw bad(`a reshare dealer must pass ${job.width} BigUint64Arrays of length ${job.len}`);
  }
  if (
    job.kind === 'mulbench' &&
    (!Number.isInteger(job.rounds) || job.rounds < 1 || job.rounds > 10_000)
  )
    throw bad('rounds must be 1..10000');
}

async function runJob(
  port: MessagePort,
  self: number,
  n: number,
  job: JobSpec,
  onProgress: (p: Progress) => void,
): Promise<JobResult> {
  checkJob(self, n, job);
  field ??= new Field();
  const transport = new PortTransport(port, self, n);
  const party = new Party({
    transport,
    t: job.t,
    session: job.session,
    field,
    ...(job.timeoutMs ? { timeoutMs: job.timeoutMs } : {}),
  });
  const progress = (stage: string, fraction: number) => void onProgress({ stage, fraction });
  if (job.kind === 'withdraw') {
    // Tell every peer, then stop: nobody waits for this party's messages until a timeout.
    const err = party.abort(
      new MpcError('ERR_ABORTED', `party ${self} withdrew: ${job.reason.slice(0, 80)}`),
    );
    party.close();
    transport.close();
    throw err;
  }
  try {
    progress('setup', 0);
    const s = await Session.create(party);
    switch (job.kind) {
      case 'sum': {
        let acc = undefined as Awaited<ReturnType<Session['input']>> | undefined;
        for (let d = 0; d < n; d++) {
          const x = await s.input(d, d === self ? vecFrom(job.input) : undefined, job.len);
          acc = acc ? s.add(acc, x) : x;
          progress('inputs', (d + 1) / (n + 1));
        }
        if (job.pauseAfterInput && !earlyRelease.delete(job.session)) {
          progress('paused', n / (n + 1));
          await new Promise<void>((r) => paused.set(job.session, r));
        }
        // `final`: verification opens the MAC key, so t+1 live parties suffice to finish.
        const sum = await s.open(acc!, { final: true });
        progress('done', 1);
        return { kind: 'sum', sum };
      }
      case 'arith': {
        const x = await s.input(
          job.dealerX,
          self === job.dealerX ? vecFrom(job.x!) : undefined,
          job.len,
        );
        const y = await s.input(
          job.dealerY,
          self === job.dealerY ? vecFrom(job.y!) : undefined,
          job.len,
        );
        progress('inputs', 0.2);
        const prod = await s.mul(x, y);
        progress('mul', 0.4);
        const lt = await s.lt(x, y);
        progress('lt', 0.7);
        const eq = await s.eq(x, y);
        progress('eq', 0.9);
        const out = await s.open(s.concat([prod, lt, eq]));
        progress('done', 1);
        const L = job.len;
        return {
          kind: 'arith',
          prod: out.slice(0, L),
          lt: out.slice(L, 2 * L),
          eq: out.slice(2 * L, 3 * L),
        };
      }
      case 'query': {
        const t0 = performance.now();
        // Refuses (before any communication) a text that is not the authorised one or that the
        // grant's policy does not allow; every member decides the same from the same chain state.
        const plan = prepareAnswer(job);
        const rows = job.len;
        const byIndex = new Map(job.columns.map((c) => [c.index, c.shares]));
        const columns = plan.columns.map((c) => {
          const shares = byIndex.get(c.index);
          if (!shares)
            throw new MpcError('ERR_PARAM', `worker.run: query column ${c.index} missing`);
          return { index: c.index, shares };
        });
        const adopted = await adoptStored(s, rows, {
          columns,
          bitColumns: job.bitColumns ?? [],
        });
        const adoptSeconds = (performance.now() - t0) / 1000;
        const shared: Map<number, Operand> = adopted.columns;
        const bits = adopted.bits;
        // COUNT(*) without a filter reads no column: a public vector of the row count's length.
        if (!columns.length) shared.set(-1, s.constant(new BigUint64Array(rows)));
        progress('computing', 0.3);
        const out = await answerQuery(s, {
          text: job.text,
          authorisedHash: job.authorisedHash,
          schema: job.schema,
          policy: job.policy,
          columns: shared,
          ...(bits.size ? { bits } : {}),
          requesterPublicKey: job.requesterKey,
        });
        progress('done', 1);
        return {
          kind: 'query',
          hash: out.hash,
          box: out.box,
          seconds: (performance.now() - t0) / 1000,
          adoptSeconds,
        };
      }
      case 'reshare': {
        const t0 = performance.now();
        const L = job.len;
        const dealing = job.dealers.includes(self);
        // Columns in groups of about a million cells: bounded memory, few rounds.
        const per = Math.max(1, Math.floor(RESHARE_GROUP_CELLS / L));
        const out: BigUint64Array[] = [];
        for (let c0 = 0; c0 < job.width; c0 += per) {
          const g = Math.min(per, job.width - c0);
          let cat: BigUint64Array | undefined;
          if (dealing) {
            cat = new BigUint64Array(g * L);
            for (let j = 0; j < g; j++) {
              const col = job.columns![c0 + j]!;
              cat.set(col, j * L);
              col.fill(0n);
            }
          }
          const fresh = await s.reshare(job.dealers, cat, g * L, job.oldT ?? job.t);
          cat?.fill(0n);
          for (let j = 0; j < g; j++) out.push(fresh.slice(j * L, (j + 1) * L));
          fresh.fill(0n);
          progress('re-sharing', (0.9 * (c0 + g)) / job.width);
        }
        // The masks came from preprocessing whose degree check is deferred: run it before keeping.
        await s.verify();
        progress('done', 1);
        return { kind: 'reshare', columns: out, seconds: (performance.now() - t0) / 1000 };
      }
      case 'mulbench': {
        let a = await s.random(job.len);
        const b = await s.random(job.len);
        const sent0 = party.stats.bytesSent;
        const frames0 = party.stats.framesSent;
        let prepSeconds = 0;
        let onlineSeconds = 0;
        for (let r = 0; r < job.rounds; r++) {
          // Double sharings for this round (x·y and the MAC-ed product: 2·len), timed apart.
          const t0 = performance.now();
          await s.prepareDoubles(2 * job.len);
          const t1 = performance.now();
          a = await s.mul(a, b);
          prepSeconds += (t1 - t0) / 1000;
          onlineSeconds += (performance.now() - t1) / 1000;
          progress(
            `mul round ${r + 1}/${job.rounds}`,
            (r + 1) / (job.rounds + (job.verify ? 1 : 0)),
          );
        }
        const tv = performance.now();
        if (job.verify) await s.open(s.sumAll(a));
        const verifySeconds = (performance.now() - tv) / 1000;
        progress('done', 1);
        return {
          kind: 'mulbench',
          muls: job.len * job.rounds,
          seconds: prepSeconds + onlineSeconds + verifySeconds,
          mulSeconds: prepSeconds + onlineSeconds,
          onlineSeconds,
          bytesSent: party.stats.bytesSent - sent0,
          framesSent: party.stats.framesSent - frames0,
        };
      }
    }
  } finally {
    paused.delete(job.session);
    party.close();
    transport.close();
  }
}

const api: EngineWorkerApi = {
  run: runJob,
  release(session: number) {
    const r = paused.get(session);
    if (r) r();
    else earlyRelease.add(session);
  },
  ping() {
    const t0 = performance.now();
    field ??= new Field();
    return performance.now() - t0;
  },
};

Comlink.expose(api);
