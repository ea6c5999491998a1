/**
 * Committee health of one dataset, as the owner sees it: which members are online, whether each
 * one's partition root matches the chain, and the last re-share.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Hex } from 'viem';
import type { CommitteeHealth, ConfideClient } from '../../app/api';
import { Badge, Button, ErrorAlert, Table, shortHex } from '../kit';

export function Health({ client, datasetId }: { client: ConfideClient; datasetId: Hex }) {
  const [health, setHealth] = useState<CommitteeHealth>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const check = useCallback(() => {
    setBusy(true);
    setError(null);
    client
      .health(datasetId)
      .then(setHealth, setError)
      .finally(() => setBusy(false));
  }, [client, datasetId]);
  useEffect(check, [check]);
  const online = health?.members.filter((m) => m.online).length ?? 0;
  const verified = health?.members.filter((m) => m.verified === true).length ?? 0;
  const bad = health?.members.filter((m) => m.verified === false).length ?? 0;
  return (
    <div className="stack-sm" data-testid={`health-${datasetId}`}>
      <div className="spread">
        <h4>Committee health</h4>
        <Button size="sm" onClick={check} busy={busy} busyLabel="Checking…">
          Check again
        </Button>
      </div>
      {error !== null && <ErrorAlert error={error} title="The committee could not be checked" />}
      {health && (
        <>
          <div className="row-center">
            <Badge tone={online === health.members.length ? 'success' : 'warning'} dot>
              {online} of {health.members.length} online
            </Badge>
            <Badge
              tone={bad ? 'danger' : verified === health.members.length ? 'success' : 'neutral'}
            >
              {verified} of {health.members.length} shares verified
            </Badge>
            <span className="small muted">
              {health.lastReshare
                ? `Last re-share: version ${health.lastReshare.version}, block ${health.lastReshare.block}`
                : 'Never re-shared'}
            </span>
          </div>
          <Table caption="Committee members" captionHidden>
            <thead>
              <tr>
                <th>Member</th>
                <th>Online</th>
                <th>Shares</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {health.members.map((m, i) => (
                <tr key={m.nodeId}>
                  <td>
                    <span className="muted">{i + 1}.</span>{' '}
                    <code title={m.nodeId}>{shortHex(m.nodeId, 8, 6)}</code>
                  </td>
                  <td>
                    <Badge tone={m.online ? 'success' : 'danger'} dot>
                      {m.online ? 'online' : 'offline'}
                    </Badge>
                  </td>
                  <td>
                    {m.verified === true ? (
                      <Badge tone="success">verified</Badge>
                    ) : m.verified === false ? (
                      <Badge tone="danger">does not match the chain</Badge>
                    ) : (
                      <Badge>not checked</Badge>
                    )}
                  </td>
                  <td className="small muted">{m.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          {bad > 0 && (
            <p className="small">
              A member whose shares do not match is ignored in computations; the data stays safe
              while at least t + 1 members are verified.
            </p>
          )}
        </>
      )}
    </div>
  );
}
