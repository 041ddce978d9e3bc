import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Project } from '../../api/types';
import { StateBox, usePolling } from '../../components/common';
import { Link } from '../../components/router';
import { formatCount, formatDateTime } from '../../lib/line_format';
import { paths } from '../../lib/router';

export function ProjectsPage() {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .listProjects()
      .then((p) => {
        setProjects(p);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);
  usePolling(load, 5000, true);

  return (
    <div className="page" data-testid="projects-page">
      <h1>Projects</h1>
      {error && !projects && (
        <StateBox kind="error" title="Could not load projects">
          <p>{error}</p>
          <button className="btn" onClick={load}>
            Retry
          </button>
        </StateBox>
      )}
      {!error && !projects && (
        <div aria-busy="true">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className="skeleton-row" />
          ))}
        </div>
      )}
      {projects && projects.length === 0 && (
        <StateBox title="No projects yet" glyph="◇">
          <p>Projects appear here as soon as a run logs to the server. Start one with the Python SDK:</p>
          <pre>{`import wanllmdb\nrun = wanllmdb.init(project="my-project")\nprint("hello")  # captured\nrun.finish()`}</pre>
          <p>or wrap any program: <code>wanllmdb run --project my-project -- python train.py</code></p>
        </StateBox>
      )}
      {projects && projects.length > 0 && (
        <table className="list" data-testid="projects-table">
          <thead>
            <tr>
              <th>Project</th>
              <th className="num">Runs</th>
              <th className="hide-narrow">Last run</th>
              <th className="hide-narrow">Created</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.name} data-testid="project-row">
                <td className="name">
                  <Link href={paths.project(p.name)}>{p.name}</Link>
                </td>
                <td className="num">{formatCount(p.run_count)}</td>
                <td className="hide-narrow">{formatDateTime(p.last_run_at)}</td>
                <td className="hide-narrow">{formatDateTime(p.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
