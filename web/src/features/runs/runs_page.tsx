import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Run } from '../../api/types';
import { ConfirmDialog, StateBadge, StateBox, useNow, usePolling } from '../../components/common';
import { Link } from '../../components/router';
import { formatCount, formatDateTime } from '../../lib/line_format';
import { paths } from '../../lib/router';
import { anyRunning, runDuration, runLabel } from '../../lib/runs';

export function RunsPage({ project }: { project: string }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Run | null>(null);
  const load = useCallback(() => {
    api
      .listRuns(project)
      .then((r) => {
        setRuns(r);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [project]);
  useEffect(() => {
    setRuns(null);
    load();
  }, [load]);
  const live = !!runs && anyRunning(runs);
  usePolling(load, live ? 2000 : 10000, true);
  const now = useNow(1000, live);

  return (
    <div className="page" data-testid="runs-page">
      <h1>
        {project} <span className="sub">{runs ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : ''}</span>
      </h1>
      {error && !runs && (
        <StateBox kind="error" title="Could not load runs">
          <p>{error}</p>
          <button className="btn" onClick={load}>
            Retry
          </button>
        </StateBox>
      )}
      {!error && !runs && (
        <div aria-busy="true">
          {[0, 1, 2, 3, 4].map((i) => (
            <div key={i} className="skeleton-row" />
          ))}
        </div>
      )}
      {runs && runs.length === 0 && (
        <StateBox title="No runs in this project" glyph="◇">
          <p>
            Runs logged with <code>project="{project}"</code> will show up here, live.
          </p>
        </StateBox>
      )}
      {runs && runs.length > 0 && (
        <table className="list" data-testid="runs-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>State</th>
              <th className="hide-narrow">Started</th>
              <th className="num">Duration</th>
              <th className="num">Lines</th>
              <th className="num">Errors</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
                <td className="name">
                  <Link href={paths.run(r.id)}>{runLabel(r)}</Link>
                  <div className="sub mono">{r.id}</div>
                </td>
                <td>
                  <StateBadge state={r.state} />
                  {r.exit_code !== null && r.state !== 'running' && <span className="sub"> exit {r.exit_code}</span>}
                </td>
                <td className="hide-narrow">{formatDateTime(r.created_at)}</td>
                <td className="num">{runDuration(r, now)}</td>
                <td className="num" data-testid="run-lines">
                  {formatCount(r.line_count)}
                </td>
                <td className="num" style={r.error_count ? { color: 'var(--err)' } : undefined}>
                  {formatCount(r.error_count)}
                </td>
                <td className="num">
                  <button className="btn small danger" data-testid="delete-run" onClick={() => setDeleting(r)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete run?"
          body={
            <>
              <b>{runLabel(deleting)}</b> and all of its {formatCount(deleting.line_count)} log lines will be deleted. This cannot be
              undone.
            </>
          }
          confirmLabel="Delete run"
          onCancel={() => setDeleting(null)}
          onConfirm={async () => {
            await api.deleteRun(deleting.id);
            setDeleting(null);
            setRuns((rs) => rs?.filter((x) => x.id !== deleting.id) ?? null);
            load();
          }}
        />
      )}
    </div>
  );
}
