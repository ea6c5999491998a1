/**
 * The page frame every view shares: a header with the brand and the role navigation, a skip link
 * for keyboard users, and a centred main column.
 */
import type { ReactNode } from 'react';
import './kit.css';

export const ROLE_LINKS: readonly { path: string; label: string }[] = [
  { path: '/hospital', label: 'Hospital' },
  { path: '/researcher', label: 'Researcher' },
  { path: '/node', label: 'Node' },
];

export function Shell({ children }: { children: ReactNode }) {
  const here = typeof window === 'undefined' ? '/' : window.location.pathname.replace(/\/+$/, '');
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <div className="shell-header-inner">
          <a className="brand" href="/">
            <span className="brand-mark" aria-hidden="true">
              C
            </span>
            Confide
          </a>
          <nav className="role-nav" aria-label="Roles">
            {ROLE_LINKS.map((l) => (
              <a key={l.path} href={l.path} aria-current={here === l.path ? 'page' : undefined}>
                {l.label}
              </a>
            ))}
          </nav>
        </div>
      </header>
      <main id="main" className="shell-main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p>{description}</p>}
      </div>
      {actions && <div className="row-center">{actions}</div>}
    </div>
  );
}
