import { ProjectsPage } from './features/projects/projects_page';
import { RunPage } from './features/run/run_page';
import { RunsPage } from './features/runs/runs_page';
import { AuthProvider, useAuth } from './components/auth';
import { StateBox } from './components/common';
import { SessionControl } from './features/auth/session_control';
import { SignInPage } from './features/auth/sign_in_page';
import { Link, useLocation } from './components/router';
import { matchRoute, paths } from './lib/router';

function Crumbs({ route }: { route: ReturnType<typeof matchRoute> }) {
  return (
    <nav className="crumbs" aria-label="breadcrumbs">
      <Link href={paths.projects()}>Projects</Link>
      {route.name === 'project' && (
        <>
          <span className="sep">/</span>
          <span className="here">{route.project}</span>
        </>
      )}
      {route.name === 'run' && (
        <>
          <span className="sep">/</span>
          <span className="here mono">run {route.runId.slice(0, 8)}</span>
        </>
      )}
    </nav>
  );
}

export function App() {
  return (
    <AuthProvider>
      <Shell />
    </AuthProvider>
  );
}

function Shell() {
  const location = useLocation();
  const route = matchRoute(location.pathname);
  const { state, retry } = useAuth();
  return (
    <div className="app">
      <header className="topbar">
        <Link className="brand" href={paths.projects()}>
          wan<span>LLM</span>DB
        </Link>
        {state.phase === 'ready' && <Crumbs route={route} />}
        <div className="spacer" />
        <SessionControl />
      </header>
      <main className="main">
        {state.phase === 'checking' && <StateBox kind="loading" title="Loading…" />}
        {state.phase === 'unreachable' && (
          <div className="page">
            <StateBox kind="error" title="Cannot reach the wanLLMDB server" testId="unreachable">
              <p>{state.message}</p>
              <button className="btn" onClick={retry}>
                Retry
              </button>
            </StateBox>
          </div>
        )}
        {/* Pages mount only with a session: a lost one unmounts them, so no stale data stays. */}
        {state.phase === 'signed_out' && <SignInPage reason={state.reason} />}
        {state.phase === 'ready' && <Routes route={route} location={location} />}
      </main>
    </div>
  );
}

function Routes({ route, location }: { route: ReturnType<typeof matchRoute>; location: ReturnType<typeof useLocation> }) {
  return (
    <>
      {route.name === 'projects' && <ProjectsPage />}
      {route.name === 'project' && <RunsPage key={route.project} project={route.project} />}
      {route.name === 'run' && <RunPage key={route.runId} runId={route.runId} location={location} />}
      {route.name === 'not_found' && (
        <div className="page">
          <StateBox kind="error" title="Page not found" testId="not-found">
            <p>
              Nothing lives at <code>{route.path}</code>.
            </p>
            <Link href={paths.projects()}>Go to projects</Link>
          </StateBox>
        </div>
      )}
    </>
  );
}
