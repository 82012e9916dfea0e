import { render, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Lazy } from './lazy.js';
import { BASE, Link, matchPath, navigate, useLocation } from './router.js';
import { clearSession, loadSession, SessionContext, type Session } from './session.js';
import { SignIn } from './sign-in.js';
import './styles.css';

type Params = Record<string, string>;
type Loader = () => Promise<{ default: ComponentType<{ params: Params; query: URLSearchParams }> }>;

/** Every page, by URL. Pages load on first visit, so the first page's JavaScript is all a visit starts with. */
const ROUTES: readonly [pattern: string, load: Loader, nav: 'clusters' | 'task-definitions' | 'logs' | 'registry'][] = [
  ['/clusters', () => import('./pages/clusters.js'), 'clusters'],
  ['/clusters/:cluster', () => import('./pages/cluster.js'), 'clusters'],
  ['/clusters/:cluster/services/:service', () => import('./pages/service.js'), 'clusters'],
  ['/clusters/:cluster/create-service', () => import('./pages/create-service.js'), 'clusters'],
  ['/clusters/:cluster/tasks/:task', () => import('./pages/task.js'), 'clusters'],
  ['/clusters/:cluster/instances/:instance', () => import('./pages/instance.js'), 'clusters'],
  ['/task-definitions', () => import('./pages/families.js'), 'task-definitions'],
  ['/task-definitions/new', () => import('./pages/new-task-definition.js'), 'task-definitions'],
  ['/task-definitions/:family', () => import('./pages/family.js'), 'task-definitions'],
  ['/logs', () => import('./pages/log-groups.js'), 'logs'],
  ['/logs/:group', () => import('./pages/log-group.js'), 'logs'],
  ['/registry', () => import('./pages/repositories.js'), 'registry'],
  ['/registry/:repository', () => import('./pages/repository.js'), 'registry'],
];

function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const url = useLocation();
  const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) || '/' : '/';

  useEffect(() => {
    // `/` and `/console/` open the clusters page.
    if (path === '/' || path === '') navigate(`${BASE}/clusters${url.search}`, { replace: true });
  }, [path]);

  if (!session) return <SignIn onSignedIn={setSession} />;
  const signOut = () => {
    clearSession();
    setSession(undefined);
  };
  const route = ROUTES.map(([pattern, load, nav]) => ({ params: matchPath(pattern, path), load, nav, pattern })).find((r) => r.params);
  return (
    <SessionContext.Provider value={{ session, signOut }}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={`${BASE}/clusters`} class="brand">
          berth
        </Link>
        <nav aria-label="Main">
          <Link href={`${BASE}/clusters`} aria-current={route?.nav === 'clusters' ? 'page' : undefined}>
            Clusters
          </Link>
          <Link href={`${BASE}/task-definitions`} aria-current={route?.nav === 'task-definitions' ? 'page' : undefined}>
            Task definitions
          </Link>
          <Link href={`${BASE}/logs`} aria-current={route?.nav === 'logs' ? 'page' : undefined}>
            Logs
          </Link>
          <Link href={`${BASE}/registry`} aria-current={route?.nav === 'registry' ? 'page' : undefined}>
            Registry
          </Link>
        </nav>
        <div class="who">
          <span class="muted" title="Signed in with this access key">
            {session.accessKeyId}
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route ? <Lazy key={url.pathname} what="This page" load={route.load} props={{ params: route.params!, query: url.searchParams }} /> : <NotFound />}
      </main>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        Nothing here. <Link href={`${BASE}/clusters`}>See the clusters</Link>.
      </p>
    </>
  );
}

render(<App />, document.getElementById('app')!);
