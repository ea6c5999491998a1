import { cloneElement, useId, type ReactElement, type ReactNode } from 'react';

interface ControlProps {
  id?: string;
  'aria-describedby'?: string;
  'aria-invalid'?: boolean;
}

/**
 * A labelled form control with an optional hint and error. The control (one element) gets an id,
 * `aria-describedby` pointing at the hint and error, and `aria-invalid` when there is an error.
 */
export function Field({
  label,
  hint,
  error,
  children,
  className,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: ReactNode;
  children: ReactElement<ControlProps>;
  className?: string;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {cloneElement(children, {
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(error ? { 'aria-invalid': true } : {}),
      })}
      {hint && (
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={errorId}>
          {error}
        </span>
      )}
    </div>
  );
}

/** A group of checkboxes with a legend (query kinds, committee members…). */
export function CheckGroup<T extends string>({
  legend,
  options,
  value,
  onChange,
  disabled,
  label = (o) => o,
  ...rest
}: {
  legend: ReactNode;
  options: readonly T[];
  value: ReadonlySet<T>;
  onChange(next: Set<T>): void;
  disabled?: boolean;
  label?: (o: T) => ReactNode;
  'data-testid'?: string;
}) {
  return (
    <fieldset className="checks" {...rest}>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check">
          <input
            type="checkbox"
            checked={value.has(o)}
            disabled={disabled}
            onChange={(e) => {
              const next = new Set(value);
              if (e.target.checked) next.add(o);
              else next.delete(o);
              onChange(next);
            }}
          />
          {label(o)}
        </label>
      ))}
    </fieldset>
  );
}
