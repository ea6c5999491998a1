import { Suspense } from 'react';
import { Card, Shell } from './kit';
import { routes } from './routes';

/** Path-based routing over `routes`; `/` is the landing page explaining the three roles. */
export function App() {
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.path === path);
  if (route) {
    const View = route.component;
    return (
      <Suspense
        fallback={
          <Shell>
            <p className="row-center muted" role="status">
              <span className="spinner" aria-hidden="true" /> Loading {route.title}…
            </p>
          </Shell>
        }
      >
        <View />
      </Suspense>
    );
  }
  return <Landing unknown={path !== '/' ? path : undefined} />;
}

const ROLES = [
  {
    path: '/hospital',
    title: 'Hospital',
    lead: 'Share a dataset without handing it over.',
    points: [
      'Load a CSV; it is checked and secret-shared in your browser',
      'Grant researchers access with a policy: query kinds, minimum cohort, budget, expiry',
      'Read the audit log of every query on your data',
    ],
    action: 'Open the hospital dashboard',
  },
  {
    path: '/researcher',
    title: 'Researcher',
    lead: 'Ask aggregate questions; only your browser reads the answers.',
    points: [
      'Compose queries with a visual builder or as text, alone or with colleagues',
      'Watch the committee compute, then see tables and charts',
      'Small groups are suppressed inside the computation',
    ],
    action: 'Open the researcher workspace',
  },
  {
    path: '/node',
    title: 'Node',
    lead: 'Volunteer this tab to store shares and compute on them.',
    points: [
      'Holds random-looking shares, never data',
      'Registers on chain with a deposit and earns query fees',
      'Leave at any time; your shares are re-shared to others',
    ],
    action: 'Open the node console',
  },
] as const;

function Landing({ unknown }: { unknown?: string | undefined }) {
  return (
    <Shell>
      {unknown && (
        <div className="alert alert-warning" role="status">
          There is no page at <code>{unknown}</code>. Pick a role below.
        </div>
      )}
      <section className="landing-hero">
        <h1>Compute on sensitive data without anyone seeing it</h1>
        <p>
          Confide splits every value into secret shares held by a committee of browser tabs. They
          compute together by secure multi-party computation; no tab, no researcher and no server
          ever sees a patient record. A blockchain records who may ask what, and every question
          asked.
        </p>
      </section>
      <div className="grid-3">
        {ROLES.map((r) => (
          <Card key={r.path} title={r.title} className="role-card">
            <p>{r.lead}</p>
            <ul>
              {r.points.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
            <a className="btn btn-primary" href={r.path}>
              {r.action}
            </a>
          </Card>
        ))}
      </div>
      <p className="small muted landing-foot">
        Trying it locally? <code>npm start</code> runs a chain, the signaling service, this app and
        a few node tabs, and prints demo wallet keys to import into your browser wallet.
      </p>
    </Shell>
  );
}
