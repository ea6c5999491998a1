import type { ClientState } from './useClient';
import { Alert, Badge, Button, explain } from '../kit';

/** One line about the compute network: connecting, connected (nodes online), or unreachable. */
export function NetworkStatus({
  state,
  retry,
  nodesOnline,
}: {
  state: ClientState;
  retry(): void;
  nodesOnline?: number;
}) {
  if (state.status === 'connecting')
    return (
      <div className="row-center" data-testid="network-status" data-state="connecting">
        <span className="spinner" aria-hidden="true" />
        <span className="small muted">Joining the compute network…</span>
      </div>
    );
  if (state.status === 'ready')
    return (
      <div className="row-center" data-testid="network-status" data-state="ready">
        <Badge tone="success" dot>
          Network connected
        </Badge>
        {nodesOnline !== undefined && (
          <span className="small muted">
            {nodesOnline} node{nodesOnline === 1 ? '' : 's'} online
          </span>
        )}
      </div>
    );
  const e = explain(state.error);
  return (
    <div data-testid="network-status" data-state="error">
      <Alert
        tone="warning"
        title="The compute network is not reachable from this tab"
        next={
          e.next ??
          'Check that the signaling service and some node tabs are running (npm start does both), then retry. Access control and the audit log still work.'
        }
      >
        {e.message}
        <div className="alert-next">
          <Button size="sm" onClick={retry}>
            Retry
          </Button>
        </div>
      </Alert>
    </div>
  );
}
