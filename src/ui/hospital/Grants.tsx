/**
 * Grants of one dataset: who may query it and under which policy (query kinds, minimum cohort,
 * budget, expiry). Add, edit (a new grant replaces the old one on chain) and revoke.
 */
import { useEffect, useState } from 'react';
import { isAddress, type Address, type Hex } from 'viem';
import {
  confideAbi,
  grantAccess,
  kindsOf,
  revokeAccess,
  QUERY_KINDS,
  type QueryKindName,
} from '../../chain/confide';
import {
  Alert,
  Badge,
  Button,
  CheckGroup,
  Field,
  Table,
  explainText,
  formatTime,
  shortHex,
} from '../kit';
import type { AuditEntry } from '../shared/audit';
import type { ChainCtx } from '../shared/chain';

const DEFAULT_KINDS: readonly QueryKindName[] = ['count', 'avg', 'filter', 'group_by'];
const DAY = 86_400;

export interface GrantRow {
  researcher: Address;
  nonce: number;
  active: boolean;
  kinds: QueryKindName[];
  minCohort: number;
  budget: number;
  expiry: bigint;
  used?: number;
}

/** Latest grant per researcher on `datasetId`, from the chain's events. */
export function grantsFromEvents(entries: readonly AuditEntry[], datasetId: Hex): GrantRow[] {
  const m = new Map<string, GrantRow>();
  for (const e of entries) {
    if (e.args.datasetId !== datasetId) continue;
    const r = e.args.researcher as Address;
    if (e.eventName === 'GrantIssued')
      m.set(r.toLowerCase(), {
        researcher: r,
        nonce: Number(e.args.nonce),
        active: true,
        kinds: kindsOf(Number(e.args.kinds)),
        minCohort: Number(e.args.minCohort),
        budget: Number(e.args.budget),
        expiry: e.args.expiry as bigint,
      });
    if (e.eventName === 'GrantRevoked') {
      const g = m.get(r.toLowerCase());
      if (g) m.set(r.toLowerCase(), { ...g, active: false, nonce: Number(e.args.nonce) });
    }
  }
  return [...m.values()];
}

export function Grants({
  ctx,
  datasetId,
  entries,
  onDone,
}: {
  ctx: ChainCtx;
  datasetId: Hex;
  entries: readonly AuditEntry[];
  onDone(): void;
}) {
  const grants = grantsFromEvents(entries, datasetId);
  const [used, setUsed] = useState<Record<string, number>>({});
  const [editing, setEditing] = useState<GrantRow | null>(null);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const key = grants.map((g) => `${g.researcher}:${g.nonce}`).join(',') + entries.length;
  useEffect(() => {
    let live = true;
    Promise.all(
      grants.map((g) =>
        ctx.pub.readContract({
          address: ctx.cfg.confide,
          abi: confideAbi,
          functionName: 'getGrant',
          args: [datasetId, g.researcher],
        }),
      ),
    )
      .then((gs) => {
        if (live)
          setUsed(
            Object.fromEntries(gs.map((g, i) => [grants[i]!.researcher.toLowerCase(), g.used])),
          );
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [key, ctx, datasetId]);

  async function run(what: string, fn: () => Promise<unknown>) {
    setBusy(true);
    setMsg(null);
    try {
      await fn();
      setMsg({ ok: true, text: what });
      setEditing(null);
      onDone();
    } catch (err) {
      setMsg({ ok: false, text: explainText(err) });
    } finally {
      setBusy(false);
    }
  }

  const submit = (researcher: Address, p: PolicyInput, edit: boolean) =>
    void run(`${edit ? 'updated the grant of' : 'granted'} ${researcher}`, async () =>
      grantAccess(await ctx.wallet(), ctx.pub, ctx.cfg.confide, datasetId, researcher, {
        kinds: [...p.kinds],
        minCohort: p.minCohort,
        budget: p.budget,
        expiry: BigInt(Math.floor(Date.now() / 1000) + p.days * DAY),
      }),
    );

  const now = Date.now() / 1000;
  return (
    <div className="stack-sm">
      <h4>Who may query it</h4>
      {grants.length === 0 ? (
        <p className="empty small">Nobody yet. Grant a researcher access below.</p>
      ) : (
        <Table caption="Grants on this dataset" captionHidden data-testid="grant-list">
          <thead>
            <tr>
              <th>Researcher</th>
              <th>Status</th>
              <th>Allowed</th>
              <th className="num">Min cohort</th>
              <th className="num">Queries used</th>
              <th>Expires</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => {
              const u = used[g.researcher.toLowerCase()];
              const expired = Number(g.expiry) < now;
              return (
                <tr key={g.researcher} data-researcher={g.researcher}>
                  <td>
                    <code title={g.researcher}>{shortHex(g.researcher, 8, 6)}</code>
                  </td>
                  <td>
                    {!g.active ? (
                      <Badge tone="warning">revoked</Badge>
                    ) : expired ? (
                      <Badge tone="warning">expired</Badge>
                    ) : (
                      <Badge tone="success">active</Badge>
                    )}
                  </td>
                  <td className="small">{g.kinds.join(', ')}</td>
                  <td className="num">{g.minCohort}</td>
                  <td className="num">
                    {u === undefined ? '…' : u} of {g.budget}
                  </td>
                  <td className="small nowrap">{formatTime(g.expiry)}</td>
                  <td className="nowrap">
                    <Button
                      size="sm"
                      variant="ghost"
                      disabled={busy}
                      onClick={() => setEditing(g)}
                      aria-label={`Edit the policy of ${g.researcher}`}
                    >
                      Edit
                    </Button>
                    {g.active && (
                      <Button
                        size="sm"
                        variant="danger"
                        disabled={busy}
                        onClick={() =>
                          void run(`revoked ${g.researcher}`, async () =>
                            revokeAccess(
                              await ctx.wallet(),
                              ctx.pub,
                              ctx.cfg.confide,
                              datasetId,
                              g.researcher,
                            ),
                          )
                        }
                      >
                        Revoke
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
      {editing ? (
        <GrantForm
          key={`edit-${editing.researcher}`}
          title={`Edit the policy of ${shortHex(editing.researcher, 8, 6)}`}
          initial={editing}
          busy={busy}
          submitLabel="Save policy"
          onSubmit={(r, p) => submit(r, p, true)}
          onCancel={() => setEditing(null)}
        />
      ) : (
        <GrantForm
          key="new"
          title="Grant a researcher access"
          busy={busy}
          submitLabel="Grant access"
          onSubmit={(r, p) => submit(r, p, false)}
        />
      )}
      {msg && (
        <Alert
          tone={msg.ok ? 'success' : 'error'}
          data-testid="grant-message"
          {...(msg.ok ? {} : { title: 'The grant did not change' })}
        >
          {msg.text}
        </Alert>
      )}
    </div>
  );
}

interface PolicyInput {
  kinds: Set<QueryKindName>;
  minCohort: number;
  budget: number;
  days: number;
}

function GrantForm({
  title,
  initial,
  busy,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  title: string;
  initial?: GrantRow;
  busy: boolean;
  submitLabel: string;
  onSubmit(researcher: Address, p: PolicyInput): void;
  onCancel?(): void;
}) {
  const [researcher, setResearcher] = useState<string>(initial?.researcher ?? '');
  const [kinds, setKinds] = useState<Set<QueryKindName>>(new Set(initial?.kinds ?? DEFAULT_KINDS));
  const [minCohort, setMinCohort] = useState(String(initial?.minCohort ?? 10));
  const [budget, setBudget] = useState(String(initial?.budget ?? 10));
  const [days, setDays] = useState(
    initial
      ? String(Math.max(1, Math.round((Number(initial.expiry) - Date.now() / 1000) / DAY)))
      : '30',
  );
  const [tried, setTried] = useState(false);
  const errors = {
    researcher: isAddress(researcher)
      ? undefined
      : 'Paste the researcher’s wallet address (0x followed by 40 hexadecimal digits).',
    kinds: kinds.size === 0 ? 'Allow at least one kind of query.' : undefined,
    minCohort: /^\d+$/.test(minCohort) ? undefined : 'A whole number, 0 or more.',
    budget: /^\d+$/.test(budget) && Number(budget) > 0 ? undefined : 'A whole number, at least 1.',
    days:
      /^\d+$/.test(days) && Number(days) > 0 ? undefined : 'A whole number of days, at least 1.',
  };
  const ok = Object.values(errors).every((e) => e === undefined);
  const show = (e: string | undefined) => (tried ? e : undefined);
  return (
    <form
      className="card-inset stack-sm"
      onSubmit={(e) => {
        e.preventDefault();
        setTried(true);
        if (ok)
          onSubmit(researcher as Address, {
            kinds,
            minCohort: Number(minCohort),
            budget: Number(budget),
            days: Number(days),
          });
      }}
    >
      <strong>{title}</strong>
      <Field label="Researcher address" error={show(errors.researcher)}>
        <input
          className="input mono"
          data-testid="grant-researcher"
          value={researcher}
          readOnly={initial !== undefined}
          placeholder="0x…"
          onChange={(e) => setResearcher(e.target.value.trim())}
        />
      </Field>
      <CheckGroup
        legend="Allowed query kinds"
        options={QUERY_KINDS}
        value={kinds}
        onChange={setKinds}
        data-testid="grant-kinds"
      />
      {show(errors.kinds) && <span className="field-error">{errors.kinds}</span>}
      <div className="grid-3">
        <Field
          label="Minimum cohort"
          hint="Groups with fewer people are suppressed inside the computation."
          error={show(errors.minCohort)}
        >
          <input
            className="input"
            inputMode="numeric"
            data-testid="grant-cohort"
            value={minCohort}
            onChange={(e) => setMinCohort(e.target.value)}
          />
        </Field>
        <Field label="Query budget" hint="Number of queries allowed." error={show(errors.budget)}>
          <input
            className="input"
            inputMode="numeric"
            data-testid="grant-budget"
            value={budget}
            onChange={(e) => setBudget(e.target.value)}
          />
        </Field>
        <Field label="Expires in (days)" error={show(errors.days)}>
          <input
            className="input"
            inputMode="numeric"
            data-testid="grant-days"
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </Field>
      </div>
      <div className="row-center">
        <Button type="submit" variant="primary" busy={busy} data-testid="grant-submit">
          {submitLabel}
        </Button>
        {onCancel && (
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}
