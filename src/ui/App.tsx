import { Suspense } from 'react';
import { routes } from './routes';

/** Path-based routing over `routes`; `/` is the landing page explaining the three roles. */
export function App() {
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.path === path);
  if (route) {
    const View = route.component;
    return (
      <Suspense fallback={<p>Loading {route.title}…</p>}>
        <View />
      </Suspense>
    );
  }
  return <Landing />;
}

function Landing() {
  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 760,
        margin: '2rem auto',
        padding: '0 1rem',
      }}
    >
      <h1>Confide</h1>
      <p>
        Browser tabs that jointly store and compute on sensitive data without anyone seeing the
        plaintext: secure multi-party computation over verifiable Shamir shares.
      </p>
      <ul>
        <li>
          <strong>Hospital</strong> — secret-shares a dataset in the browser and controls who may
          query it.
        </li>
        <li>
          <strong>Researcher</strong> — asks aggregate questions and receives answers only its
          browser can read.
        </li>
        <li>
          <strong>Node</strong> — volunteers this tab to store shares and compute on them.
        </li>
      </ul>
      {routes.length > 0 && (
        <nav>
          {routes.map((r) => (
            <a key={r.path} href={r.path} style={{ marginRight: '1rem' }}>
              {r.title}
            </a>
          ))}
        </nav>
      )}
    </main>
  );
}
