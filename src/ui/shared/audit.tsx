/**
 * The audit log: contract events read back from the chain (polled), with block times, shown as a
 * table. Each row carries `data-event` with the event name (tests and screen readers alike can
 * find them).
 */
import { useEffect, useRef, useState } from 'react';
import type { Address, PublicClient } from 'viem';
import { readAuditLog } from '../../chain/confide';
import { Badge, ErrorAlert, Table, formatTime, shortHex, type Tone } from '../kit';

export type AuditEntry = Awaited<ReturnType<typeof readAuditLog>>[number];

export function useAuditLog(pub: PublicClient, address: Address, pollMs = 1500) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    readAuditLog(pub, address)
      .then((e) => {
        if (!live) return;
        // Keep the same array when nothing changed, so memoised views do not recompute.
        setEntries((old) => (old.length === e.length ? old : e));
        setError(null);
        setLoaded(true);
      })
      .catch((err: unknown) => live && setError(err));
    const t = setTimeout(() => setTick((x) => x + 1), pollMs);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [pub, address, pollMs, tick]);
  return { entries, error, loaded, refresh: () => setTick((x) => x + 1) };
}

/** Unix timestamps of the blocks that hold `entries` (fetched once per block). */
export function useBlockTimes(pub: PublicClient, entries: readonly AuditEntry[]) {
  const cache = useRef(new Map<bigint, bigint>());
  const [, setVersion] = useState(0);
  useEffect(() => {
    const missing = [...new Set(entries.map((e) => e.blockNumber))].filter(
      (b) => !cache.current.has(b),
    );
    if (missing.length === 0) return;
    let live = true;
    Promise.all(missing.map((b) => pub.getBlock({ blockNumber: b })))
      .then((blocks) => {
        blocks.forEach((b, i) => cache.current.set(missing[i]!, b.timestamp));
        if (live) setVersion((v) => v + 1);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [pub, entries]);
  return (block: bigint): bigint | undefined => cache.current.get(block);
}

const EVENT_LABEL: Record<string, string> = {
  NodeRegistered: 'Node registered',
  NodeKeyUpdated: 'Node key updated',
  NodeLeaveRequested: 'Node leaving',
  NodeExited: 'Node exited',
  NodeSlashed: 'Node slashed',
  DatasetRegistered: 'Dataset registered',
  DatasetReshared: 'Dataset re-shared',
  GrantIssued: 'Access granted',
  GrantRevoked: 'Access revoked',
  QueryRequested: 'Query requested',
  ResultPosted: 'Result share committed',
  QueryCompleted: 'Query completed',
  QueryRefunded: 'Query refunded',
  FeeClaimed: 'Fee claimed',
  SlashRewardClaimed: 'Slash reward claimed',
  Withdrawn: 'Withdrawn',
};

const EVENT_TONE: Record<string, Tone> = {
  GrantRevoked: 'warning',
  NodeSlashed: 'danger',
  QueryRefunded: 'warning',
  QueryCompleted: 'success',
  GrantIssued: 'info',
  DatasetRegistered: 'info',
};

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'string' && v.startsWith('0x') && v.length > 20) return shortHex(v);
  return String(v);
}

/** The parts of an event a person cares about, in words. */
function details(e: AuditEntry): string {
  const a = e.args;
  switch (e.eventName) {
    case 'QueryRequested':
      return `query #${show(a.queryId)} by ${show(a.researcher)} · hash ${show(a.queryHash)}`;
    case 'ResultPosted':
      return `query #${show(a.queryId)} · member ${show(a.memberIndex)} (${show(a.nodeId)})`;
    case 'QueryCompleted':
      return `query #${show(a.queryId)} · ${show(a.postCount)} result shares`;
    case 'QueryRefunded':
      return `query #${show(a.queryId)} · refunded to ${show(a.researcher)}`;
    case 'GrantIssued':
      return `${show(a.researcher)} · grant #${show(a.nonce)} · min cohort ${show(a.minCohort)} · budget ${show(a.budget)} · expires ${formatTime(a.expiry as bigint)}`;
    case 'GrantRevoked':
      return `${show(a.researcher)} · grant #${show(a.nonce)}`;
    case 'DatasetRegistered':
      return `${show(a.datasetId)} · ${show(a.rowCount)} rows · t = ${show(a.threshold)} · committee of ${(a.committee as unknown[] | undefined)?.length ?? '?'}`;
    case 'DatasetReshared':
      return `${show(a.datasetId)} · version ${show(a.version)} · committee of ${(a.committee as unknown[] | undefined)?.length ?? '?'}`;
    default:
      return Object.entries(a)
        .map(([k, v]) => `${k} ${show(v)}`)
        .join(' · ');
  }
}

export function AuditLog({
  pub,
  entries,
  error,
  title = 'Audit log',
}: {
  pub: PublicClient;
  entries: AuditEntry[];
  error: unknown;
  title?: string;
}) {
  const timeOf = useBlockTimes(pub, entries);
  const newestFirst = [...entries].reverse();
  return (
    <div className="stack-sm">
      {error !== null && (
        <ErrorAlert error={error} title="The audit log could not be read from the chain" />
      )}
      {entries.length === 0 ? (
        <p className="empty">No events yet.</p>
      ) : (
        <Table caption={`${title}: contract events, newest first`} data-testid="audit-log">
          <thead>
            <tr>
              <th>Event</th>
              <th>Details</th>
              <th>Time</th>
              <th className="num">Block</th>
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((e) => {
              const t = timeOf(e.blockNumber);
              return (
                <tr
                  key={`${e.txHash}-${e.eventName}-${show(e.args.queryId ?? e.args.datasetId ?? '')}-${show(e.args.nodeId ?? e.args.researcher ?? '')}`}
                  data-event={e.eventName}
                >
                  <td className="nowrap">
                    <Badge tone={EVENT_TONE[e.eventName] ?? 'neutral'}>
                      {EVENT_LABEL[e.eventName] ?? e.eventName}
                    </Badge>
                  </td>
                  <td className="mono small">{details(e)}</td>
                  <td className="nowrap small">{t === undefined ? '…' : formatTime(t)}</td>
                  <td className="num small">{e.blockNumber.toString()}</td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
    </div>
  );
}
