/**
 * The owner changes a dataset's committee size: the wallet signs the request, the members
 * re-share (growth adds the closest registered nodes, shrinking drops the highest slots) without
 * reconstructing anything, and the chain records the new committee.
 */
import { useState } from 'react';
import type { Hex } from 'viem';
import type { ConfideClient, DatasetInfo } from '../../app/api';
import { Alert, Button, Field, explainText } from '../kit';

export function Resize({
  client,
  datasetId,
  info,
}: {
  client: ConfideClient;
  datasetId: Hex;
  info: DatasetInfo;
}) {
  const [size, setSize] = useState(String(info.committee.length));
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const min = 2 * info.threshold + 1;
  async function run() {
    const n = Number(size);
    if (!Number.isInteger(n) || n < min || n > 16)
      return setMsg({
        ok: false,
        text: `With t = ${info.threshold}, a committee needs between ${min} and 16 members.`,
      });
    setBusy(true);
    setMsg(undefined);
    try {
      const next = await client.resizeCommittee(datasetId, n, (text) => setMsg({ ok: true, text }));
      setMsg({
        ok: true,
        text: `Re-shared: version ${next.version}, ${next.committee.length} members.`,
      });
    } catch (e) {
      setMsg({ ok: false, text: explainText(e) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="stack-sm">
      <div className="row">
        <Field
          label="Committee size"
          hint={`Members holding shares (t = ${info.threshold} stays; ${min}–16).`}
        >
          <input
            className="input"
            inputMode="numeric"
            value={size}
            onChange={(e) => setSize(e.target.value)}
            data-testid="resize-size"
          />
        </Field>
        <Button
          busy={busy}
          busyLabel="Re-sharing…"
          disabled={Number(size) === info.committee.length}
          onClick={() => void run()}
          data-testid="resize-submit"
        >
          Re-share to this size
        </Button>
      </div>
      {msg && (
        <Alert tone={msg.ok ? 'info' : 'error'} data-testid="resize-message">
          {msg.text}
        </Alert>
      )}
    </div>
  );
}
