import type { ReactNode } from 'react';

/** A labelled progress bar (0..1) with the current step in words. */
export function Progress({
  label,
  fraction,
  message,
  tone,
  ...rest
}: {
  label: string;
  fraction: number;
  message?: ReactNode;
  tone?: 'error' | 'success' | undefined;
  'data-testid'?: string;
}) {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const pct = Math.round(f * 100);
  return (
    <div className="progress" data-tone={tone} {...rest}>
      <div className="progress-top">
        <span>{label}</span>
        <span className="muted nowrap">{pct}%</span>
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={typeof message === 'string' ? `${pct}%: ${message}` : `${pct}%`}
      >
        <div className="progress-bar" style={{ width: `${pct}%` }} />
      </div>
      {message && (
        <div className="small muted" aria-live="polite">
          {message}
        </div>
      )}
    </div>
  );
}

/** Wizard steps: done, current, upcoming. */
export function Steps({ steps, current }: { steps: readonly string[]; current: number }) {
  return (
    <ol className="steps" aria-label="Steps">
      {steps.map((s, i) => (
        <li
          key={s}
          data-state={i < current ? 'done' : i === current ? 'current' : 'todo'}
          aria-current={i === current ? 'step' : undefined}
        >
          {s}
        </li>
      ))}
    </ol>
  );
}
