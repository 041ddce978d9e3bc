import { ProjectsPage } from './features/projects/projects_page';
import { RunPage } from './features/run/run_page';
import { RunsPage } from './features/runs/runs_page';
import { StateBox } from './components/common';
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
  const location = useLocation();
  const route = matchRoute(location.pathname);
  return (
    <div className="app">
      <header className="topbar">
        <Link className="brand" href={paths.projects()}>
          wan<span>LLM</span>DB
        </Link>
        <Crumbs route={route} />
      </header>
      <main className="main">
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
      </main>
    </div>
  );
}
