/**
 * Advanced: register a dataset whose shares the committee already holds, from the members'
 * signed storage receipts (partition roots). The upload wizard does all of this automatically;
 * this panel stays for operators recovering from a partial upload and for tests.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { useState } from 'react';
import { bytesToHex, type Address, type Hex } from 'viem';
import { datasetIdFor, registerDataset } from '../../chain/confide';
import { Alert, Button, CheckGroup, Field, explainText } from '../kit';
import type { ChainCtx } from '../shared/chain';

export function ManualRegister({
  ctx,
  activeNodes,
  onDone,
}: {
  ctx: ChainCtx;
  activeNodes: Address[];
  onDone(): void;
}) {
  const [salt, setSalt] = useState('');
  const [schema, setSchema] = useState('{"version":1,"columns":[]}');
  const [rows, setRows] = useState('1000');
  const [excluded, setExcluded] = useState<Set<Address>>(new Set());
  const committee = activeNodes.filter((n) => !excluded.has(n)).slice(0, 16);
  const [threshold, setThreshold] = useState('');
  const [roots, setRoots] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const t =
    threshold === '' ? Math.max(1, Math.floor((committee.length - 1) / 2)) : Number(threshold);

  async function submit() {
    setMsg(null);
    const rootList = roots.split(/[\s,]+/).filter(Boolean);
    const problems: string[] = [];
    if (!salt.trim()) problems.push('dataset name: required');
    const rowCount = Number(rows);
    if (!Number.isSafeInteger(rowCount) || rowCount <= 0)
      problems.push(`row count: expected a positive integer, got "${rows}"`);
    if (committee.length < 3)
      problems.push(`committee: need at least 3 active nodes, have ${committee.length}`);
    if (!Number.isInteger(t) || t < 1 || 2 * t >= committee.length)
      problems.push(`threshold: need 1 ≤ t < n/2 with n = ${committee.length}, got ${t}`);
    if (rootList.length !== committee.length)
      problems.push(
        `partition roots: need one per member (${committee.length}), got ${rootList.length}`,
      );
    rootList.forEach((r, i) => {
      if (!/^0x[0-9a-fA-F]{64}$/.test(r))
        problems.push(`partition root ${i + 1}: expected 0x + 64 hex digits, got "${r}"`);
    });
    if (problems.length) return setMsg({ ok: false, text: problems.join('; ') });
    setBusy(true);
    try {
      const wallet = await ctx.wallet();
      const r = await registerDataset(wallet, ctx.pub, ctx.cfg.confide, {
        salt: salt.trim(),
        schemaHash: bytesToHex(sha256(new TextEncoder().encode(schema))),
        rowCount,
        threshold: t,
        committee,
        partitionRoots: rootList as Hex[],
      });
      setMsg({ ok: true, text: `registered dataset ${r.datasetId}` });
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
        Dataset id = sha256(“confide/dataset/v1” ‖ your address ‖ name):{' '}
        <code data-testid="dataset-id-preview">
          {salt.trim() ? datasetIdFor(ctx.account, salt.trim()) : '—'}
        </code>
      </p>
      <div className="grid-3">
        <Field label="Name">
          <input
            className="input"
            data-testid="ds-salt"
            value={salt}
            onChange={(e) => setSalt(e.target.value)}
          />
        </Field>
        <Field label="Rows">
          <input
            className="input"
            data-testid="ds-rows"
            value={rows}
            onChange={(e) => setRows(e.target.value)}
          />
        </Field>
        <Field label="Threshold t">
          <input
            className="input"
            data-testid="ds-threshold"
            value={threshold}
            placeholder={String(t)}
            onChange={(e) => setThreshold(e.target.value)}
          />
        </Field>
      </div>
      <Field label="Schema (canonical JSON, hashed with sha256)">
        <textarea
          className="textarea"
          data-testid="ds-schema"
          value={schema}
          onChange={(e) => setSchema(e.target.value)}
          rows={2}
        />
      </Field>
      {activeNodes.length === 0 ? (
        <p className="empty small">No active nodes registered yet.</p>
      ) : (
        <CheckGroup
          legend="Committee (active registered nodes, in member order)"
          options={activeNodes}
          value={new Set(activeNodes.filter((n) => !excluded.has(n)))}
          onChange={(kept) => setExcluded(new Set(activeNodes.filter((n) => !kept.has(n))))}
          label={(n) => <code>{n}</code>}
          data-testid="ds-committee"
        />
      )}
      <Field label="Partition roots (one per member, in the order above; from the members' signed storage receipts)">
        <textarea
          className="textarea"
          data-testid="ds-roots"
          value={roots}
          onChange={(e) => setRoots(e.target.value)}
          rows={4}
        />
      </Field>
      <div>
        <Button
          variant="primary"
          data-testid="ds-register"
          busy={busy}
          busyLabel="Registering…"
          onClick={() => void submit()}
        >
          Register dataset
        </Button>
      </div>
      {msg && (
        <Alert tone={msg.ok ? 'success' : 'error'}>
          <span data-testid="ds-message">{msg.text}</span>
        </Alert>
      )}
    </div>
  );
}
