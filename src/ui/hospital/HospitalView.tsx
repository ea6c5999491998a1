/**
 * Hospital (data owner) dashboard, chain part: connect a wallet, register a dataset (committee of
 * registered nodes, threshold, per-member partition roots from the members' storage receipts),
 * grant and revoke researchers with a policy, and read the audit log of everything on its data.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { useEffect, useMemo, useState } from 'react';
import { bytesToHex, isAddress, type Address, type Hex } from 'viem';
import {
  confideAbi,
  datasetIdFor,
  grantAccess,
  registerDataset,
  revokeAccess,
  QUERY_KINDS,
  type QueryKindName,
} from '../../chain/confide';
import { AuditLog, useAuditLog } from './AuditLog';
import { box, errorText, WalletShell, type ChainCtx } from './WalletShell';

const KIND_NAMES: readonly QueryKindName[] = QUERY_KINDS;

export default function HospitalView() {
  return <WalletShell title="Hospital dashboard">{(ctx) => <Hospital ctx={ctx} />}</WalletShell>;
}

function useActiveNodes(ctx: ChainCtx, registered: Address[]) {
  const [active, setActive] = useState<Address[]>([]);
  const key = registered.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(
      registered.map((id) =>
        ctx.pub.readContract({
          address: ctx.cfg.confide,
          abi: confideAbi,
          functionName: 'getNode',
          args: [id],
        }),
      ),
    )
      .then((ns) => live && setActive(registered.filter((_, i) => ns[i]!.status === 1)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [key, ctx.pub, ctx.cfg.confide]);
  return active;
}

function Hospital({ ctx }: { ctx: ChainCtx }) {
  const log = useAuditLog(ctx.pub, ctx.cfg.confide);
  const me = ctx.account.toLowerCase();
  const registered = useMemo(
    () =>
      log.entries
        .filter((e) => e.eventName === 'NodeRegistered')
        .map((e) => e.args.nodeId as Address),
    [log.entries],
  );
  const activeNodes = useActiveNodes(ctx, registered);
  const myDatasets = useMemo(
    () =>
      log.entries
        .filter(
          (e) => e.eventName === 'DatasetRegistered' && String(e.args.owner).toLowerCase() === me,
        )
        .map((e) => e.args.datasetId as Hex),
    [log.entries, me],
  );
  const mine = useMemo(() => new Set(myDatasets), [myDatasets]);
  const myQueries = new Set(
    log.entries
      .filter((e) => e.eventName === 'QueryRequested' && mine.has(e.args.datasetId as Hex))
      .map((e) => String(e.args.queryId)),
  );
  // Everything on my datasets: registration, re-sharing, grants, queries and their results.
  const myLog = log.entries.filter(
    (e) =>
      mine.has(e.args.datasetId as Hex) ||
      (e.args.queryId !== undefined && myQueries.has(String(e.args.queryId))),
  );
  return (
    <>
      <RegisterDataset ctx={ctx} activeNodes={activeNodes} onDone={log.refresh} />
      <section style={box}>
        <h2>My datasets</h2>
        {myDatasets.length === 0 && <p>None registered yet.</p>}
        {myDatasets.map((id) => (
          <DatasetGrants
            key={id}
            ctx={ctx}
            datasetId={id}
            entries={log.entries}
            onDone={log.refresh}
          />
        ))}
      </section>
      <AuditLog entries={myLog} error={log.error} />
    </>
  );
}

function RegisterDataset({
  ctx,
  activeNodes,
  onDone,
}: {
  ctx: ChainCtx;
  activeNodes: Address[];
  onDone(): void;
}) {
  const [salt, setSalt] = useState('');
  const [schema, setSchema] = useState('{"version":1,"columns":[]}');
  const [rows, setRows] = useState('1000');
  const [excluded, setExcluded] = useState<Set<string>>(new Set());
  const committee = activeNodes.filter((n) => !excluded.has(n)).slice(0, 16);
  const [threshold, setThreshold] = useState('');
  const [roots, setRoots] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const t =
    threshold === '' ? Math.max(1, Math.floor((committee.length - 1) / 2)) : Number(threshold);

  async function submit() {
    setMsg(null);
    const rootList = roots.split(/[\s,]+/).filter(Boolean);
    const problems: string[] = [];
    if (!salt.trim()) problems.push('dataset name: required');
    const rowCount = Number(rows);
    if (!Number.isSafeInteger(rowCount) || rowCount <= 0)
      problems.push(`row count: expected a positive integer, got "${rows}"`);
    if (committee.length < 3)
      problems.push(`committee: need at least 3 active nodes, have ${committee.length}`);
    if (!Number.isInteger(t) || t < 1 || 2 * t >= committee.length)
      problems.push(`threshold: need 1 ≤ t < n/2 with n = ${committee.length}, got ${t}`);
    if (rootList.length !== committee.length)
      problems.push(
        `partition roots: need one per member (${committee.length}), got ${rootList.length}`,
      );
    rootList.forEach((r, i) => {
      if (!/^0x[0-9a-fA-F]{64}$/.test(r))
        problems.push(`partition root ${i + 1}: expected 0x + 64 hex digits, got "${r}"`);
    });
    if (problems.length) return setMsg({ ok: false, text: problems.join('; ') });
    setBusy(true);
    try {
      const wallet = await ctx.wallet();
      const r = await registerDataset(wallet, ctx.pub, ctx.cfg.confide, {
        salt: salt.trim(),
        schemaHash: bytesToHex(sha256(new TextEncoder().encode(schema))),
        rowCount,
        threshold: t,
        committee,
        partitionRoots: rootList as Hex[],
      });
      setMsg({ ok: true, text: `registered dataset ${r.datasetId}` });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section style={box}>
      <h2>Register a dataset</h2>
      <p>
        Dataset id = sha256("confide/dataset/v1" ‖ your address ‖ name):{' '}
        <code data-testid="dataset-id-preview">
          {salt.trim() ? datasetIdFor(ctx.account, salt.trim()) : '—'}
        </code>
      </p>
      <label>
        Name <input data-testid="ds-salt" value={salt} onChange={(e) => setSalt(e.target.value)} />
      </label>{' '}
      <label>
        Rows{' '}
        <input
          data-testid="ds-rows"
          value={rows}
          onChange={(e) => setRows(e.target.value)}
          size={8}
        />
      </label>{' '}
      <label>
        Threshold t{' '}
        <input
          data-testid="ds-threshold"
          value={threshold}
          placeholder={String(t)}
          onChange={(e) => setThreshold(e.target.value)}
          size={3}
        />
      </label>
      <div>
        <label>
          Schema (canonical JSON, hashed with sha256)
          <br />
          <textarea
            data-testid="ds-schema"
            value={schema}
            onChange={(e) => setSchema(e.target.value)}
            rows={2}
            cols={80}
          />
        </label>
      </div>
      <fieldset>
        <legend>Committee (active registered nodes, in member order)</legend>
        {activeNodes.length === 0 && <p>No active nodes registered yet.</p>}
        {activeNodes.map((n) => (
          <label key={n} style={{ display: 'block' }}>
            <input
              type="checkbox"
              checked={!excluded.has(n)}
              onChange={(e) => {
                const next = new Set(excluded);
                if (e.target.checked) next.delete(n);
                else next.add(n);
                setExcluded(next);
              }}
            />{' '}
            <code>{n}</code>
          </label>
        ))}
      </fieldset>
      <label>
        Partition roots (one per member, in the order above; from the members' signed storage
        receipts)
        <br />
        <textarea
          data-testid="ds-roots"
          value={roots}
          onChange={(e) => setRoots(e.target.value)}
          rows={4}
          cols={80}
        />
      </label>
      <div>
        <button data-testid="ds-register" disabled={busy} onClick={() => void submit()}>
          {busy ? 'Registering…' : 'Register dataset'}
        </button>
      </div>
      {msg && (
        <p role={msg.ok ? 'status' : 'alert'} data-testid="ds-message">
          {msg.text}
        </p>
      )}
    </section>
  );
}

function DatasetGrants({
  ctx,
  datasetId,
  entries,
  onDone,
}: {
  ctx: ChainCtx;
  datasetId: Hex;
  entries: ReturnType<typeof useAuditLog>['entries'];
  onDone(): void;
}) {
  const [researcher, setResearcher] = useState('');
  const [kinds, setKinds] = useState<Set<QueryKindName>>(
    new Set<QueryKindName>(['count', 'avg', 'filter', 'group_by']),
  );
  const [minCohort, setMinCohort] = useState('10');
  const [budget, setBudget] = useState('10');
  const [days, setDays] = useState('30');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const grants = new Map<string, { nonce: number; active: boolean }>();
  for (const e of entries) {
    if (e.args.datasetId !== datasetId) continue;
    if (e.eventName === 'GrantIssued')
      grants.set(String(e.args.researcher), { nonce: Number(e.args.nonce), active: true });
    if (e.eventName === 'GrantRevoked')
      grants.set(String(e.args.researcher), { nonce: Number(e.args.nonce), active: false });
  }
  async function run(what: string, fn: () => Promise<unknown>) {
    setBusy(true);
    setMsg(null);
    try {
      await fn();
      setMsg({ ok: true, text: what });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }
  function grant() {
    const problems: string[] = [];
    if (!isAddress(researcher)) problems.push(`researcher: not an address: "${researcher}"`);
    if (kinds.size === 0) problems.push('query kinds: choose at least one');
    for (const [name, v] of [
      ['minimum cohort', minCohort],
      ['budget', budget],
      ['expiry (days)', days],
    ] as const) {
      if (!/^\d+$/.test(v) || (name !== 'minimum cohort' && Number(v) === 0))
        problems.push(`${name}: expected a positive integer, got "${v}"`);
    }
    if (problems.length) return setMsg({ ok: false, text: problems.join('; ') });
    const expiry = BigInt(Math.floor(Date.now() / 1000) + Number(days) * 86_400);
    void run(`granted ${researcher}`, async () =>
      grantAccess(await ctx.wallet(), ctx.pub, ctx.cfg.confide, datasetId, researcher as Address, {
        kinds: [...kinds],
        minCohort: Number(minCohort),
        budget: Number(budget),
        expiry,
      }),
    );
  }
  return (
    <div
      style={{ borderTop: '1px solid #eee', paddingTop: 8 }}
      data-testid={`dataset-${datasetId}`}
    >
      <h3>
        Dataset <code>{datasetId}</code>
      </h3>
      <ul data-testid="grant-list">
        {[...grants].map(([r, g]) => (
          <li key={r}>
            <code>{r}</code> — grant #{g.nonce} {g.active ? 'active' : 'revoked'}{' '}
            {g.active && (
              <button
                disabled={busy}
                onClick={() =>
                  void run(`revoked ${r}`, async () =>
                    revokeAccess(
                      await ctx.wallet(),
                      ctx.pub,
                      ctx.cfg.confide,
                      datasetId,
                      r as Address,
                    ),
                  )
                }
              >
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <label>
        Researcher{' '}
        <input
          data-testid="grant-researcher"
          value={researcher}
          onChange={(e) => setResearcher(e.target.value.trim())}
          size={44}
        />
      </label>
      <div>
        Kinds:{' '}
        {KIND_NAMES.map((k) => (
          <label key={k} style={{ marginRight: 8 }}>
            <input
              type="checkbox"
              checked={kinds.has(k)}
              onChange={(e) => {
                const next = new Set(kinds);
                if (e.target.checked) next.add(k);
                else next.delete(k);
                setKinds(next);
              }}
            />{' '}
            {k}
          </label>
        ))}
      </div>
      <label>
        Min cohort{' '}
        <input
          data-testid="grant-cohort"
          value={minCohort}
          onChange={(e) => setMinCohort(e.target.value)}
          size={5}
        />
      </label>{' '}
      <label>
        Budget (queries){' '}
        <input
          data-testid="grant-budget"
          value={budget}
          onChange={(e) => setBudget(e.target.value)}
          size={5}
        />
      </label>{' '}
      <label>
        Expires in (days){' '}
        <input
          data-testid="grant-days"
          value={days}
          onChange={(e) => setDays(e.target.value)}
          size={4}
        />
      </label>{' '}
      <button data-testid="grant-submit" disabled={busy} onClick={grant}>
        Grant
      </button>
      {msg && (
        <p role={msg.ok ? 'status' : 'alert'} data-testid="grant-message">
          {msg.text}
        </p>
      )}
    </div>
  );
}
