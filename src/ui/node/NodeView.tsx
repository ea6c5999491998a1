/**
 * Node console (`/node`): volunteers this tab as a compute node and shows its node key, its
 * registration on chain (register with a deposit through the wallet, leave), its authenticated
 * connections, the partitions it stores for dataset committees, the queries it was asked to run,
 * the progress of its computations and its event log. Configuration comes from the query string
 * (?signaling=ws://…&room=…&ice=[…]) or VITE_SIGNALING_URL / VITE_MESH_ROOM / VITE_ICE_SERVERS.
 * The running node is also reachable as `window.confideNode` (e2e tests drive jobs through it).
 */
import { useEffect, useState } from 'react';
import { keyAddress } from '../../chain/keys';
import { NodeRuntime, configFromEnvironment, type NodeSnapshot } from '../../node/runtime';
import {
  Alert,
  Badge,
  Button,
  Card,
  PageHeader,
  Progress,
  Shell,
  Table,
  explain,
  formatTime,
  shortHex,
} from '../kit';
import { ChainProvider } from '../shared/chain';
import { RegisterPanel } from './RegisterPanel';

declare global {
  interface Window {
    confideNode?: NodeRuntime;
  }
}

let shared: { runtime: NodeRuntime; ready: Promise<void> } | undefined;

function useNode(): { runtime: NodeRuntime | undefined; error: unknown } {
  const [error, setError] = useState<unknown>();
  const [runtime, setRuntime] = useState<NodeRuntime>();
  useEffect(() => {
    try {
      if (!shared) {
        const runtime = new NodeRuntime(configFromEnvironment());
        shared = { runtime, ready: runtime.start() };
      }
      const s = shared;
      s.ready.then(
        () => {
          window.confideNode = s.runtime;
          setRuntime(s.runtime);
        },
        (e: unknown) => setError(e),
      );
    } catch (e) {
      setError(e);
    }
  }, []);
  return { runtime, error };
}

/**
 * Renders of the console at most every RENDER_MS: progress events come by the hundred per second
 * during a job, and each render lays the page out again on the thread that also relays the job's
 * frames (layout garbage is swept there too), while a console read by people needs a few per second.
 */
const RENDER_MS = 250;

function useSnapshot(runtime: NodeRuntime): NodeSnapshot {
  const [snap, setSnap] = useState(() => runtime.snapshot());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const render = () => {
      timer = undefined;
      last = performance.now();
      setSnap(runtime.snapshot());
    };
    const off = runtime.onChange(() => {
      if (timer !== undefined) return;
      timer = setTimeout(render, Math.max(0, last + RENDER_MS - performance.now()));
    });
    const tick = setInterval(() => {
      if (timer === undefined) render();
    }, 1000);
    return () => {
      off();
      clearInterval(tick);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [runtime]);
  return snap;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export default function NodeView() {
  const { runtime, error } = useNode();
  return (
    <Shell>
      <PageHeader
        title="Node console"
        description="This tab volunteers as a compute node: it stores random-looking shares for dataset committees and computes its part of each authorised query. It never sees data."
      />
      {error !== undefined && (
        <Alert
          tone="error"
          title="This node could not start"
          next="Check that the signaling service is running (npm start runs it) and that this browser allows IndexedDB and Web Workers, then reload the page."
        >
          {explain(error).message}
        </Alert>
      )}
      {!runtime && error === undefined && (
        <p className="row-center muted" role="status">
          <span className="spinner" aria-hidden="true" /> Starting node: loading its key, the
          compute worker and the peer mesh…
        </p>
      )}
      {runtime && <NodeDetails runtime={runtime} />}
    </Shell>
  );
}

function NodeDetails({ runtime }: { runtime: NodeRuntime }) {
  const s = useSnapshot(runtime);
  const up = s.peers.filter((p) => p.state === 'up');
  const partitions = s.partitions ?? [];
  const queries = s.queries ?? [];
  const stored = partitions.reduce((a, p) => a + p.bytes, 0);
  const running = s.jobs.filter((j) => j.status === 'running').length;
  const nodeAddress = keyAddress(runtime.identity.publicKey);
  const [leaveBusy, setLeaveBusy] = useState(false);
  const reshares = s.reshares ?? [];
  return (
    <div className="stack">
      <Card
        title="This node"
        actions={
          <Badge tone={up.length ? 'success' : 'warning'} dot>
            {up.length ? 'online' : 'waiting for peers'}
          </Badge>
        }
      >
        <div className="grid-2">
          <dl className="kv">
            <dt>Node key</dt>
            <dd>
              <code data-testid="node-id">{s.id}</code>
            </dd>
            <dt>Node id on chain</dt>
            <dd>
              <code>{nodeAddress}</code>
            </dd>
            <dt>Mesh room</dt>
            <dd>
              <code>{s.room}</code>
            </dd>
          </dl>
          <div className="grid-3 node-stats">
            <div className="card-inset">
              <div className="small muted">Connections</div>
              <div className="stat-value">
                <span data-testid="peer-count">{up.length}</span>
              </div>
              <div className="small muted">
                authenticated connection{up.length === 1 ? '' : 's'}
              </div>
            </div>
            <div className="card-inset">
              <div className="small muted">Stored</div>
              <div className="stat-value">{bytes(stored)}</div>
              <div className="small muted">
                {partitions.length} partition{partitions.length === 1 ? '' : 's'}
              </div>
            </div>
            <div className="card-inset">
              <div className="small muted">Computing</div>
              <div className="stat-value">{running}</div>
              <div className="small muted">job{running === 1 ? '' : 's'} running</div>
            </div>
          </div>
        </div>
        <div className="row-center node-actions">
          <Button
            data-testid="node-pause"
            disabled={s.leaving}
            onClick={() => runtime.service.setPaused(!s.paused)}
          >
            {s.paused ? 'Resume taking queries' : 'Pause'}
          </Button>
          <Button
            variant="danger"
            data-testid="node-leave"
            disabled={s.leaving || partitions.length === 0}
            busy={leaveBusy}
            onClick={() => {
              setLeaveBusy(true);
              void runtime.service.leave().finally(() => setLeaveBusy(false));
            }}
          >
            Leave my committees
          </Button>
          <span className="small muted" data-testid="node-mode">
            {s.leaving
              ? 'Leaving: the committees are re-sharing this node’s partitions to other nodes; keep the tab open until the list below is empty.'
              : s.paused
                ? 'Paused: new queries are refused; stored shares are kept and re-sharing goes on.'
                : 'Closing the tab is safe: shares stay in this browser and the node rejoins when you come back. Away for long, its committees re-share its slots to other nodes.'}
          </span>
        </div>
      </Card>

      <Card
        title="Registration and deposit"
        description="Committees only accept nodes registered on chain. The deposit is at stake if this node misbehaves, and returned after it leaves."
      >
        <ChainProvider>
          <RegisterPanel runtime={runtime} nodeAddress={nodeAddress} />
        </ChainProvider>
      </Card>

      <Card
        title="Committees and partitions"
        description="The datasets this node holds a share partition of."
      >
        {partitions.length === 0 ? (
          <p className="empty">
            No partitions yet. A dataset lands here when an owner picks this node for its committee.
          </p>
        ) : (
          <Table caption="Partitions stored by this node" captionHidden data-testid="partitions">
            <thead>
              <tr>
                <th>Dataset</th>
                <th className="num">Member</th>
                <th className="num">Threshold</th>
                <th className="num">Rows</th>
                <th className="num">Columns</th>
                <th className="num">Size</th>
                <th className="num">Version</th>
              </tr>
            </thead>
            <tbody>
              {partitions.map((p) => (
                <tr key={p.datasetId} data-dataset={p.datasetId}>
                  <td>
                    <strong>{p.name}</strong>
                    <div>
                      <code className="small" title={p.datasetId}>
                        {shortHex(p.datasetId, 10, 6)}
                      </code>
                    </div>
                  </td>
                  <td className="num">
                    {p.memberIndex + 1} of {p.committee}
                  </td>
                  <td className="num">{p.threshold}</td>
                  <td className="num">{p.rows.toLocaleString()}</td>
                  <td className="num">{p.columns}</td>
                  <td className="num">{bytes(p.bytes)}</td>
                  <td className="num">{p.version}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>

      {reshares.length > 0 && (
        <Card
          title="Re-sharing"
          description="When a committee member is gone for good, the others hand its slot to a new node without ever reconstructing the data."
        >
          <Table caption="Re-shares this node took part in" captionHidden data-testid="reshares">
            <thead>
              <tr>
                <th>Dataset</th>
                <th className="num">From version</th>
                <th>Replaced members</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {reshares.map((r) => (
                <tr
                  key={`${r.datasetId}@${r.fromVersion}`}
                  data-reshare={r.datasetId}
                  data-state={r.state}
                >
                  <td>
                    <code className="small" title={r.datasetId}>
                      {shortHex(r.datasetId, 10, 6)}
                    </code>
                  </td>
                  <td className="num">{r.fromVersion}</td>
                  <td>{r.slots.map((x) => x + 1).join(', ')}</td>
                  <td>
                    <Badge
                      tone={
                        r.state === 'done' ? 'success' : r.state === 'failed' ? 'danger' : 'info'
                      }
                      dot
                    >
                      {r.state}
                    </Badge>
                    {r.message && <div className="small muted">{r.message}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Card>
      )}

      <div className="grid-2">
        <Card title="Queries" description="Requests this node was asked to run, newest first.">
          {queries.length === 0 ? (
            <p className="empty">No queries yet.</p>
          ) : (
            <Table
              caption="Queries this node was asked to run"
              captionHidden
              data-testid="node-queries"
            >
              <thead>
                <tr>
                  <th className="num">Query</th>
                  <th>State</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {queries.map((q) => (
                  <tr key={`${q.queryId}-${q.at}`} data-query={q.queryId} data-state={q.state}>
                    <td className="num">#{q.queryId}</td>
                    <td>
                      <Badge
                        tone={
                          q.state === 'answered'
                            ? 'success'
                            : q.state === 'refused' || q.state === 'failed'
                              ? 'danger'
                              : 'info'
                        }
                      >
                        {q.state}
                      </Badge>
                      {q.seconds !== undefined && (
                        <span className="small muted"> {q.seconds.toFixed(2)} s</span>
                      )}
                      {q.message && <div className="small muted">{q.message}</div>}
                    </td>
                    <td className="small nowrap">{formatTime(q.at / 1000)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
        <Card title="Computations" description="MPC jobs this node takes part in.">
          {s.jobs.length === 0 && <p className="empty">No computation yet.</p>}
          <ul data-testid="jobs" className="job-list">
            {s.jobs.map((j) => (
              <li key={j.id} data-job={j.id} data-status={j.status}>
                <Progress
                  label={`${j.kind} · ${j.id}`}
                  fraction={j.fraction}
                  tone={
                    j.status === 'failed' ? 'error' : j.status === 'done' ? 'success' : undefined
                  }
                  message={`${j.status} (${j.stage})${j.seconds !== undefined ? ` in ${j.seconds.toFixed(2)} s` : ''}`}
                />
                {j.error && <div className="field-error">{j.error}</div>}
              </li>
            ))}
          </ul>
        </Card>
      </div>

      <Card title="Connections" description="Peers authenticated by their registered node keys.">
        {s.peers.length === 0 ? (
          <p className="empty">No peers yet: waiting for other nodes in this room.</p>
        ) : (
          <Table caption="Peer connections" captionHidden data-testid="peers">
            <thead>
              <tr>
                <th>Node</th>
                <th>State</th>
                <th className="num">Round trip</th>
                <th className="num">Sent</th>
                <th className="num">Received</th>
              </tr>
            </thead>
            <tbody>
              {s.peers.map((p) => (
                <tr key={p.signalId}>
                  <td>
                    <code title={p.key}>
                      {p.key ? `${p.key.slice(0, 16)}…` : `(signal ${p.signalId})`}
                    </code>
                  </td>
                  <td>
                    <Badge tone={p.state === 'up' ? 'success' : 'neutral'} dot>
                      {p.state}
                    </Badge>
                  </td>
                  <td className="num">
                    {p.rttMs === undefined ? '–' : `${p.rttMs.toFixed(1)} ms`}
                  </td>
                  <td className="num">{bytes(p.bytesSent)}</td>
                  <td className="num">{bytes(p.bytesReceived)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>

      <Card title="Events" description="Public facts only: connections, jobs, storage. Never data.">
        <pre className="log" tabIndex={0} aria-label="Node events">
          {s.events.join('\n') || '–'}
        </pre>
      </Card>
    </div>
  );
}
