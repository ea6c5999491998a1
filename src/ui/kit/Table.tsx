import type { ReactNode } from 'react';

/**
 * A table in a horizontally scrollable, keyboard-focusable region (narrow windows scroll the
 * table, not the page). `caption` names it for screen readers.
 */
export function Table({
  caption,
  captionHidden = false,
  children,
  ...rest
}: {
  caption: string;
  captionHidden?: boolean;
  children: ReactNode;
  'data-testid'?: string;
}) {
  return (
    <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table className="table" {...rest}>
        <caption className={captionHidden ? 'visually-hidden' : undefined}>{caption}</caption>
        {children}
      </table>
    </div>
  );
}
