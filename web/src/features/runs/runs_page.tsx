import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client';
import { RUN_SORTS, RUN_STATES, type Run, type RunSort, type RunState, type RunsQuery } from '../../api/types';
import { useMe } from '../../components/auth';
import { ConfirmDialog, StateBadge, StateBox, useNow, usePolling } from '../../components/common';
import { Link } from '../../components/router';
import { formatCount, formatDateTime } from '../../lib/line_format';
import { mayDeleteRun } from '../../lib/permissions';
import { paths } from '../../lib/router';
import { topProblemText } from '../../lib/problems';
import { anyRunning, mergeRefreshed, runDuration, runLabel } from '../../lib/runs';
import { WebhooksPanel } from '../alerts/webhooks_panel';
import { ProjectProblems } from './project_problems';
import { ProjectSearch } from './project_search';
import { RetentionPanel } from './retention_panel';

const PAGE = 100;
const SORT_LABELS: Record<RunSort, string> = { created_at: 'start time', duration: 'duration', lines: 'lines', errors: 'errors' };

export function RunsPage({ project }: { project: string }) {
  // The loaded runs and the cursor after them change together (one state), so a poll's refresh
  // and a "load more" answering in either order never leave a stale cursor.
  const [list, setList] = useState<{ runs: Run[]; cursor: string | null } | null>(null);
  const runs = list?.runs ?? null;
  const cursor = list?.cursor ?? null;
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [deleting, setDeleting] = useState<Run | null>(null);
  const [q, setQ] = useState('');
  const [typed, setTyped] = useState('');
  const [state, setState] = useState<RunState | ''>('');
  const [sort, setSort] = useState<RunSort>('created_at');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  // Deleting runs and managing webhooks both need admin in the project.
  const canDelete = mayDeleteRun(useMe(), project);
  useEffect(() => {
    const id = window.setTimeout(() => setQ(typed.trim()), 250);
    return () => window.clearTimeout(id);
  }, [typed]);
  const query = useMemo<RunsQuery>(() => ({ project, q: q || undefined, state: state || undefined, sort, order }), [project, q, state, sort, order]);
  // Answers for an earlier search/sort (a poll or "more" still in flight) are dropped.
  const queryRef = useRef(query);
  queryRef.current = query;
  const loadedCount = useRef(0);
  loadedCount.current = runs?.length ?? 0;

  // The first page (and, when polling, as many runs as are shown, up to the API's page limit).
  const load = useCallback(
    (refresh: boolean) => {
      const limit = refresh ? Math.min(1000, Math.max(PAGE, loadedCount.current)) : PAGE;
      api
        .listRuns({ ...query, limit })
        .then((r) => {
          if (queryRef.current !== query) return;
          setList((cur) =>
            refresh && cur
              ? { runs: mergeRefreshed(r.runs, cur.runs), cursor: cur.runs.length <= limit ? r.next_cursor : cur.cursor }
              : { runs: r.runs, cursor: r.next_cursor },
          );
          setTotal(r.total ?? null);
          setError(null);
        })
        .catch((e: Error) => setError(e.message));
    },
    [query],
  );
  useEffect(() => {
    setList(null);
    load(false);
  }, [load]);
  useEffect(() => {
    api
      .listProjects()
      .then((ps) => setMissing(!ps.some((p) => p.name === project)))
      .catch(() => setMissing(false));
  }, [project]);
  const more = () => {
    const from = cursor;
    if (!from) return;
    api
      .listRuns({ ...query, cursor: from, limit: PAGE })
      .then((r) =>
        setList((cur) => {
          if (!cur || cur.cursor !== from || queryRef.current !== query) return cur; // the list has moved on
          const seen = new Set(cur.runs.map((x) => x.id));
          return { runs: [...cur.runs, ...r.runs.filter((x) => !seen.has(x.id))], cursor: r.next_cursor };
        }),
      )
      .catch((e: Error) => setError(e.message));
  };
  const live = !!runs && anyRunning(runs);
  usePolling(() => load(true), live ? 2000 : 10000, true);
  const now = useNow(1000, live);
  const filtered = !!q || !!state;

  if (missing && runs && runs.length === 0 && !filtered) {
    return (
      <div className="page" data-testid="runs-page">
        <StateBox kind="error" title="No such project" testId="no-such-project">
          <p>
            There is no project named <code>{project}</code>.
          </p>
          <Link href={paths.projects()}>See all projects</Link>
        </StateBox>
      </div>
    );
  }

  return (
    <div className="page" data-testid="runs-page">
      <h1>
        {project}{' '}
        <span className="sub" data-testid="runs-count">
          {runs ? `${formatCount(total ?? runs.length)} run${(total ?? runs.length) === 1 ? '' : 's'}${filtered ? ' match' : ''}` : ''}
        </span>
      </h1>
      <RetentionPanel project={project} />
      <ProjectSearch project={project} />
      <ProjectProblems project={project} />
      {canDelete && <WebhooksPanel project={project} />}
      <div className="toolbar runs-toolbar">
        <input className="text" placeholder="Search by name, id or tag" value={typed} data-testid="runs-search" onChange={(e) => setTyped(e.target.value)} />
        <select className="text" value={state} data-testid="runs-state" onChange={(e) => setState(e.target.value as RunState | '')}>
          <option value="">any state</option>
          {RUN_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select className="text" value={sort} data-testid="runs-sort" onChange={(e) => setSort(e.target.value as RunSort)}>
          {RUN_SORTS.map((s) => (
            <option key={s} value={s}>
              sort by {SORT_LABELS[s]}
            </option>
          ))}
        </select>
        <button className="btn" data-testid="runs-order" onClick={() => setOrder(order === 'desc' ? 'asc' : 'desc')}>
          {order === 'desc' ? '↓ desc' : '↑ asc'}
        </button>
      </div>
      {error && !runs && (
        <StateBox kind="error" title="Could not load runs">
          <p>{error}</p>
          <button className="btn" onClick={() => load(false)}>
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
      {runs && runs.length === 0 && filtered && <StateBox title="No runs match" glyph="⌕" testId="runs-none-match" />}
      {runs && runs.length === 0 && !filtered && (
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
              <th className="hide-narrow">Problem</th>
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
                <td className="hide-narrow" data-testid="run-problem">
                  <TopProblem run={r} />
                </td>
                <td className="num">
                  {canDelete && (
                    <button className="btn small danger" data-testid="delete-run" onClick={() => setDeleting(r)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs && cursor && (
        <button className="btn load-more" data-testid="runs-more" onClick={more}>
          Load more runs
        </button>
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
            setList((cur) => (cur ? { ...cur, runs: cur.runs.filter((x) => x.id !== deleting.id) } : cur));
            load(true);
          }}
        />
      )}
    </div>
  );
}

/** The run's worst problem; a click opens the run at its line. */
function TopProblem({ run }: { run: Run }) {
  const t = topProblemText(run.top_problem);
  if (!t || !run.top_problem) return null;
  return (
    <Link href={`${paths.run(run.id)}#L${run.top_problem.first_line}`}>
      <span className="problem-chip" title={t.title}>
        {t.text}
      </span>
    </Link>
  );
}
