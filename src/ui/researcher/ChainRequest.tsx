/**
 * Advanced: request a query on chain only (pay the fee, record the query hash and this tab's
 * result key) without sending it to the committee. For operators and tests; the composer above
 * does the whole round trip.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { useMemo, useState } from 'react';
import { bytesToHex, formatEther, parseEther, type Hex } from 'viem';
import { chainQueryHash, requestQuery, QUERY_KINDS, type QueryKindName } from '../../chain/confide';
import { queryHash } from '../../query/canonical';
import { Alert, Button, CheckGroup, Field, explainText } from '../kit';
import type { ChainCtx } from '../shared/chain';

export function ChainRequest({
  ctx,
  datasets,
  minFee,
  onDone,
}: {
  ctx: ChainCtx;
  datasets: { datasetId: Hex; label: string }[];
  minFee: bigint | null;
  onDone(): void;
}) {
  // The result-encryption key lives only in this tab's memory.
  const [encSecret] = useState(() => secp256k1.utils.randomSecretKey());
  const encKey = useMemo(() => bytesToHex(secp256k1.getPublicKey(encSecret, true)), [encSecret]);
  const [datasetId, setDatasetId] = useState('');
  const [text, setText] = useState('SELECT COUNT(*) FROM ds WHERE age >= 60');
  const [kinds, setKinds] = useState<Set<QueryKindName>>(
    new Set<QueryKindName>(['count', 'filter']),
  );
  const [fee, setFee] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const ds = datasetId || datasets[0]?.datasetId || '';
  const feeText = fee || (minFee !== null ? formatEther(minFee) : '');
  async function submit() {
    setMsg(null);
    let hash: Hex;
    try {
      hash = chainQueryHash(queryHash(text).hash);
    } catch (err) {
      return setMsg({ ok: false, text: `query: ${explainText(err)}` });
    }
    let value: bigint;
    try {
      value = parseEther(feeText);
    } catch {
      return setMsg({ ok: false, text: `fee: not an amount of ETH: "${feeText}"` });
    }
    if (!ds) return setMsg({ ok: false, text: 'dataset: no active grant to query' });
    setBusy(true);
    try {
      const r = await requestQuery(await ctx.wallet(), ctx.pub, ctx.cfg.confide, {
        datasetId: ds as Hex,
        queryHash: hash,
        kinds: [...kinds],
        encKey,
        fee: value,
      });
      setMsg({ ok: true, text: `requested query #${r.queryId} (hash ${hash})` });
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: explainText(err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="stack-sm">
      <p className="small muted">
        Result encryption key (generated in this tab, never leaves it):{' '}
        <code data-testid="enc-key">{encKey}</code>
      </p>
      <div className="grid-2">
        <Field label="Dataset">
          <select
            className="select"
            data-testid="q-dataset"
            value={ds}
            onChange={(e) => setDatasetId(e.target.value)}
          >
            {datasets.map((g) => (
              <option key={g.datasetId} value={g.datasetId}>
                {g.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Fee (ETH)">
          <input
            className="input"
            data-testid="q-fee"
            value={feeText}
            onChange={(e) => setFee(e.target.value)}
          />
        </Field>
      </div>
      <CheckGroup
        legend="Query kinds this query uses (declared on chain; nodes refuse anything else)"
        options={QUERY_KINDS}
        value={kinds}
        onChange={setKinds}
        data-testid="q-kinds"
      />
      <Field label="Query text">
        <textarea
          className="textarea"
          data-testid="q-text"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={3}
        />
      </Field>
      <div>
        <Button
          variant="primary"
          data-testid="q-submit"
          busy={busy}
          busyLabel="Submitting…"
          onClick={() => void submit()}
        >
          Request on chain and pay the fee
        </Button>
      </div>
      {msg && (
        <Alert tone={msg.ok ? 'success' : 'error'}>
          <span data-testid="q-message">{msg.text}</span>
        </Alert>
      )}
    </div>
  );
}
