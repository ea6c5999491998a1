/**
 * Researcher workspace: connect a wallet; the datasets granted to this account with their schema
 * and policy; compose a query (builder and text, shared drafts), submit it with the fee shown
 * before signing, follow its progress, read the result as a table or chart and export it; the
 * history of this account's queries (chain events, plus the results this tab received).
 */
import { useEffect, useMemo, useState } from 'react';
import { formatEther, type Hex } from 'viem';
import type { ConfideClient, DatasetInfo } from '../../app/api';
import { confideAbi, kindsOf, QueryStatus } from '../../chain/confide';
import type { DatasetSchema } from '../../query/schema';
import {
  Badge,
  Button,
  Card,
  ErrorAlert,
  PageHeader,
  Shell,
  Table,
  formatTime,
  shortHex,
} from '../kit';
import { AuditLog, useAuditLog, useBlockTimes, type AuditEntry } from '../shared/audit';
import { ChainProvider, WalletGate, type ChainCtx } from '../shared/chain';
import { NetworkStatus } from '../shared/NetworkStatus';
import { useClient, useClientVersion } from '../shared/useClient';
import { ChainRequest } from './ChainRequest';
import { Composer, type GrantedDataset } from './Composer';
import { loadResults, saveResult, type SessionResult } from './history';
import { Results } from './Results';

export default function ResearcherView() {
  return (
    <Shell>
      <PageHeader
        title="Researcher workspace"
        description="Ask aggregate questions of datasets you were granted. The nodes compute on secret shares; only your browser can read the answer."
      />
      <ChainProvider>
        <WalletGate intro="Your wallet identifies you to data owners' grants and pays the fee of each query.">
          {(ctx) => <Researcher ctx={ctx} />}
        </WalletGate>
      </ChainProvider>
    </Shell>
  );
}

interface GrantRow {
  datasetId: Hex;
  kinds: number;
  minCohort: number;
  budget: number;
  used: number;
  expiry: bigint;
  active: boolean;
}

function Researcher({ ctx }: { ctx: ChainCtx }) {
  const log = useAuditLog(ctx.pub, ctx.cfg.confide);
  const { state, retry } = useClient(ctx);
  const client = state.status === 'ready' ? state.client : undefined;
  const version = useClientVersion(client);
  const me = ctx.account.toLowerCase();
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

  const infos = useDatasetInfos(client, grantedIds);
  void version; // re-render on network changes (nodes online)
  const nameOf = (id: Hex) => {
    const n = infos.get(id.toLowerCase())?.name;
    return n && !n.startsWith('0x') ? n : shortHex(id, 10, 6);
  };
  const now = Date.now() / 1000;
  const granted: GrantedDataset[] = grants.map((g) => ({
    datasetId: g.datasetId,
    name: nameOf(g.datasetId),
    kinds: kindsOf(g.kinds),
    minCohort: g.minCohort,
    remaining: g.budget,
    active: g.active && Number(g.expiry) > now,
  }));

  const [results, setResults] = useState<SessionResult[]>(() => loadResults(ctx.account));
  const [shown, setShown] = useState<string>();
  const [shownSchema, setShownSchema] = useState<DatasetSchema>();
  const current = results.find((r) => r.queryId === shown) ?? undefined;

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
  const nodesOnline = client?.nodes().filter((n) => n.online).length;
  return (
    <>
      <NetworkStatus
        state={state}
        retry={retry}
        {...(nodesOnline !== undefined ? { nodesOnline } : {})}
      />
      <Card
        title="Datasets you may query"
        description="Each owner's policy is enforced by the nodes, inside the computation."
      >
        {grants.length === 0 ? (
          <p className="empty">
            {log.loaded
              ? 'No grants yet. Send your address to a data owner and ask for access.'
              : 'Reading your grants from the chain…'}
          </p>
        ) : (
          <ul className="dataset-list" data-testid="my-grants">
            {grants.map((g) => (
              <GrantItem
                key={g.datasetId}
                g={g}
                name={nameOf(g.datasetId)}
                info={infos.get(g.datasetId.toLowerCase())}
                client={client}
              />
            ))}
          </ul>
        )}
      </Card>
      <Card
        title="Compose a query"
        description="Use the builder or write the query; each side follows the other."
      >
        <Composer
          client={client}
          datasets={granted}
          minFee={minFee}
          onResult={(o, datasetName, schema) => {
            const r: SessionResult = {
              queryId: o.queryId.toString(),
              datasetId: o.datasetId,
              datasetName,
              text: o.text,
              result: o.result,
              seconds: o.seconds,
              at: Date.now(),
            };
            setResults(saveResult(ctx.account, r));
            setShown(r.queryId);
            setShownSchema(schema);
            log.refresh();
          }}
        />
      </Card>
      {current && (
        <Card
          title={`Result of query #${current.queryId}`}
          description={`${current.datasetName} · computed in ${current.seconds.toFixed(1)} s`}
          data-testid="result-card"
        >
          <Results
            result={current.result}
            schema={shownSchema}
            fileName={`confide-query-${current.queryId}.csv`}
          />
        </Card>
      )}
      <Card
        title="Your queries"
        description="From the chain; results received in this tab can be opened again."
      >
        <MyQueries
          ctx={ctx}
          entries={log.entries}
          ids={[...myQueries]}
          tick={tick}
          results={results}
          onShow={(id) => {
            setShown(id);
            setShownSchema(undefined);
          }}
        />
      </Card>
      <Card
        title="Your audit log"
        description="Every contract event about your grants and queries."
      >
        <AuditLog pub={ctx.pub} entries={myLog} error={log.error} title="Your audit log" />
      </Card>
      <details className="disclosure" data-testid="advanced-request">
        <summary>Advanced: request a query on chain only</summary>
        <ChainRequest
          ctx={ctx}
          datasets={grants
            .filter((g) => g.active)
            .map((g) => ({ datasetId: g.datasetId, label: nameOf(g.datasetId) }))}
          minFee={minFee}
          onDone={log.refresh}
        />
      </details>
    </>
  );
}

/**
 * Chain facts of the datasets this researcher was granted, with their names: a name comes with the
 * published schema, fetched from a committee member (and checked against the hash on chain).
 */
function useDatasetInfos(client: ConfideClient | undefined, ids: readonly Hex[]) {
  const [infos, setInfos] = useState<Map<string, DatasetInfo>>(new Map());
  // Reloaded when the set of granted datasets changes, not on every chain event.
  const key = ids.map((id) => id.toLowerCase()).join(',');
  useEffect(() => {
    if (!client) return;
    let live = true;
    const wanted = new Set(key.split(','));
    void (async () => {
      const ds = (await client.datasets()).filter((d) => wanted.has(d.datasetId.toLowerCase()));
      const named = await Promise.all(
        ds.map((d) =>
          client.schema(d.datasetId).then(
            (s) => ({ ...d, name: s.name }),
            () => d, // unreachable committee: keep the id; the card explains when opened
          ),
        ),
      );
      if (live) setInfos(new Map(named.map((d) => [d.datasetId.toLowerCase(), d])));
    })().catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client, key]);
  return infos;
}

function GrantItem({
  g,
  name,
  info,
  client,
}: {
  g: GrantRow;
  name: string;
  info: DatasetInfo | undefined;
  client: ConfideClient | undefined;
}) {
  const [open, setOpen] = useState(false);
  const [schema, setSchema] = useState<DatasetSchema>();
  const [noise, setNoise] = useState<number>();
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!open || !client || schema) return;
    let live = true;
    client.schema(g.datasetId).then(
      (s) => live && setSchema(s),
      (e: unknown) => live && setError(e),
    );
    client
      .policy(g.datasetId)
      .then((p) => live && p?.noise && setNoise(p.noise.epsilon))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [open, client, schema, g.datasetId]);
  const expired = Number(g.expiry) < Date.now() / 1000;
  const status = !g.active ? 'revoked' : expired ? 'expired' : 'active';
  return (
    <li className="card-inset stack-sm" data-dataset={g.datasetId}>
      <div className="spread">
        <div>
          <strong>{name}</strong>{' '}
          <Badge tone={status === 'active' ? 'success' : 'warning'}>{status}</Badge>
          <div>
            <code className="small" title={g.datasetId}>
              {shortHex(g.datasetId, 10, 6)}
            </code>
            {info && <span className="small muted"> · {info.rowCount.toLocaleString()} rows</span>}
          </div>
        </div>
        <Button size="sm" variant="ghost" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide columns' : 'Show columns'}
        </Button>
      </div>
      <p className="small">
        Allowed: <span className="mono">{kindsOf(g.kinds).join('/')}</span> · minimum cohort{' '}
        {g.minCohort} · {g.budget} queries left ({g.used} used) · expires {formatTime(g.expiry)}
        {noise !== undefined && ` · differential privacy ε = ${noise}`}
      </p>
      {open && (
        <>
          {!client && <p className="small muted">Columns show once the network is connected.</p>}
          {error !== null && <ErrorAlert error={error} title="Columns unavailable" />}
          {schema && (
            <Table caption={`Columns of ${name}`} captionHidden>
              <thead>
                <tr>
                  <th>Column</th>
                  <th>Type</th>
                  <th>Values</th>
                </tr>
              </thead>
              <tbody>
                {schema.columns.map((c) => (
                  <tr key={c.name}>
                    <td className="mono">{c.name}</td>
                    <td>{c.type.kind}</td>
                    <td className="small">
                      {c.type.kind === 'category'
                        ? c.type.domain.join(', ')
                        : `${String(c.type.min)} to ${String(c.type.max)}${c.type.kind === 'decimal' ? ` (${c.type.scale} decimals)` : ''}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </>
      )}
    </li>
  );
}

function MyQueries({
  ctx,
  entries,
  ids,
  tick,
  results,
  onShow,
}: {
  ctx: ChainCtx;
  entries: AuditEntry[];
  ids: string[];
  tick: number;
  results: SessionResult[];
  onShow(id: string): void;
}) {
  const [rows, setRows] = useState<
    { id: string; status: string; posts: number; fee: bigint; datasetId: Hex }[]
  >([]);
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
              datasetId: q.datasetId,
            })),
          ),
      )
      .catch(() => undefined);
    return () => {
      live = false;
    };
    // `key` stands for `ids`.
  }, [key, ctx, tick]);
  const byId = new Map(results.map((r) => [r.queryId, r]));
  const timeOf = useBlockTimes(ctx.pub, entries);
  const blockOf = new Map(
    entries
      .filter((e) => e.eventName === 'QueryRequested')
      .map((e) => [String(e.args.queryId), e.blockNumber]),
  );
  if (rows.length === 0) return <p className="empty">No queries yet.</p>;
  return (
    <Table caption="Your queries, newest first" captionHidden data-testid="my-queries">
      <thead>
        <tr>
          <th className="num">Query</th>
          <th>Dataset</th>
          <th>Requested</th>
          <th>Status</th>
          <th className="num">Fee</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {[...rows].reverse().map((r) => {
          const res = byId.get(r.id);
          const b = blockOf.get(r.id);
          const t = b === undefined ? undefined : timeOf(b);
          return (
            <tr key={r.id} data-query={r.id} data-status={r.status}>
              <td className="num">#{r.id}</td>
              <td>
                {res ? res.datasetName : <code title={r.datasetId}>{shortHex(r.datasetId)}</code>}
                {res && <div className="mono small muted">{res.text}</div>}
              </td>
              <td className="small nowrap">{t === undefined ? '…' : formatTime(t)}</td>
              <td>
                <Badge
                  tone={
                    r.status === 'Completed'
                      ? 'success'
                      : r.status === 'Refunded'
                        ? 'warning'
                        : 'info'
                  }
                >
                  {r.status}
                </Badge>{' '}
                <span className="small muted">
                  {r.posts} result share{r.posts === 1 ? '' : 's'}
                </span>
              </td>
              <td className="num small">{formatEther(r.fee)} ETH</td>
              <td>
                {res ? (
                  <Button size="sm" variant="ghost" onClick={() => onShow(r.id)}>
                    Show result
                  </Button>
                ) : (
                  <span className="small muted">not in this tab</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
