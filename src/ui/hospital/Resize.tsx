/**
 * The owner changes a dataset's committee size or threshold: the wallet signs the request, the
 * members re-share (growth adds the closest registered nodes, shrinking drops the highest slots)
 * without reconstructing anything, and the chain records the new committee.
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
  const [threshold, setThreshold] = useState(String(info.threshold));
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const t = Number(threshold);
  const min = 2 * (Number.isInteger(t) && t >= 1 ? t : info.threshold) + 1;
  const unchanged = Number(size) === info.committee.length && t === info.threshold;
  async function run() {
    const n = Number(size);
    if (!Number.isInteger(t) || t < 1)
      return setMsg({ ok: false, text: 'The threshold must be a whole number of at least 1.' });
    if (!Number.isInteger(n) || n < min || n > 16)
      return setMsg({
        ok: false,
        text: `With t = ${t}, a committee needs between ${min} and 16 members.`,
      });
    setBusy(true);
    setMsg(undefined);
    try {
      const next = await client.resizeCommittee(
        datasetId,
        n,
        (text) => setMsg({ ok: true, text }),
        t,
      );
      setMsg({
        ok: true,
        text: `Re-shared: version ${next.version}, ${next.committee.length} members, t = ${next.threshold}.`,
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
          hint={`Members holding shares (${min}–16 for this threshold).`}
        >
          <input
            className="input"
            inputMode="numeric"
            value={size}
            onChange={(e) => setSize(e.target.value)}
            data-testid="resize-size"
          />
        </Field>
        <Field
          label="Threshold t"
          hint="Any t+1 members can compute; t of them learn nothing. Lowering it weakens privacy."
        >
          <input
            className="input"
            inputMode="numeric"
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
            data-testid="resize-threshold"
          />
        </Field>
        <Button
          busy={busy}
          busyLabel="Re-sharing…"
          disabled={unchanged}
          onClick={() => void run()}
          data-testid="resize-submit"
        >
          Re-share
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
