/**
 * Upload wizard: choose a CSV → confirm the column types → review rejected rows → name and
 * committee → upload with progress. The file is parsed and validated in this tab; nothing leaves
 * the browser before the owner has accepted the validation report, and then only secret shares.
 */
import { useMemo, useState } from 'react';
import type { ConfideClient, UploadProgress, UploadResult } from '../../app/api';
import { parseCsv, readCsvFile, type ParsedCsv } from '../../storage/csv';
import {
  MAX_SCALE,
  acceptValidation,
  describeRowError,
  inferSchema,
  validateAndEncode,
  type ColumnInference,
  type DatasetSchema,
  type ValidationReport,
} from '../../storage/schema';
import { Alert, Button, ErrorAlert, Field, Progress, Steps, Table, formatCount } from '../kit';
import {
  KIND_CHOICES,
  KIND_LABEL,
  committeeProblems,
  defaultCommittee,
  describeType,
  distinctValues,
  typeFor,
  withColumnType,
  type KindChoice,
} from './wizard';

const STEPS = ['Choose file', 'Confirm columns', 'Review rows', 'Name & committee', 'Upload'];
const SAMPLE_URL = '/sample/patients.csv';
/** Rejected rows listed on screen (the count is always complete). */
const MAX_LISTED = 200;

interface Loaded {
  fileName: string;
  csv: ParsedCsv;
  inference: ColumnInference[];
}

export function UploadWizard({
  client,
  onUploaded,
}: {
  client: ConfideClient | undefined;
  onUploaded(r: UploadResult, name: string): void;
}) {
  const [step, setStep] = useState(0);
  const [loaded, setLoaded] = useState<Loaded>();
  const [schema, setSchema] = useState<DatasetSchema>();
  const [report, setReport] = useState<ValidationReport>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const reset = () => {
    setStep(0);
    setLoaded(undefined);
    setSchema(undefined);
    setReport(undefined);
    setError(null);
  };

  async function load(fileName: string, read: () => Promise<ParsedCsv>) {
    setError(null);
    setBusy(true);
    try {
      const csv = await read();
      const inf = inferSchema(csv);
      setLoaded({ fileName, csv, inference: inf.columns });
      setSchema(inf.schema);
      setReport(undefined);
      setStep(1);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function validate() {
    if (!loaded || !schema) return;
    setError(null);
    try {
      setReport(validateAndEncode(loaded.csv, schema));
      setStep(2);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div className="stack" data-testid="upload-wizard">
      <Steps steps={STEPS} current={step} />
      {error !== null && (
        <ErrorAlert error={error} title="This file cannot be used yet" data-testid="upload-error" />
      )}
      {step === 0 && (
        <ChooseFile
          busy={busy}
          onFile={(f) => void load(f.name, () => readCsvFile(f))}
          onSample={() =>
            void load('patients.csv (sample)', async () => {
              const r = await fetch(SAMPLE_URL);
              if (!r.ok) throw new Error(`The sample file could not be loaded (HTTP ${r.status}).`);
              return parseCsv(new Uint8Array(await r.arrayBuffer()));
            })
          }
        />
      )}
      {step === 1 && loaded && schema && (
        <SchemaStep
          loaded={loaded}
          schema={schema}
          onChange={setSchema}
          onBack={reset}
          onNext={validate}
        />
      )}
      {step === 2 && report && (
        <ReviewStep
          report={report}
          onBack={() => setStep(1)}
          onAccept={() => setStep(3)}
          key={report.schemaHash}
        />
      )}
      {step >= 3 && report && loaded && (
        <SettingsAndUpload
          client={client}
          report={report}
          defaultName={loaded.fileName.replace(/\.csv.*$/i, '').replace(/[^\w.-]+/g, '-')}
          onBack={() => setStep(2)}
          onStart={() => setStep(4)}
          onDone={(r, name) => {
            onUploaded(r, name);
          }}
          onRestart={reset}
        />
      )}
    </div>
  );
}

function ChooseFile({
  busy,
  onFile,
  onSample,
}: {
  busy: boolean;
  onFile(f: File): void;
  onSample(): void;
}) {
  return (
    <div className="stack-sm">
      <p className="muted">
        Choose a CSV file with a header line. It is read and checked here, in your browser; only
        secret shares of the values you confirm ever leave this tab.
      </p>
      <Field label="CSV file" hint="UTF-8, comma or semicolon separated, up to 32 MiB.">
        <input
          className="input"
          type="file"
          accept=".csv,text/csv"
          data-testid="csv-file"
          disabled={busy}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) onFile(f);
            e.target.value = '';
          }}
        />
      </Field>
      <div className="row-center">
        <span className="small muted">No file at hand?</span>
        <Button size="sm" onClick={onSample} busy={busy} data-testid="csv-sample">
          Use the sample patients file
        </Button>
      </div>
    </div>
  );
}

function SchemaStep({
  loaded,
  schema,
  onChange,
  onBack,
  onNext,
}: {
  loaded: Loaded;
  schema: DatasetSchema;
  onChange(s: DatasetSchema): void;
  onBack(): void;
  onNext(): void;
}) {
  const { csv } = loaded;
  const examples = useMemo(() => csv.header.map((_, i) => distinctValues(csv, i, 4)), [csv]);
  const uploaded = schema.columns.filter((c) => c.type.kind !== 'skip').length;
  return (
    <div className="stack-sm">
      <p>
        <strong>{loaded.fileName}</strong>:{' '}
        {formatCount(csv.rows.length + csv.rowErrors.length, 'data row')},{' '}
        {formatCount(csv.header.length, 'column')}. Check the type of each column; identifiers and
        free text are best left out.
      </p>
      <Table caption="Column types (edit where the guess is wrong)" data-testid="schema-table">
        <thead>
          <tr>
            <th>Column</th>
            <th>Examples</th>
            <th>Type</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {schema.columns.map((c, i) => {
            const inf = loaded.inference[i];
            const t = c.type;
            return (
              <tr key={c.name} data-column={c.name}>
                <td>
                  <strong>{c.name}</strong>
                  {inf && inf.type.kind !== t.kind && (
                    <div className="small muted">guessed: {describeType(inf.type)}</div>
                  )}
                </td>
                <td className="mono small">{examples[i]!.join(', ') || '—'}</td>
                <td>
                  <select
                    className="select input-sm"
                    aria-label={`Type of column ${c.name}`}
                    data-testid={`type-${c.name}`}
                    value={t.kind}
                    onChange={(e) =>
                      onChange(
                        withColumnType(schema, i, typeFor(e.target.value as KindChoice, csv, i, t)),
                      )
                    }
                  >
                    {KIND_CHOICES.map((k) => (
                      <option key={k} value={k}>
                        {KIND_LABEL[k]}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="small">
                  {t.kind === 'decimal' && (
                    <label className="row-center">
                      Decimal places
                      <input
                        className="input input-sm input-narrow"
                        type="number"
                        min={0}
                        max={MAX_SCALE}
                        value={t.scale}
                        onChange={(e) =>
                          onChange(
                            withColumnType(schema, i, {
                              kind: 'decimal',
                              scale: Math.min(MAX_SCALE, Math.max(0, Number(e.target.value) || 0)),
                            }),
                          )
                        }
                      />
                    </label>
                  )}
                  {t.kind === 'category' && (
                    <span title={t.domain.join(', ')}>
                      {t.domain.length} values: {t.domain.slice(0, 6).join(', ')}
                      {t.domain.length > 6 ? ', …' : ''}
                    </span>
                  )}
                  {t.kind === 'skip' && (
                    <span className="muted">{inf?.note ?? 'Stays on this computer.'}</span>
                  )}
                  {inf && inf.type.kind === t.kind && inf.fit < 1 && inf.nonEmpty > 0 && (
                    <div className="muted">
                      {Math.round(inf.fit * 100)}% of the values fit; the others will be listed as
                      rejected rows.
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </Table>
      <div className="spread">
        <Button variant="ghost" onClick={onBack}>
          Choose another file
        </Button>
        <Button
          variant="primary"
          onClick={onNext}
          disabled={uploaded === 0}
          data-testid="schema-confirm"
        >
          Check every row with these types
        </Button>
      </div>
      {uploaded === 0 && (
        <Alert tone="warning" next="Set at least one column to a type other than “Do not upload”.">
          Every column is left out: there is nothing to upload.
        </Alert>
      )}
    </div>
  );
}

function ReviewStep({
  report,
  onBack,
  onAccept,
}: {
  report: ValidationReport;
  onBack(): void;
  onAccept(): void;
}) {
  const [drop, setDrop] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rejected = report.rejectedRows;
  return (
    <div className="stack-sm" data-testid="validation-report">
      <div className="grid-3">
        <Stat label="Rows in the file" value={report.totalRows} />
        <Stat label="Rows accepted" value={report.acceptedRows} />
        <Stat label="Rows rejected" value={rejected} tone={rejected ? 'warning' : undefined} />
      </div>
      {rejected === 0 ? (
        <Alert tone="success" title="Every row passed validation.">
          Nothing has been uploaded yet.
        </Alert>
      ) : (
        <>
          <Alert
            tone="warning"
            title={`${formatCount(rejected, 'row')} cannot be used as they are`}
            next="Fix them in the file and choose it again, change a column's type, or leave them out below."
          >
            Nothing has been uploaded yet.
          </Alert>
          <Table caption="Rejected rows: row number, column and reason" data-testid="rejected-rows">
            <thead>
              <tr>
                <th className="num">Row</th>
                <th>Column</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {report.rejected.slice(0, MAX_LISTED).map((e, k) => (
                <tr key={`${e.row}-${e.columnIndex ?? 0}-${k}`} title={describeRowError(e)}>
                  <td className="num">{e.row}</td>
                  <td>{e.column ?? '(whole row)'}</td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          {report.rejected.length > MAX_LISTED && (
            <p className="small muted">
              Showing the first {MAX_LISTED} of {report.rejected.length} problems.
            </p>
          )}
          <label className="check">
            <input
              type="checkbox"
              checked={drop}
              onChange={(e) => setDrop(e.target.checked)}
              data-testid="drop-rejected"
            />
            Leave these {formatCount(rejected, 'row')} out and upload the other{' '}
            {report.acceptedRows.toLocaleString()}
          </label>
        </>
      )}
      {error !== null && <ErrorAlert error={error} title="Not accepted" />}
      <div className="spread">
        <Button variant="ghost" onClick={onBack}>
          Back to column types
        </Button>
        <Button
          variant="primary"
          data-testid="accept-report"
          disabled={rejected > 0 && !drop}
          onClick={() => {
            try {
              acceptValidation(report, { dropRejectedRows: drop });
              onAccept();
            } catch (e) {
              setError(e);
            }
          }}
        >
          Accept and continue
        </Button>
      </div>
    </div>
  );
}

function Stat({
  label,
  value,
  tone,
}: {
  label: string;
  value: number;
  tone?: 'warning' | undefined;
}) {
  return (
    <div className="card-inset">
      <div className="small muted">{label}</div>
      <div className={tone === 'warning' ? 'stat-value text-warning' : 'stat-value'}>
        {value.toLocaleString()}
      </div>
    </div>
  );
}

function SettingsAndUpload({
  client,
  report,
  defaultName,
  onBack,
  onStart,
  onDone,
  onRestart,
}: {
  client: ConfideClient | undefined;
  report: ValidationReport;
  defaultName: string;
  onBack(): void;
  onStart(): void;
  onDone(r: UploadResult, name: string): void;
  onRestart(): void;
}) {
  const online = client ? client.nodes().filter((n) => n.online && n.registered).length : 0;
  const defaults = defaultCommittee(online);
  const [name, setName] = useState(defaultName);
  const [size, setSize] = useState('');
  const [threshold, setThreshold] = useState('');
  const [progress, setProgress] = useState<UploadProgress>();
  const [result, setResult] = useState<UploadResult>();
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);
  const c = size === '' ? defaults.size : Number(size);
  const t = threshold === '' ? Math.max(1, Math.floor((c - 1) / 2)) : Number(threshold);
  const problems = [
    ...(name.trim() === '' ? ['Give the dataset a name.'] : []),
    ...(client ? committeeProblems(c, t, online) : []),
  ];

  async function upload() {
    if (!client || problems.length) return;
    setError(null);
    setRunning(true);
    onStart();
    try {
      const accepted = acceptValidation(report, { dropRejectedRows: true });
      const r = await client.upload(
        accepted,
        { name: name.trim(), committeeSize: c, threshold: t },
        setProgress,
      );
      setResult(r);
      onDone(r, name.trim());
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  }

  if (result)
    return (
      <div className="stack-sm">
        <Progress label="Upload" fraction={1} tone="success" message="Done" />
        <Alert
          tone="success"
          title={`“${name}” is stored and registered`}
          data-testid="upload-done"
        >
          {report.acceptedRows.toLocaleString()} rows, secret-shared to a committee of{' '}
          {result.committee.length} nodes in {result.seconds.toFixed(1)} s. Dataset id{' '}
          <code>{result.datasetId}</code>. You can now grant researchers access below.
        </Alert>
        <div>
          <Button onClick={onRestart}>Upload another dataset</Button>
        </div>
      </div>
    );

  return (
    <div className="stack-sm">
      {!client && (
        <Alert
          tone="warning"
          title="Not connected to the compute network"
          next="Wait until the network status above says connected, or retry there."
        >
          Uploading needs online compute nodes to hold the shares.
        </Alert>
      )}
      <div className="grid-3">
        <Field label="Dataset name" hint="Shown to researchers you grant access to.">
          <input
            className="input"
            value={name}
            disabled={running}
            onChange={(e) => setName(e.target.value)}
            data-testid="upload-name"
          />
        </Field>
        <Field
          label="Committee size"
          hint={`Nodes that each hold one share of every value (${online} online).`}
        >
          <input
            className="input"
            type="number"
            min={3}
            max={16}
            value={size}
            placeholder={String(defaults.size)}
            disabled={running}
            onChange={(e) => setSize(e.target.value)}
            data-testid="upload-committee"
          />
        </Field>
        <Field
          label="Threshold t"
          hint="Any t nodes together learn nothing; t + 1 are needed to compute."
        >
          <input
            className="input"
            type="number"
            min={1}
            value={threshold}
            placeholder={String(t)}
            disabled={running}
            onChange={(e) => setThreshold(e.target.value)}
            data-testid="upload-threshold"
          />
        </Field>
      </div>
      {problems.length > 0 && (
        <Alert tone="warning" title="Before uploading">
          <ul className="small plain-list">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </Alert>
      )}
      {(running || progress) && (
        <Progress
          label="Upload"
          fraction={progress?.fraction ?? 0}
          message={progress?.message ?? 'Starting…'}
          tone={error !== null ? 'error' : undefined}
          data-testid="upload-progress"
        />
      )}
      {error !== null && <ErrorAlert error={error} title="The upload did not finish" />}
      <div className="spread">
        <Button variant="ghost" onClick={onBack} disabled={running}>
          Back to the report
        </Button>
        <Button
          variant="primary"
          onClick={() => void upload()}
          busy={running}
          busyLabel="Uploading…"
          disabled={!client || problems.length > 0}
          data-testid="upload-start"
        >
          {error !== null
            ? 'Retry upload'
            : `Share and upload ${report.acceptedRows.toLocaleString()} rows`}
        </Button>
      </div>
    </div>
  );
}
