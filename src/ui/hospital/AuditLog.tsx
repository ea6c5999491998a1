/**
 * The audit log: contract events read back from the chain (polled), filtered by the caller.
 */
import { useEffect, useState } from 'react';
import type { Address, PublicClient } from 'viem';
import { readAuditLog } from '../../chain/confide';
import { box, errorText } from './WalletShell';

export type AuditEntry = Awaited<ReturnType<typeof readAuditLog>>[number];

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'string' && v.length > 20) return `${v.slice(0, 10)}…${v.slice(-6)}`;
  return String(v);
}

export function useAuditLog(pub: PublicClient, address: Address, pollMs = 1500) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    readAuditLog(pub, address)
      .then((e) => live && (setEntries(e), setError(null)))
      .catch((err: unknown) => live && setError(errorText(err)));
    const t = setTimeout(() => setTick((x) => x + 1), pollMs);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [pub, address, pollMs, tick]);
  return { entries, error, refresh: () => setTick((x) => x + 1) };
}

export function AuditLog({
  entries,
  error,
  title = 'Audit log (contract events)',
}: {
  entries: AuditEntry[];
  error: string | null;
  title?: string;
}) {
  return (
    <section style={box}>
      <h2>{title}</h2>
      {error && <p role="alert">{error}</p>}
      {entries.length === 0 && <p>No events yet.</p>}
      <ol data-testid="audit-log" style={{ fontFamily: 'ui-monospace, monospace', fontSize: 13 }}>
        {entries.map((e) => (
          <li
            key={`${e.txHash}-${e.eventName}-${show(e.args.queryId ?? e.args.datasetId ?? '')}-${show(e.args.nodeId ?? e.args.researcher ?? '')}`}
            data-event={e.eventName}
          >
            <strong>{e.eventName}</strong> block {e.blockNumber.toString()}{' '}
            {Object.entries(e.args)
              .map(([k, v]) => `${k}=${show(v)}`)
              .join(' ')}
          </li>
        ))}
      </ol>
    </section>
  );
}
