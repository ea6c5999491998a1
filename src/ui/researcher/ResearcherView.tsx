/**
 * Researcher view, chain part: connect a wallet, see the datasets granted to this account with
 * their policy, request a query (the on-chain hash is the query layer's sha256 of the canonical
 * text) paying the fee, with a result-encryption key generated in this tab, and follow the
 * queries' events.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { useEffect, useMemo, useState } from 'react';
import { bytesToHex, formatEther, parseEther, type Hex } from 'viem';
import {
  chainQueryHash,
  confideAbi,
  kindsOf,
  QueryStatus,
  requestQuery,
  QUERY_KINDS,
  type QueryKindName,
} from '../../chain/confide';
import { queryHash } from '../../query';
import { AuditLog, useAuditLog } from '../hospital/AuditLog';
import { box, errorText, WalletShell, type ChainCtx } from '../hospital/WalletShell';

const KIND_NAMES: readonly QueryKindName[] = QUERY_KINDS;

export default function ResearcherView() {
  return <WalletShell title="Researcher">{(ctx) => <Researcher ctx={ctx} />}</WalletShell>;
}

interface GrantRow {
  datasetId: Hex;
  kinds: number;
  minCohort: number;
  budget: number;
  expiry: bigint;
  active: boolean;
}

function Researcher({ ctx }: { ctx: ChainCtx }) {
  const log = useAuditLog(ctx.pub, ctx.cfg.confide);
  const me = ctx.account.toLowerCase();
  // The result-encryption key lives only in this tab's memory: only this browser can decrypt.
  const [encSecret] = useState(() => secp256k1.utils.randomSecretKey());
  const encKey = useMemo(() => bytesToHex(secp256k1.getPublicKey(encSecret, true)), [encSecret]);
  const grantedIds = useMemo(
    () => [
      ...new Set(
        log.entries
          .filter(
            (e) => e.eventName === 'GrantIssued' && String(e.args.researcher).toLowerCase() === me,
          )
          .map((e) => e.args.datasetId as Hex),
      ),
    ],
    [log.entries, me],
  );
  const [grants, setGrants] = useState<GrantRow[]>([]);
  const [minFee, setMinFee] = useState<bigint | null>(null);
  const tick = log.entries.length;
  useEffect(() => {
    let live = true;
    Promise.all(
      grantedIds.map((id) =>
        ctx.pub.readContract({
          address: ctx.cfg.confide,
          abi: confideAbi,
          functionName: 'getGrant',
          args: [id, ctx.account],
        }),
      ),
    )
      .then((gs) => live && setGrants(gs.map((g, i) => ({ datasetId: grantedIds[i]!, ...g }))))
      .catch(() => undefined);
    ctx.pub
      .readContract({ address: ctx.cfg.confide, abi: confideAbi, functionName: 'minFee' })
      .then((f) => live && setMinFee(f))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [grantedIds, ctx, tick]);
  const myQueries = useMemo(
    () =>
      new Set(
        log.entries
          .filter(
            (e) =>
              e.eventName === 'QueryRequested' && String(e.args.researcher).toLowerCase() === me,
          )
          .map((e) => String(e.args.queryId)),
      ),
    [log.entries, me],
  );
  const myLog = log.entries.filter(
    (e) =>
      String(e.args.researcher ?? '').toLowerCase() === me ||
      (e.args.queryId !== undefined && myQueries.has(String(e.args.queryId))),
  );
  return (
    <>
      <p>
        Result encryption key (generated in this tab, never leaves it):{' '}
        <code data-testid="enc-key">{encKey}</code>
      </p>
      <section style={box}>
        <h2>Datasets granted to me</h2>
        {grants.length === 0 && <p>No grants yet.</p>}
        <ul data-testid="my-grants">
          {grants.map((g) => (
            <li key={g.datasetId} data-dataset={g.datasetId}>
              <code>{g.datasetId}</code> — {g.active ? 'active' : 'revoked'}, kinds{' '}
              {kindsOf(g.kinds).join('/')}, min cohort {g.minCohort}, {g.budget} queries left,
              expires {new Date(Number(g.expiry) * 1000).toISOString()}
            </li>
          ))}
        </ul>
      </section>
      <RequestQuery
        ctx={ctx}
        grants={grants.filter((g) => g.active)}
        encKey={encKey}
        minFee={minFee}
        onDone={log.refresh}
      />
      <MyQueries ctx={ctx} ids={[...myQueries]} tick={tick} />
      <AuditLog entries={myLog} error={log.error} title="My audit log" />
    </>
  );
}

function RequestQuery({
  ctx,
  grants,
  encKey,
  minFee,
  onDone,
}: {
  ctx: ChainCtx;
  grants: GrantRow[];
  encKey: Hex;
  minFee: bigint | null;
  onDone(): void;
}) {
  const [datasetId, setDatasetId] = useState<string>('');
  const [text, setText] = useState('SELECT COUNT(*) FROM ds WHERE age >= 60');
  const [kinds, setKinds] = useState<Set<QueryKindName>>(
    new Set<QueryKindName>(['count', 'filter']),
  );
  const [fee, setFee] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const ds = datasetId || grants[0]?.datasetId || '';
  const feeText = fee || (minFee !== null ? formatEther(minFee) : '');
  async function submit() {
    setMsg(null);
    let hash: Hex;
    try {
      hash = chainQueryHash(queryHash(text).hash);
    } catch (err) {
      return setMsg({ ok: false, text: `query: ${errorText(err)}` });
    }
    let value: bigint;
    try {
      value = parseEther(feeText);
    } catch {
      return setMsg({ ok: false, text: `fee: not an amount of ETH: "${feeText}"` });
    }
    if (!ds) return setMsg({ ok: false, text: 'dataset: no active grant to query' });
    setBusy(true);
    try {
      const r = await requestQuery(await ctx.wallet(), ctx.pub, ctx.cfg.confide, {
        datasetId: ds as Hex,
        queryHash: hash,
        kinds: [...kinds],
        encKey,
        fee: value,
      });
      setMsg({ ok: true, text: `requested query #${r.queryId} (hash ${hash})` });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <section style={box}>
      <h2>Request a query</h2>
      <label>
        Dataset{' '}
        <select data-testid="q-dataset" value={ds} onChange={(e) => setDatasetId(e.target.value)}>
          {grants.map((g) => (
            <option key={g.datasetId} value={g.datasetId}>
              {g.datasetId}
            </option>
          ))}
        </select>
      </label>{' '}
      <fieldset data-testid="q-kinds">
        <legend>Query kinds this query uses (declared on chain; nodes refuse anything else)</legend>
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
      </fieldset>
      <label>
        Fee (ETH){' '}
        <input
          data-testid="q-fee"
          value={feeText}
          onChange={(e) => setFee(e.target.value)}
          size={10}
        />
      </label>
      <div>
        <textarea
          data-testid="q-text"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={3}
          cols={80}
        />
      </div>
      <button data-testid="q-submit" disabled={busy} onClick={() => void submit()}>
        {busy ? 'Submitting…' : 'Submit query and pay the fee'}
      </button>
      {msg && (
        <p role={msg.ok ? 'status' : 'alert'} data-testid="q-message">
          {msg.text}
        </p>
      )}
    </section>
  );
}

function MyQueries({ ctx, ids, tick }: { ctx: ChainCtx; ids: string[]; tick: number }) {
  const [rows, setRows] = useState<{ id: string; status: string; posts: number; fee: bigint }[]>(
    [],
  );
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(
      ids.map((id) =>
        ctx.pub.readContract({
          address: ctx.cfg.confide,
          abi: confideAbi,
          functionName: 'getQuery',
          args: [BigInt(id)],
        }),
      ),
    )
      .then(
        (qs) =>
          live &&
          setRows(
            qs.map((q, i) => ({
              id: ids[i]!,
              status: QueryStatus[q.status] ?? '?',
              posts: q.postCount,
              fee: q.fee,
            })),
          ),
      )
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [key, ctx, tick]);
  return (
    <section style={box}>
      <h2>My queries</h2>
      {rows.length === 0 && <p>None yet.</p>}
      <ul data-testid="my-queries">
        {rows.map((r) => (
          <li key={r.id} data-query={r.id} data-status={r.status}>
            #{r.id}: {r.status}, {r.posts} result commitment(s), fee {formatEther(r.fee)} ETH
          </li>
        ))}
      </ul>
    </section>
  );
}
