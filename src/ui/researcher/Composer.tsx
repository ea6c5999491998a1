/**
 * The query composer: the visual builder and the text form side by side, kept in sync (builder →
 * canonical text; text → builder whenever it parses and fits), a shared draft edited live with
 * colleagues (a Yjs text on the coordination document), the fee shown before signing, and live
 * progress while the committee computes.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { formatEther, type Hex } from 'viem';
import type * as Y from 'yjs';
import type { ConfideClient, QueryOutcome, QueryProgress } from '../../app/api';
import { checkQuery } from '../../query/check';
import { QueryError } from '../../query/errors';
import { parse } from '../../query/parser';
import type { DatasetSchema } from '../../query/schema';
import {
  Alert,
  Badge,
  Button,
  ErrorAlert,
  Field,
  Progress,
  Table,
  explain,
  shortHex,
} from '../kit';
import { EMPTY_STATE, fromQuery, toText, type BuilderState, type ValueKind } from './builder';
import { QueryBuilder } from './QueryBuilder';
import { useSharedText } from './sharedText';

export interface GrantedDataset {
  datasetId: Hex;
  name: string;
  kinds: string[];
  minCohort: number;
  remaining: number;
  active: boolean;
}

const DRAFT_RE = /^[A-Za-z0-9._:-]{1,64}$/;

const MEMBER_TONE = {
  waiting: 'neutral',
  computing: 'info',
  answered: 'success',
  refused: 'danger',
  gone: 'warning',
} as const;

function kindOfColumn(schema: DatasetSchema | undefined) {
  return (name: string): ValueKind | undefined => {
    const c = schema?.columns.find((x) => x.name === name);
    if (!c) return undefined;
    return c.type.kind === 'category' ? 'string' : c.type.kind === 'date' ? 'date' : 'number';
  };
}

/** FROM name for a dataset: its schema name (what the checker accepts), else its id. */
function fromName(schema: DatasetSchema | undefined, datasetId: string): string {
  return schema?.name ?? datasetId;
}

interface Analysis {
  error?: QueryError | undefined;
  builder?: BuilderState | undefined;
  builderNote?: string | undefined;
  kinds?: string[] | undefined;
}

function analyse(text: string, schema: DatasetSchema | undefined, datasetId: string): Analysis {
  let q;
  try {
    q = parse(text);
  } catch (e) {
    if (e instanceof QueryError) return { error: e };
    throw e;
  }
  const b = fromQuery(q);
  const out: Analysis = b.ok ? { builder: b.state } : { builderNote: b.reason };
  if (schema) {
    try {
      out.kinds = checkQuery(q, { ...schema, id: datasetId }).kinds;
    } catch (e) {
      if (e instanceof QueryError) out.error = e;
      else throw e;
    }
  }
  return out;
}

/** The offending line with a caret under the error's column. */
function Caret({ text, error }: { text: string; error: QueryError }) {
  if (!error.pos) return null;
  const line = text.split('\n')[error.pos.line - 1] ?? '';
  return (
    <pre className="code-error" aria-hidden="true">
      {line}
      {'\n'}
      {' '.repeat(Math.max(0, error.pos.column - 1))}^
    </pre>
  );
}

export function Composer({
  client,
  datasets,
  minFee,
  onResult,
}: {
  client: ConfideClient | undefined;
  datasets: GrantedDataset[];
  minFee: bigint | null;
  onResult(o: QueryOutcome, datasetName: string, schema: DatasetSchema | undefined): void;
}) {
  const usable = datasets.filter((d) => d.active);
  const [datasetId, setDatasetId] = useState<string>('');
  const ds = usable.find((d) => d.datasetId === datasetId) ?? usable[0];
  const [schemas, setSchemas] = useState<Record<string, DatasetSchema>>({});
  const [schemaError, setSchemaError] = useState<unknown>(null);
  const schema = ds ? schemas[ds.datasetId] : undefined;
  const [text, setTextState] = useState('SELECT COUNT(*) FROM ds');
  const [lastBuilder, setLastBuilder] = useState<BuilderState>(EMPTY_STATE);
  const textRef = useRef<HTMLTextAreaElement>(null);

  // ---- shared draft ----
  const [draftName, setDraftName] = useState(
    () => new URLSearchParams(window.location.search).get('draft') ?? '',
  );
  const [draft, setDraft] = useState<{ id: string; text: Y.Text }>();
  const [draftError, setDraftError] = useState<string>();
  const setText = useCallback((t: string) => setTextState(t), []);
  const writeShared = useSharedText(draft?.text, setText, textRef);
  const applyText = (t: string) => {
    setTextState(t);
    if (draft) writeShared(t);
  };
  const joinDraft = (id: string) => {
    if (!client) return;
    if (!DRAFT_RE.test(id)) {
      setDraftError('Use 1 to 64 letters, digits, dots, dashes, underscores or colons.');
      return;
    }
    setDraftError(undefined);
    const y = client.coord.draft(id);
    // The first person in a draft seeds it with their current text.
    if (y.length === 0) y.insert(0, text);
    setDraft({ id, text: y });
    const u = new URL(window.location.href);
    u.searchParams.set('draft', id);
    window.history.replaceState(null, '', u);
  };
  const leaveDraft = () => {
    setDraft(undefined);
    const u = new URL(window.location.href);
    u.searchParams.delete('draft');
    window.history.replaceState(null, '', u);
  };
  const autoJoined = useRef(false);
  useEffect(() => {
    if (client && !autoJoined.current && draftName && DRAFT_RE.test(draftName)) {
      autoJoined.current = true;
      joinDraft(draftName);
    }
  }, [client]);

  // ---- schema of the chosen dataset ----
  useEffect(() => {
    if (!client || !ds || schemas[ds.datasetId]) return;
    let live = true;
    setSchemaError(null);
    client.schema(ds.datasetId).then(
      (s) => {
        if (!live) return;
        setSchemas((m) => ({ ...m, [ds.datasetId]: s }));
      },
      (e: unknown) => live && setSchemaError(e),
    );
    return () => {
      live = false;
    };
  }, [client, ds, schemas]);

  // When the dataset (or its schema) changes, point a builder-shaped query at it.
  const target = ds ? fromName(schema, ds.datasetId) : undefined;
  useEffect(() => {
    if (!target || draft) return;
    const a = analyse(text, undefined, '');
    if (a.builder && a.builder.from !== target)
      applyText(toText({ ...a.builder, from: target }, kindOfColumn(schema)));
  }, [target]);

  const analysis = useMemo(
    () => analyse(text, schema, ds?.datasetId ?? ''),
    [text, schema, ds?.datasetId],
  );
  useEffect(() => {
    if (analysis.builder) setLastBuilder(analysis.builder);
  }, [analysis.builder]);
  const builderState = analysis.builder ?? lastBuilder;

  // ---- submit ----
  const [reviewing, setReviewing] = useState(false);
  const [progress, setProgress] = useState<QueryProgress>();
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState<unknown>(null);
  const notAllowed =
    analysis.kinds && ds ? analysis.kinds.filter((k) => !ds.kinds.includes(k)) : [];
  const canSubmit =
    !!client && !!ds && !analysis.error && !running && notAllowed.length === 0 && ds.remaining > 0;

  async function run() {
    if (!client || !ds) return;
    setReviewing(false);
    setRunning(true);
    setRunError(null);
    setProgress(undefined);
    try {
      const o = await client.submitQuery(
        ds.datasetId,
        text,
        minFee !== null ? { fee: minFee } : {},
        setProgress,
      );
      onResult(o, ds.name, schema);
    } catch (e) {
      setRunError(e);
      // The bar must not go on saying "paying" or "computing" under the error that stopped it.
      setProgress((p) =>
        p && p.phase !== 'refused' && p.phase !== 'failed'
          ? { ...p, phase: 'failed', fraction: 1, message: explain(e).message }
          : p,
      );
    } finally {
      setRunning(false);
    }
  }

  if (usable.length === 0)
    return (
      <p className="empty">
        You have no active grant yet. Ask a data owner to grant your address access; the datasets
        appear here as soon as the grant is on chain.
      </p>
    );

  const runExplained = runError !== null ? explain(runError) : undefined;
  return (
    <div className="stack">
      <div className="grid-2">
        <Field label="Dataset">
          <select
            className="select"
            value={ds?.datasetId ?? ''}
            onChange={(e) => setDatasetId(e.target.value)}
            data-testid="query-dataset"
          >
            {usable.map((d) => (
              <option key={d.datasetId} value={d.datasetId}>
                {d.name}
              </option>
            ))}
          </select>
        </Field>
        <div className="field">
          <span className="field-label" id="draft-label">
            Shared draft
          </span>
          {draft ? (
            <div className="row-center" data-testid="draft-status">
              <Badge tone="info" dot>
                Editing “{draft.id}” live
              </Badge>
              <span className="small muted">
                Colleagues who open the same draft name see every keystroke.
              </span>
              <Button size="sm" variant="ghost" onClick={leaveDraft}>
                Stop sharing
              </Button>
            </div>
          ) : (
            <form
              className="row-center"
              onSubmit={(e) => {
                e.preventDefault();
                joinDraft(draftName.trim());
              }}
            >
              <input
                className="input input-sm builder-value"
                aria-labelledby="draft-label"
                placeholder="draft name, e.g. bmi-study"
                value={draftName}
                onChange={(e) => setDraftName(e.target.value)}
                data-testid="draft-name"
              />
              <Button size="sm" type="submit" disabled={!client || !draftName.trim()}>
                Open shared draft
              </Button>
            </form>
          )}
          {draftError && <span className="field-error">{draftError}</span>}
        </div>
      </div>
      {schemaError !== null && (
        <ErrorAlert error={schemaError} title="The dataset's columns could not be loaded" />
      )}
      <div className="grid-2 composer">
        <div className="card-inset">
          {analysis.builderNote && (
            <Alert tone="info" title="The builder cannot show this query">
              It uses {analysis.builderNote}. Keep editing it as text, or change anything in the
              builder to start over from what it shows.
            </Alert>
          )}
          <QueryBuilder
            state={builderState}
            schema={schema}
            onChange={(s) => applyText(toText(s, kindOfColumn(schema)))}
            disabled={running}
          />
        </div>
        <div className="stack-sm">
          <Field
            label="Query text"
            hint="SQL-like: SELECT COUNT(*), AVG(bmi) FROM … WHERE age >= 60 GROUP BY sex"
            error={analysis.error ? analysis.error.message : undefined}
          >
            <textarea
              ref={textRef}
              className="textarea"
              rows={8}
              spellCheck={false}
              value={text}
              onChange={(e) => applyText(e.target.value)}
              data-testid="query-text"
            />
          </Field>
          {analysis.error && (
            <div data-testid="query-error">
              <Caret text={text} error={analysis.error} />
              {analysis.error.pos && (
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => {
                    const el = textRef.current;
                    const at = analysis.error?.pos?.offset ?? 0;
                    el?.focus();
                    el?.setSelectionRange(at, at + 1);
                  }}
                >
                  Go to the problem
                </Button>
              )}
            </div>
          )}
          {!analysis.error && analysis.kinds && (
            <p className="small muted" data-testid="query-kinds">
              Uses: {analysis.kinds.join(', ') || 'nothing'}
            </p>
          )}
          {notAllowed.length > 0 && (
            <Alert tone="warning" next="Change the query, or ask the owner to allow these kinds.">
              Your grant does not allow: {notAllowed.join(', ')}.
            </Alert>
          )}
        </div>
      </div>

      {!client && (
        <Alert
          tone="warning"
          next="Wait for the network status above to say connected, or retry there."
        >
          Running a query needs the compute network.
        </Alert>
      )}
      {ds && ds.remaining <= 0 && (
        <Alert tone="warning" next="Ask the owner to raise your budget.">
          You have used every query your grant allows on this dataset.
        </Alert>
      )}

      {reviewing && ds ? (
        <div className="card-inset stack-sm" data-testid="submit-review">
          <strong>Review before signing</strong>
          <dl className="kv">
            <dt>Dataset</dt>
            <dd>{ds.name}</dd>
            <dt>Query</dt>
            <dd>
              <code>{text}</code>
            </dd>
            <dt>Fee</dt>
            <dd data-testid="fee">
              {minFee === null ? 'reading…' : `${formatEther(minFee)} ETH`} plus network gas, paid
              from your wallet
            </dd>
            <dt>Budget</dt>
            <dd>uses 1 of your {ds.remaining} remaining queries</dd>
          </dl>
          <p className="small muted">
            Your wallet will ask you to sign. The answer is encrypted to a key that exists only in
            this tab.
          </p>
          <div className="row-center">
            <Button variant="primary" onClick={() => void run()} data-testid="query-confirm">
              Sign and pay {minFee === null ? '' : `${formatEther(minFee)} ETH`}
            </Button>
            <Button variant="ghost" onClick={() => setReviewing(false)}>
              Cancel
            </Button>
          </div>
        </div>
      ) : (
        <div className="row-center">
          <Button
            variant="primary"
            disabled={!canSubmit}
            busy={running}
            busyLabel="Running…"
            onClick={() => setReviewing(true)}
            data-testid="query-submit"
          >
            Run query
          </Button>
          <span className="small muted">
            Fee: {minFee === null ? '…' : `${formatEther(minFee)} ETH`} (+ gas), shown again before
            you sign.
          </span>
        </div>
      )}

      {progress && (
        <div className="stack-sm" data-testid="query-progress" data-phase={progress.phase}>
          <Progress
            label={progress.queryId !== undefined ? `Query #${progress.queryId}` : 'Query'}
            fraction={progress.fraction}
            message={progress.message}
            tone={
              progress.phase === 'failed' || progress.phase === 'refused'
                ? 'error'
                : progress.phase === 'done'
                  ? 'success'
                  : undefined
            }
          />
          {progress.members.length > 0 && (
            <Table caption="Committee members working on this query" captionHidden>
              <thead>
                <tr>
                  <th>Member</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {progress.members.map((m, i) => (
                  <tr key={m.nodeId} data-member-state={m.state}>
                    <td>
                      <span className="muted">{i + 1}.</span>{' '}
                      <code title={m.nodeId}>{shortHex(m.nodeId, 8, 6)}</code>
                    </td>
                    <td>
                      <Badge tone={MEMBER_TONE[m.state]} dot>
                        {m.state}
                      </Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
      )}
      {runError !== null && runExplained && (
        <Alert
          tone="error"
          title="The query did not run"
          next={runExplained.next}
          data-testid="query-message"
        >
          {runExplained.message}
        </Alert>
      )}
    </div>
  );
}
