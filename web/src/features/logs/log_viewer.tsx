import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { api, downloadUrl, streamUrl } from '../../api/client';
import { LEVELS, SOURCES, type RunState } from '../../api/types';
import { ConfirmDialog, StateBox, useNow } from '../../components/common';
import { navigate, type Location } from '../../components/router';
import { buildMatcher, formatCount } from '../../lib/line_format';
import { errorFilters, findError, findMatch } from '../../lib/navigation';
import {
  DEFAULT_VIEW,
  filtersKey,
  lineHash,
  matchFilters,
  parseViewState,
  toggle,
  viewFilters,
  viewStateQuery,
  type ViewState,
} from '../../lib/view_state';
import { Histogram } from './histogram';
import { LogView } from './log_view';
import type { SocketLike } from '../../lib/live';
import { LogViewport, type ViewportHandle } from './log_viewport';
import { ProgressStrip } from './progress_strip';

interface MatchInfo {
  total: number | null;
  current: { line: number; ordinal: number } | null;
  note: string | null;
}

function useThrottled<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, last.current + ms - Date.now());
    const id = window.setTimeout(() => {
      last.current = Date.now();
      setV(value);
    }, wait);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

export function LogViewer(props: { runId: string; location: Location; onRunState?: (s: RunState) => void }) {
  const { runId, location } = props;
  const vs = useMemo(() => parseViewState(location.search, location.hash), [location.search, location.hash]);
  const vsRef = useRef(vs);
  vsRef.current = vs;

  const setView = useCallback(
    (patch: Partial<ViewState>) => {
      const next = { ...vsRef.current, ...patch };
      navigate(location.pathname + viewStateQuery(next) + lineHash(next.line), { replace: true });
    },
    [location.pathname],
  );

  const filters = useMemo(() => viewFilters(vs), [vs]);
  const fkey = filtersKey(filters);
  const [refresh, setRefresh] = useState(0);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const view = useMemo(
    () =>
      new LogView(runId, filters, api, {
        // WebSocket's handler types are DOM-specific; SocketLike is the subset LiveConnection uses.
        createSocket: (after) => new WebSocket(streamUrl(runId, filters, after, window.location)) as unknown as SocketLike,
        paused: pausedRef.current,
      }),
    [runId, fkey, refresh],
  );
  useEffect(() => {
    void view.open();
    return () => view.dispose();
  }, [view]);
  const snap = useSyncExternalStore(view.subscribe, view.snapshot);

  // Back online / tab visible again: retry the live tail now instead of waiting out the backoff.
  useEffect(() => {
    const retry = () => document.visibilityState === 'visible' && view.retryLive();
    window.addEventListener('online', retry);
    document.addEventListener('visibilitychange', retry);
    return () => {
      window.removeEventListener('online', retry);
      document.removeEventListener('visibilitychange', retry);
    };
  }, [view]);

  const onRunState = props.onRunState;
  useEffect(() => {
    if (snap.runState) onRunState?.(snap.runState);
  }, [snap.runState, onRunState]);

  const [follow, setFollowState] = useState(vs.line === null);
  const setFollow = useCallback((f: boolean) => setFollowState(f), []);
  const [highlight, setHighlight] = useState<number | null>(vs.line);
  const viewport = useRef<ViewportHandle>(null);

  const jumpToLine = useCallback(
    async (line: number, opts: { setHash?: boolean } = {}) => {
      setHighlight(line);
      if (opts.setHash) setView({ line });
      const idx = await view.indexOfLine(line);
      viewport.current?.revealIndex(idx);
      if (!view.unfiltered) {
        // The line may be filtered out: we landed on the next row that is shown; mark that one.
        const landed = await view.whenLoaded(idx);
        if (landed && landed.line_number !== line) {
          setHighlight(landed.line_number);
          if (opts.setHash) setView({ line: landed.line_number });
        }
      }
    },
    [view, setView],
  );

  // A new view (filters changed, refresh): keep the line that was at the top, unless following
  // or a permalinked line takes over.
  const lastTopLine = useRef<number | null>(null);
  useEffect(() => {
    lastTopLine.current = viewport.current?.topLine() ?? lastTopLine.current;
  });
  const keepLine = useRef<{ view: LogView; line: number } | null>(null);
  useEffect(() => {
    keepLine.current = lastTopLine.current !== null ? { view, line: lastTopLine.current } : null;
  }, [view]);
  useEffect(() => {
    const k = keepLine.current;
    if (snap.phase !== 'ready' || !k || k.view !== view) return;
    keepLine.current = null;
    if (follow || vsRef.current.line !== null) return;
    void view.indexOfLine(k.line).then((idx) => viewport.current?.setTopIndex(idx));
  }, [snap.phase, view]);

  // Permalink: scroll to #L123 once the view is ready, and whenever the hash changes.
  const jumped = useRef<string>('');
  useEffect(() => {
    if (snap.phase !== 'ready' || vs.line === null) return;
    const k = `${fkey}|${refresh}|${vs.line}`;
    if (jumped.current === k) return;
    jumped.current = k;
    void jumpToLine(vs.line);
  }, [snap.phase, vs.line, fkey, refresh, jumpToLine]);

  // --- search -----------------------------------------------------------------------------------
  const [searchText, setSearchText] = useState(vs.search);
  useEffect(() => setSearchText(vs.search), [vs.search]);
  useEffect(() => {
    if (searchText === vsRef.current.search) return;
    const id = window.setTimeout(() => setView({ search: searchText }), 300);
    return () => window.clearTimeout(id);
  }, [searchText, setView]);
  const { matcher, error: regexError } = useMemo(() => buildMatcher(vs.search, vs.regex), [vs.search, vs.regex]);
  const mfilters = useMemo(() => matchFilters(vs), [vs]);
  const mkey = filtersKey(mfilters);
  const [match, setMatch] = useState<MatchInfo>({ total: null, current: null, note: null });
  // Recount as the run grows, at most every 5 s: a count is a scan of the run on the server.
  const totalBucket = useThrottled(snap.total, 5000);
  useEffect(() => {
    setMatch((m) => ({ ...m, current: null, note: null }));
  }, [mkey]);
  useEffect(() => {
    if (!vs.search || regexError) {
      setMatch({ total: null, current: null, note: null });
      return;
    }
    const ctl = new AbortController();
    api
      .locate(runId, mfilters, 1, ctl.signal)
      .then((r) => setMatch((m) => ({ ...m, total: r.total })))
      .catch((e: Error) => e.name !== 'AbortError' && setMatch({ total: null, current: null, note: e.message }));
    return () => ctl.abort();
  }, [runId, mkey, regexError, totalBucket, refresh]);

  const gotoMatch = useCallback(
    async (dir: 1 | -1) => {
      if (!vs.search || regexError) return;
      const from = match.current?.line ?? highlight ?? viewport.current?.topLine() ?? 0;
      try {
        const hit = await findMatch(api, runId, mfilters, from, dir);
        if (!hit) {
          setMatch((m) => ({ ...m, current: null, note: 'no matches' }));
          return;
        }
        const note = hit.wrapped ? (dir > 0 ? 'wrapped to the first match' : 'wrapped to the last match') : null;
        setMatch({ total: hit.total, current: { line: hit.line, ordinal: hit.ordinal }, note });
        await jumpToLine(hit.line);
      } catch (e) {
        setMatch((m) => ({ ...m, note: (e as Error).message }));
      }
    },
    [vs.search, regexError, match, highlight, runId, mfilters, jumpToLine],
  );

  // --- jump to errors ---------------------------------------------------------------------------
  const errFilters = useMemo(() => errorFilters(filters), [filters]);
  const [errorNote, setErrorNote] = useState<string | null>(null);
  const gotoError = useCallback(
    async (first: boolean) => {
      if (!errFilters) return;
      const from = first ? 0 : (highlight ?? viewport.current?.topLine() ?? 0);
      try {
        const line = await findError(api, runId, errFilters, from);
        setErrorNote(line !== null ? null : first ? 'no errors' : 'no more errors');
        if (line !== null) await jumpToLine(line);
      } catch (e) {
        setErrorNote((e as Error).message);
      }
    },
    [errFilters, highlight, runId, jumpToLine],
  );
  useEffect(() => {
    if (!errorNote) return;
    const id = window.setTimeout(() => setErrorNote(null), 2500);
    return () => window.clearTimeout(id);
  }, [errorNote]);

  // --- controls ---------------------------------------------------------------------------------
  const togglePause = useCallback(() => {
    setPaused((p) => {
      if (p) view.resume();
      else view.pause();
      return !p;
    });
  }, [view]);
  const [goto, setGoto] = useState('');
  const [confirmClear, setConfirmClear] = useState(false);
  const [menu, setMenu] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!menu) return;
    const close = (e: MouseEvent) => {
      if (!menuRef.current?.contains(e.target as Node)) setMenu(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [menu]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (document.querySelector('[data-testid="confirm-dialog"]')) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (e.key === 'g') {
        e.preventDefault();
        viewport.current?.toTop();
      } else if (e.key === 'G') {
        e.preventDefault();
        setFollow(true);
      } else if (e.key === ' ') {
        e.preventDefault();
        togglePause();
      } else if (e.key === 'n' && vsRef.current.search) {
        void gotoMatch(1);
      } else if (e.key === 'N' && vsRef.current.search) {
        void gotoMatch(-1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [togglePause, setFollow, gotoMatch]);

  const onLineClick = useCallback(
    (line: number) => {
      setHighlight(line);
      jumped.current = `${fkey}|${refresh}|${line}`; // already in view: do not scroll
      setView({ line });
    },
    [setView, fkey, refresh],
  );

  const summary = snap.summary;
  const writers = summary ? Object.keys(summary.by_writer).sort() : [];
  const showWriter = writers.length > 1;
  const dlFilters = filters;
  const hasFilters = fkey !== filtersKey(viewFilters(DEFAULT_VIEW));
  const histToken = snap.total; // refetch as lines arrive (throttled inside Histogram)

  const now = useNow(250, snap.live === 'reconnecting');
  const connText: Record<string, string> = {
    live: snap.runState && snap.runState !== 'running' ? `Live · run ${snap.runState}` : 'Live',
    connecting: 'Connecting…',
    reconnecting: `Connection lost · retrying${snap.retryAt && snap.retryAt > now + 500 ? ` in ${Math.ceil((snap.retryAt - now) / 1000)}s` : ''}…`,
    paused: 'Paused',
    failed: `Stream error${snap.liveError ? `: ${snap.liveError}` : ''}`,
    stopped: '',
  };

  let overlay = null;
  if (snap.phase === 'loading') {
    overlay = (
      <div className="view-empty">
        <StateBox kind="loading" title="Loading logs…" testId="logs-loading" />
      </div>
    );
  } else if (snap.phase === 'error') {
    overlay = (
      <div className="view-empty">
        <StateBox kind="error" title="Could not load the logs" testId="logs-error">
          <p>{snap.error}</p>
          <button className="btn" onClick={() => setRefresh((r) => r + 1)}>
            Retry
          </button>
        </StateBox>
      </div>
    );
  } else if (snap.total === 0) {
    overlay = (
      <div className="view-empty">
        {hasFilters ? (
          <StateBox title="No lines match these filters" glyph="⌕" testId="logs-empty-filtered">
            <button className="btn" onClick={() => setView({ levels: [], sources: [], writers: [], onlyMatches: false })}>
              Clear filters
            </button>
          </StateBox>
        ) : snap.runState === 'running' ? (
          <StateBox kind="loading" title="Waiting for the first line…" testId="logs-empty">
            <p>Lines appear here live as the run prints them.</p>
          </StateBox>
        ) : (
          <StateBox title="This run has no logs" glyph="∅" testId="logs-empty" />
        )}
      </div>
    );
  }

  return (
    <div className="logs" data-testid="log-viewer" data-phase={snap.phase}>
      <div className="toolbar">
        <div className="group search-box">
          <input
            ref={searchRef}
            className={`text${regexError ? ' bad' : ''}`}
            placeholder={vs.regex ? 'Regex search (/)' : 'Search all lines (/)'}
            value={searchText}
            data-testid="search-input"
            onChange={(e) => setSearchText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                if (searchText !== vs.search) setView({ search: searchText });
                else void gotoMatch(e.shiftKey ? -1 : 1);
              } else if (e.key === 'Escape') {
                setSearchText('');
                setView({ search: '' });
                (e.target as HTMLInputElement).blur();
              }
            }}
            title={regexError ?? undefined}
          />
          <button
            className={`btn icon mono${vs.regex ? ' on' : ''}`}
            title="Regular expression (RE2)"
            data-testid="regex-toggle"
            aria-pressed={vs.regex}
            onClick={() => setView({ regex: !vs.regex })}
          >
            .*
          </button>
          <button
            className={`btn small${vs.onlyMatches ? ' on' : ''}`}
            title="Show only matching lines"
            data-testid="only-toggle"
            aria-pressed={vs.onlyMatches}
            onClick={() => setView({ onlyMatches: !vs.onlyMatches })}
          >
            Only matches
          </button>
          <button className="btn icon" title="Previous match (Shift+Enter)" data-testid="prev-match" disabled={!vs.search} onClick={() => void gotoMatch(-1)}>
            ↑
          </button>
          <button className="btn icon" title="Next match (Enter)" data-testid="next-match" disabled={!vs.search} onClick={() => void gotoMatch(1)}>
            ↓
          </button>
          <span className="match-count" data-testid="match-count">
            {regexError
              ? 'bad regex'
              : vs.search && match.total !== null
                ? match.current
                  ? `${formatCount(match.current.ordinal)} of ${formatCount(match.total)}`
                  : `${formatCount(match.total)} match${match.total === 1 ? '' : 'es'}`
                : ''}
            {match.note && <span className="sub"> · {match.note}</span>}
          </span>
        </div>
        <form
          className="group goto"
          onSubmit={(e) => {
            e.preventDefault();
            const n = parseInt(goto.replace(/[,_\s]/g, ''), 10);
            if (Number.isSafeInteger(n) && n > 0) void jumpToLine(n, { setHash: true });
          }}
        >
          <input className="text" placeholder="Go to line" value={goto} data-testid="goto-input" onChange={(e) => setGoto(e.target.value)} />
        </form>
        <div className="group">
          <button className={`btn${paused ? ' on' : ''}`} data-testid="pause-toggle" title="Pause live updates (Space)" onClick={togglePause}>
            {paused ? '▶ Resume' : 'Pause'}
          </button>
          <button
            className={`btn${follow ? ' on' : ''}`}
            data-testid="follow-toggle"
            aria-pressed={follow}
            title="Follow the tail (G)"
            onClick={() => setFollow(!follow)}
          >
            ⇣ Follow
          </button>
          <button className={`btn${vs.wrap ? ' on' : ''}`} data-testid="wrap-toggle" aria-pressed={vs.wrap} onClick={() => setView({ wrap: !vs.wrap })}>
            Wrap
          </button>
          <button
            className={`btn${vs.fullDate ? ' on' : ''}`}
            data-testid="date-toggle"
            aria-pressed={vs.fullDate}
            title="Show full dates"
            onClick={() => setView({ fullDate: !vs.fullDate })}
          >
            Date
          </button>
        </div>
        <div className="group">
          <button className="btn" data-testid="first-error" disabled={!errFilters} onClick={() => void gotoError(true)} title="Jump to the first error">
            ⚠ First error
          </button>
          <button className="btn" data-testid="next-error" disabled={!errFilters} onClick={() => void gotoError(false)} title="Jump to the next error">
            Next ↓
          </button>
          {errorNote && <span className="sub">{errorNote}</span>}
        </div>
        <div className="spacer" />
        <div className="group">
          <button className="btn icon" data-testid="refresh" title="Refresh" onClick={() => setRefresh((r) => r + 1)}>
            ⟳
          </button>
          <div className="menu" ref={menuRef}>
            <button className="btn" data-testid="download" aria-expanded={menu} onClick={() => setMenu((m) => !m)}>
              ⤓ Download
            </button>
            {menu && (
              <div className="menu-list">
                {(['txt', 'json', 'csv'] as const).map((f) => (
                  <a key={f} href={downloadUrl(runId, f, dlFilters)} download data-testid={`download-${f}`} onClick={() => setMenu(false)}>
                    {f.toUpperCase()}
                    {hasFilters ? ' (filtered)' : ''}
                  </a>
                ))}
              </div>
            )}
          </div>
          <button className="btn danger" data-testid="clear-logs" onClick={() => setConfirmClear(true)}>
            Clear
          </button>
        </div>
      </div>
      <div className="toolbar">
        <div className="group" data-testid="level-filter">
          <span className="label">Level</span>
          <button className={`chip${vs.levels.length === 0 ? ' on' : ''}`} data-value="ALL" onClick={() => setView({ levels: [] })}>
            ALL {summary && <span className="n">{formatCount(summary.total)}</span>}
          </button>
          {LEVELS.map((l) => (
            <button
              key={l}
              className={`chip lvl-${l}${vs.levels.includes(l) ? ' on' : ''}`}
              data-value={l}
              aria-pressed={vs.levels.includes(l)}
              onClick={() => setView({ levels: toggle(vs.levels, l) })}
            >
              {l} {summary && <span className="n" data-testid={`count-${l}`}>{formatCount(summary.by_level[l] ?? 0)}</span>}
            </button>
          ))}
        </div>
        <div className="group" data-testid="source-filter">
          <span className="label">Source</span>
          <button className={`chip${vs.sources.length === 0 ? ' on' : ''}`} data-value="ALL" onClick={() => setView({ sources: [] })}>
            ALL
          </button>
          {SOURCES.map((s) => (
            <button
              key={s}
              className={`chip${vs.sources.includes(s) ? ' on' : ''}`}
              data-value={s}
              aria-pressed={vs.sources.includes(s)}
              onClick={() => setView({ sources: toggle(vs.sources, s) })}
            >
              {s} {summary && <span className="n">{formatCount(summary.by_source[s] ?? 0)}</span>}
            </button>
          ))}
        </div>
        {(writers.length > 1 || vs.writers.length > 0) && (
          <div className="group">
            <span className="label">Writer</span>
            <select
              className="text"
              data-testid="writer-filter"
              value={vs.writers[0] ?? ''}
              onChange={(e) => setView({ writers: e.target.value ? [e.target.value] : [] })}
            >
              <option value="">ALL</option>
              {[...new Set([...writers, ...vs.writers])].map((w) => (
                <option key={w} value={w}>
                  {w} {summary?.by_writer[w] !== undefined ? `(${formatCount(summary.by_writer[w]!)})` : ''}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="spacer" />
        <span className="summary" data-testid="summary">
          {summary && (
            <>
              <span>
                <b data-testid="summary-total">{formatCount(summary.total)}</b> lines
              </span>
              {hasFilters && (
                <span>
                  <b data-testid="view-total">{formatCount(snap.total)}</b> shown
                </span>
              )}
            </>
          )}
        </span>
      </div>
      {snap.fetchError && (
        <div className="banner" data-testid="fetch-error">
          Could not load lines: {snap.fetchError}
          <button className="btn small" onClick={() => setRefresh((r) => r + 1)}>
            Retry
          </button>
        </div>
      )}
      {regexError && <div className="banner warn">{regexError}</div>}
      <Histogram runId={runId} filters={filters} token={histToken + refresh * 100000} onJump={(l) => void jumpToLine(l, { setHash: true })} />
      <LogViewport
        ref={viewport}
        view={view}
        snap={snap}
        wrap={vs.wrap}
        fullDate={vs.fullDate}
        matcher={matcher}
        showWriter={showWriter}
        highlightLine={highlight}
        follow={follow}
        setFollow={setFollow}
        onLineClick={onLineClick}
        overlay={
          <>
            {overlay}
            {snap.live !== 'stopped' && (
              <span className={`conn conn-pill ${snap.live}`} data-testid="conn-state" data-state={snap.live} title={snap.liveError ?? undefined}>
                {connText[snap.live]}
                {snap.live === 'reconnecting' && (
                  <button className="btn small" onClick={() => view.retryLive()}>
                    Retry now
                  </button>
                )}
              </span>
            )}
          </>
        }
      />
      <ProgressStrip progress={snap.progress} showWriter={showWriter} />
      {confirmClear && (
        <ConfirmDialog
          title="Clear all logs?"
          body={
            <>
              All {summary ? formatCount(summary.total) : ''} lines of this run will be deleted for every viewer. New lines continue the
              numbering. This cannot be undone.
            </>
          }
          confirmLabel="Clear logs"
          onCancel={() => setConfirmClear(false)}
          onConfirm={async () => {
            await api.clearLogs(runId);
            setConfirmClear(false);
            setHighlight(null);
            if (vsRef.current.line !== null) setView({ line: null });
            setRefresh((r) => r + 1);
          }}
        />
      )}
    </div>
  );
}
