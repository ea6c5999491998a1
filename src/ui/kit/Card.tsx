import type { ReactNode } from 'react';

/** A titled surface. `level` picks the heading element so each page keeps a sane outline. */
export function Card({
  title,
  description,
  actions,
  level = 2,
  children,
  className,
  ...rest
}: {
  title?: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  level?: 2 | 3;
  children?: ReactNode;
  className?: string;
  'data-testid'?: string;
  id?: string;
}) {
  const H = level === 2 ? 'h2' : 'h3';
  return (
    <section className={className ? `card ${className}` : 'card'} {...rest}>
      {(title || actions) && (
        <div className="card-header">
          <div>
            {title && <H>{title}</H>}
            {description && <p className="card-description">{description}</p>}
          </div>
          {actions && <div className="row-center">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}
