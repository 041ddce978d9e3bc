import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { LogSummary, Run, RunState } from '../../api/types';
import { StateBadge, StateBox, useNow, usePolling } from '../../components/common';
import { Link, navigate, type Location } from '../../components/router';
import { formatCount, formatDateTime } from '../../lib/line_format';
import { paths } from '../../lib/router';
import { runDuration, runLabel } from '../../lib/runs';
import { LogViewer } from '../logs/log_viewer';

const isFullId = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function RunPage({ runId, location }: { runId: string; location: Location }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const load = useCallback(() => {
    api
      .getRun(runId)
      .then((r) => {
        setRun(r);
        setError(null);
      })
      .catch((e: Error) => setError(e));
  }, [runId]);
  useEffect(() => {
    setRun(null);
    setError(null);
    load();
  }, [load]);
  const running = run?.state === 'running';
  usePolling(load, 3000, running);
  const now = useNow(1000, running);
  const onRunState = useCallback(
    (s: RunState) => {
      if (run && s !== run.state) load();
    },
    [run, load],
  );

  useEffect(() => {
    document.title = run ? `${runLabel(run)} · ${run.project} · wanLLMDB` : 'wanLLMDB';
    return () => {
      document.title = 'wanLLMDB';
    };
  }, [run]);

  // The header follows the viewer's live totals (Clear, live lines), not the last poll.
  const [liveCounts, setLiveCounts] = useState<{ lines: number; errors: number } | null>(null);
  const onSummary = useCallback((s: LogSummary) => setLiveCounts({ lines: s.total, errors: (s.by_level.ERROR ?? 0) + (s.by_level.CRITICAL ?? 0) }), []);
  const lines = liveCounts?.lines ?? run?.line_count ?? 0;
  const errors = liveCounts?.errors ?? run?.error_count ?? 0;
  // A short id (a unique prefix) in the URL: the viewer works with the full id once known.
  const fullId = isFullId(runId) ? runId : (run?.id ?? null);

  const tab = new URLSearchParams(location.search).get('tab') === 'overview' ? 'overview' : 'logs';

  if (error && !run) {
    const notFound = error instanceof ApiError && error.status === 404;
    return (
      <div className="page">
        <StateBox kind="error" title={notFound ? 'Run not found' : error instanceof ApiError && error.status === 409 ? 'Ambiguous run id' : 'Could not load the run'} testId="run-error">
          <p>{notFound ? `No run with id ${runId} (it may have been deleted).` : error.message}</p>
          {notFound ? (
            <Link href={paths.projects()}>Back to projects</Link>
          ) : (
            <button className="btn" onClick={load}>
              Retry
            </button>
          )}
        </StateBox>
      </div>
    );
  }

  return (
    <>
      <div className="run-head" data-testid="run-head">
        <div className="run-title">
          <h1 title={run?.name}>{run ? runLabel(run) : '…'}</h1>
          {run && <StateBadge state={run.state} />}
          {run && run.exit_code !== null && run.state !== 'running' && <span className="sub">exit code {run.exit_code}</span>}
        </div>
        {run && (
          <div className="run-meta">
            <span>
              project <Link href={paths.project(run.project)}>{run.project}</Link>
            </span>
            <span>
              started <b>{formatDateTime(run.created_at)}</b>
            </span>
            <span>
              duration <b>{runDuration(run, now)}</b>
            </span>
            <span>
              lines <b data-testid="head-lines">{formatCount(lines)}</b>
            </span>
            <span>
              errors{' '}
              <b data-testid="head-errors" style={errors ? { color: 'var(--err)' } : undefined}>
                {formatCount(errors)}
              </b>
            </span>
            <span className="mono sub">{run.id}</span>
          </div>
        )}
        <div className="tabs">
          <a
            className={`tab${tab === 'logs' ? ' active' : ''}`}
            href={paths.run(runId)}
            onClick={(e) => {
              e.preventDefault();
              navigate(paths.run(runId));
            }}
          >
            Logs
          </a>
          <a
            className={`tab${tab === 'overview' ? ' active' : ''}`}
            href={`${paths.run(runId)}?tab=overview`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`${paths.run(runId)}?tab=overview`);
            }}
          >
            Overview
          </a>
        </div>
      </div>
      {tab === 'logs' ? (
        fullId ? (
          <LogViewer runId={fullId} location={location} onRunState={onRunState} onSummary={onSummary} />
        ) : (
          <StateBox kind="loading" title="Loading…" />
        )
      ) : (
        <div className="overview">
          {run ? (
            <>
              <h3>Config</h3>
              <pre>{JSON.stringify(run.config ?? {}, null, 2)}</pre>
              <h3>Tags</h3>
              <p>{run.tags?.length ? run.tags.join(', ') : <span className="sub">none</span>}</p>
              <h3>Timing</h3>
              <p>
                created {formatDateTime(run.created_at)} · finished {formatDateTime(run.finished_at)}
              </p>
            </>
          ) : (
            <StateBox kind="loading" title="Loading…" />
          )}
        </div>
      )}
    </>
  );
}
