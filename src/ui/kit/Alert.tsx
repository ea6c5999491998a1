import type { ReactNode } from 'react';
import { explain } from './explain';

export type AlertTone = 'info' | 'success' | 'warning' | 'error';

/**
 * A message box. Errors are announced (`role="alert"`), the rest politely (`role="status"`).
 * `next` says what to do next, in plain words.
 */
export function Alert({
  tone = 'info',
  title,
  next,
  children,
  ...rest
}: {
  tone?: AlertTone;
  title?: ReactNode;
  next?: ReactNode;
  children?: ReactNode;
  'data-testid'?: string;
}) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'} {...rest}>
      {title && <div className="alert-title">{title}</div>}
      {children && <div>{children}</div>}
      {next && (
        <div className="alert-next">
          <strong>What to do next:</strong> {next}
        </div>
      )}
    </div>
  );
}

/** Any error, explained. */
export function ErrorAlert({
  error,
  title = 'Something went wrong',
  ...rest
}: {
  error: unknown;
  title?: ReactNode;
  'data-testid'?: string;
}) {
  const e = explain(error);
  return (
    <Alert tone="error" title={title} next={e.next} {...rest}>
      {e.message}
    </Alert>
  );
}
