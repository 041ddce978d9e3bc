import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Run, RunState } from '../../api/types';
import { StateBadge, StateBox, useNow, usePolling } from '../../components/common';
import { Link, navigate, type Location } from '../../components/router';
import { formatCount, formatDateTime } from '../../lib/line_format';
import { paths } from '../../lib/router';
import { runDuration, runLabel } from '../../lib/runs';
import { LogViewer } from '../logs/log_viewer';

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

  const tab = new URLSearchParams(location.search).get('tab') === 'overview' ? 'overview' : 'logs';

  if (error && !run) {
    const notFound = error instanceof ApiError && error.status === 404;
    return (
      <div className="page">
        <StateBox kind="error" title={notFound ? 'Run not found' : 'Could not load the run'} testId="run-error">
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
              lines <b>{formatCount(run.line_count)}</b>
            </span>
            <span>
              errors <b style={run.error_count ? { color: 'var(--err)' } : undefined}>{formatCount(run.error_count)}</b>
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
        <LogViewer runId={runId} location={location} onRunState={onRunState} />
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
