/**
 * Node console (`/node`): volunteers this tab as a compute node and shows its node id, its
 * authenticated connections, and the progress of its computations. Configuration comes from the
 * query string (?signaling=ws://…&room=…&ice=[…]) or VITE_SIGNALING_URL / VITE_MESH_ROOM /
 * VITE_ICE_SERVERS. The running node is also reachable as `window.confideNode` (e2e tests drive
 * jobs through it).
 */
import { useEffect, useState } from 'react';
import { NodeRuntime, configFromEnvironment, type NodeSnapshot } from '../../node/runtime';

declare global {
  interface Window {
    confideNode?: NodeRuntime;
  }
}

let shared: { runtime: NodeRuntime; ready: Promise<void> } | undefined;

function useNode(): { runtime: NodeRuntime | undefined; error: string | undefined } {
  const [error, setError] = useState<string>();
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
        (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
      );
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);
  return { runtime, error };
}

function useSnapshot(runtime: NodeRuntime): NodeSnapshot {
  const [snap, setSnap] = useState(() => runtime.snapshot());
  useEffect(() => {
    let pending = false;
    const off = runtime.onChange(() => {
      if (pending) return;
      pending = true;
      // Coalesce bursts of progress events into one render per frame.
      requestAnimationFrame(() => {
        pending = false;
        setSnap(runtime.snapshot());
      });
    });
    const timer = setInterval(() => setSnap(runtime.snapshot()), 1000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [runtime]);
  return snap;
}

const cell = {
  padding: '2px 8px',
  borderBottom: '1px solid #ddd',
  fontFamily: 'ui-monospace, monospace',
  fontSize: 13,
} as const;

export default function NodeView() {
  const { runtime, error } = useNode();
  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 960,
        margin: '1.5rem auto',
        padding: '0 1rem',
      }}
    >
      <h1>Node console</h1>
      {error && (
        <p role="alert" style={{ color: '#b00' }}>
          This node could not start: {error}
        </p>
      )}
      {!runtime && !error && <p>Starting node…</p>}
      {runtime && <NodeDetails runtime={runtime} />}
    </main>
  );
}

function NodeDetails({ runtime }: { runtime: NodeRuntime }) {
  const s = useSnapshot(runtime);
  const up = s.peers.filter((p) => p.state === 'up');
  return (
    <>
      <p>
        Node id: <code data-testid="node-id">{s.id}</code>
        <br />
        Room: <code>{s.room}</code> · <span data-testid="peer-count">{up.length}</span>{' '}
        authenticated connection{up.length === 1 ? '' : 's'}
      </p>
      <h2>Connections</h2>
      <table style={{ borderCollapse: 'collapse' }} data-testid="peers">
        <thead>
          <tr>
            <th style={cell}>node</th>
            <th style={cell}>state</th>
            <th style={cell}>rtt</th>
            <th style={cell}>sent</th>
            <th style={cell}>received</th>
          </tr>
        </thead>
        <tbody>
          {s.peers.map((p) => (
            <tr key={p.signalId}>
              <td style={cell}>{p.key ? `${p.key.slice(0, 16)}…` : `(signal ${p.signalId})`}</td>
              <td style={cell}>{p.state}</td>
              <td style={cell}>{p.rttMs === undefined ? '–' : `${p.rttMs.toFixed(1)} ms`}</td>
              <td style={cell}>{(p.bytesSent / 1e6).toFixed(2)} MB</td>
              <td style={cell}>{(p.bytesReceived / 1e6).toFixed(2)} MB</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Computations</h2>
      {s.jobs.length === 0 && <p>No computation yet.</p>}
      <ul data-testid="jobs" style={{ listStyle: 'none', padding: 0 }}>
        {s.jobs.map((j) => (
          <li key={j.id} data-job={j.id} data-status={j.status} style={{ marginBottom: 8 }}>
            <code>{j.id}</code> {j.kind}: {j.status} ({j.stage}){' '}
            <progress max={1} value={j.fraction} aria-label={`progress of ${j.id}`} />{' '}
            {(j.fraction * 100).toFixed(0)}%
            {j.seconds !== undefined && ` in ${j.seconds.toFixed(2)} s`}
            {j.error && <div style={{ color: '#b00' }}>{j.error}</div>}
          </li>
        ))}
      </ul>
      <h2>Events</h2>
      <pre
        style={{
          fontSize: 12,
          background: '#f6f6f6',
          padding: 8,
          maxHeight: 200,
          overflow: 'auto',
        }}
      >
        {s.events.join('\n') || '–'}
      </pre>
    </>
  );
}
