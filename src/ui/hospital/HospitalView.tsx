/**
 * Hospital (data owner) dashboard: connect a wallet; upload a CSV (validated and secret-shared in
 * this tab); the owner's datasets with committee health and grants; every query on its data and
 * the full audit log, read from the chain's events.
 */
import { useEffect, useMemo, useState } from 'react';
import type { Address, Hex } from 'viem';
import type { ConfideClient, DatasetInfo } from '../../app/api';
import { confideAbi, QueryStatus } from '../../chain/confide';
import { Alert, Badge, Button, Card, PageHeader, Shell, Table, formatTime, shortHex } from '../kit';
import { AuditLog, useAuditLog, useBlockTimes, type AuditEntry } from '../shared/audit';
import { ChainProvider, WalletGate, type ChainCtx } from '../shared/chain';
import { NetworkStatus } from '../shared/NetworkStatus';
import { useClient, useClientVersion } from '../shared/useClient';
import { Grants } from './Grants';
import { Health } from './Health';
import { Resize } from './Resize';
import { ManualRegister } from './ManualRegister';
import { UploadWizard } from './UploadWizard';

export default function HospitalView() {
  return (
    <Shell>
      <PageHeader
        title="Hospital dashboard"
        description="Share a dataset without handing it over: your browser splits every value into secret shares for a committee of nodes, and you decide who may ask which questions."
      />
      <ChainProvider>
        <WalletGate intro="Your wallet identifies you as the owner of your datasets and signs grants and revocations.">
          {(ctx) => <Hospital ctx={ctx} />}
        </WalletGate>
      </ChainProvider>
    </Shell>
  );
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
    // `key` stands for `registered`.
  }, [key, ctx.pub, ctx.cfg.confide]);
  return active;
}

function Hospital({ ctx }: { ctx: ChainCtx }) {
  const log = useAuditLog(ctx.pub, ctx.cfg.confide);
  const { state, retry } = useClient(ctx);
  const client = state.status === 'ready' ? state.client : undefined;
  const version = useClientVersion(client);
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
      log.entries.filter(
        (e) => e.eventName === 'DatasetRegistered' && String(e.args.owner).toLowerCase() === me,
      ),
    [log.entries, me],
  );
  const mine = useMemo(() => new Set(myDatasets.map((e) => e.args.datasetId as Hex)), [myDatasets]);
  const names = useDatasetNames(client, myDatasets.length);
  const myQueries = new Set(
    log.entries
      .filter((e) => e.eventName === 'QueryRequested' && mine.has(e.args.datasetId as Hex))
      .map((e) => String(e.args.queryId)),
  );
  const myLog = log.entries.filter(
    (e) =>
      mine.has(e.args.datasetId as Hex) ||
      (e.args.queryId !== undefined && myQueries.has(String(e.args.queryId))),
  );
  const [justUploaded, setJustUploaded] = useState<string>();
  void version;
  const nodesOnline = client?.nodes().filter((n) => n.online).length;
  return (
    <>
      <NetworkStatus
        state={state}
        retry={retry}
        {...(nodesOnline !== undefined ? { nodesOnline } : {})}
      />
      <Card
        title="Upload a dataset"
        description="A CSV of patient records, checked row by row before anything is shared."
      >
        <UploadWizard
          client={client}
          onUploaded={(_, name) => {
            setJustUploaded(name);
            log.refresh();
          }}
        />
      </Card>
      <Card
        title="Your datasets"
        description="Each dataset lives as secret shares on its committee; no single node can read it."
        data-testid="my-datasets"
      >
        {justUploaded && <Alert tone="success">“{justUploaded}” was added to your datasets.</Alert>}
        {myDatasets.length === 0 ? (
          <p className="empty">
            {log.loaded
              ? 'No datasets yet. Upload one above.'
              : 'Reading your datasets from the chain…'}
          </p>
        ) : (
          <div className="stack">
            {myDatasets.map((e) => (
              <DatasetPanel
                key={e.args.datasetId as Hex}
                ctx={ctx}
                event={e}
                info={names.get(String(e.args.datasetId).toLowerCase())}
                client={client}
                entries={log.entries}
                onDone={log.refresh}
              />
            ))}
          </div>
        )}
      </Card>
      <Card
        title="Queries on your data"
        description="Every query request on your datasets, from the chain: who asked, when, and what happened."
      >
        <QueriesTable ctx={ctx} entries={myLog} client={client} />
      </Card>
      <Card title="Audit log" description="Every contract event that touches your datasets.">
        <AuditLog pub={ctx.pub} entries={myLog} error={log.error} />
      </Card>
      <details className="disclosure" data-testid="advanced-register">
        <summary>Advanced: register a dataset from storage receipts</summary>
        <ManualRegister ctx={ctx} activeNodes={activeNodes} onDone={log.refresh} />
      </details>
    </>
  );
}

/** Catalog names of datasets (from the network client), by lower-case id. */
function useDatasetNames(client: ConfideClient | undefined, count: number) {
  const [infos, setInfos] = useState<Map<string, DatasetInfo>>(new Map());
  useEffect(() => {
    if (!client) return;
    let live = true;
    client
      .datasets()
      .then((ds) => live && setInfos(new Map(ds.map((d) => [d.datasetId.toLowerCase(), d]))))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client, count]);
  return infos;
}

function DatasetPanel({
  ctx,
  event,
  info,
  client,
  entries,
  onDone,
}: {
  ctx: ChainCtx;
  event: AuditEntry;
  info: DatasetInfo | undefined;
  client: ConfideClient | undefined;
  entries: AuditEntry[];
  onDone(): void;
}) {
  const datasetId = event.args.datasetId as Hex;
  const committee = (event.args.committee as Address[] | undefined) ?? [];
  const name = info && info.name !== datasetId ? info.name : undefined;
  return (
    <section
      className="card-inset stack-sm"
      data-testid={`dataset-${datasetId}`}
      aria-label={`Dataset ${name ?? datasetId}`}
    >
      <div className="spread">
        <div>
          <h3>{name ?? 'Dataset'}</h3>
          <code className="small" title={datasetId}>
            {datasetId}
          </code>
        </div>
        <div className="row-center">
          <Badge>{Number(event.args.rowCount).toLocaleString()} rows</Badge>
          <Badge>
            t = {String(info?.threshold ?? event.args.threshold)} of{' '}
            {info?.committee.length ?? committee.length}
          </Badge>
          {info && info.version > 1 && <Badge tone="info">version {info.version}</Badge>}
        </div>
      </div>
      {client ? (
        <Health client={client} datasetId={datasetId} />
      ) : (
        <p className="small muted">Committee health shows once the network is connected.</p>
      )}
      {client && info && <Resize client={client} datasetId={datasetId} info={info} />}
      <Grants ctx={ctx} datasetId={datasetId} entries={entries} onDone={onDone} />
    </section>
  );
}

function QueriesTable({
  ctx,
  entries,
  client,
}: {
  ctx: ChainCtx;
  entries: AuditEntry[];
  client: ConfideClient | undefined;
}) {
  const timeOf = useBlockTimes(ctx.pub, entries);
  const requests = entries.filter((e) => e.eventName === 'QueryRequested');
  const [texts, setTexts] = useState<Map<string, string>>(new Map());
  const [textsBusy, setTextsBusy] = useState(false);
  const [textsError, setTextsError] = useState<string>();
  /** Asks the committees for the texts (one wallet signature per dataset), checked against the chain. */
  async function loadTexts() {
    if (!client) return;
    setTextsBusy(true);
    setTextsError(undefined);
    try {
      const byDataset = new Map<string, { queryId: bigint; queryHash: Hex }[]>();
      for (const e of requests) {
        const ds = String(e.args.datasetId);
        const list = byDataset.get(ds) ?? [];
        list.push({ queryId: e.args.queryId as bigint, queryHash: e.args.queryHash as Hex });
        byDataset.set(ds, list);
      }
      const next = new Map(texts);
      for (const [ds, qs] of byDataset)
        for (const [id, text] of await client.queryTexts(ds as Hex, qs)) next.set(id, text);
      setTexts(next);
    } catch (e) {
      setTextsError(e instanceof Error ? e.message : String(e));
    } finally {
      setTextsBusy(false);
    }
  }
  const status = new Map<string, { posts: number; done?: 'Completed' | 'Refunded' }>();
  for (const e of entries) {
    const id = String(e.args.queryId);
    const s = status.get(id) ?? { posts: 0 };
    if (e.eventName === 'ResultPosted') s.posts++;
    if (e.eventName === 'QueryCompleted') s.done = 'Completed';
    if (e.eventName === 'QueryRefunded') s.done = 'Refunded';
    status.set(id, s);
  }
  if (requests.length === 0) return <p className="empty">No queries on your data yet.</p>;
  return (
    <div className="stack-sm">
      <div className="row-center">
        <Button
          size="sm"
          busy={textsBusy}
          disabled={!client}
          onClick={() => void loadTexts()}
          data-testid="show-query-texts"
        >
          Show query texts
        </Button>
        <span className="small muted">
          The chain keeps a hash of each query. Committee members keep the texts and hand them to
          you after your wallet signs the request; each is shown only if it matches its hash.
        </span>
      </div>
      {textsError && (
        <Alert tone="warning" next="Check that the dataset's committee is online, then try again.">
          {textsError}
        </Alert>
      )}
      <Table
        caption="Queries on your datasets, newest first"
        captionHidden
        data-testid="owner-queries"
      >
        <thead>
          <tr>
            <th className="num">Query</th>
            <th>Researcher</th>
            <th>Dataset</th>
            <th>Time</th>
            <th>Query</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {[...requests].reverse().map((e) => {
            const id = String(e.args.queryId);
            const s = status.get(id) ?? { posts: 0 };
            const label = s.done ?? (s.posts > 0 ? QueryStatus[2] : QueryStatus[1]);
            const t = timeOf(e.blockNumber);
            return (
              <tr key={id} data-query={id} data-status={label}>
                <td className="num">#{id}</td>
                <td>
                  <code title={String(e.args.researcher)}>
                    {shortHex(String(e.args.researcher), 8, 6)}
                  </code>
                </td>
                <td>
                  <code title={String(e.args.datasetId)}>{shortHex(String(e.args.datasetId))}</code>
                </td>
                <td className="small nowrap">{t === undefined ? '…' : formatTime(t)}</td>
                <td data-testid="query-text-cell">
                  {texts.has(id) ? (
                    <code className="small" title={`hash ${String(e.args.queryHash)} (verified)`}>
                      {texts.get(id)}
                    </code>
                  ) : (
                    <code className="small" title={String(e.args.queryHash)}>
                      hash {shortHex(String(e.args.queryHash), 10, 6)}
                    </code>
                  )}
                </td>
                <td>
                  <Badge
                    tone={
                      label === 'Completed' ? 'success' : label === 'Refunded' ? 'warning' : 'info'
                    }
                  >
                    {label}
                    {s.posts > 0 && !s.done ? ` (${s.posts} shares)` : ''}
                  </Badge>
                </td>
              </tr>
            );
          })}
        </tbody>
      </Table>
    </div>
  );
}
