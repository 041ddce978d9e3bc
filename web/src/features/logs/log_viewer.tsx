// The log viewer: composes the hooks (URL state, the LogView, search, selection, navigation,
// shortcuts) and the toolbar pieces. Logic lives in the hooks and src/lib; this file only wires.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { LogLine, LogSummary, RunState, ServerFilters } from '../../api/types';
import { removedNotice } from '../../lib/retention';
import { useMe } from '../../components/auth';
import { ConfirmDialog } from '../../components/common';
import type { Location } from '../../components/router';
import { formatCount, formatElapsed, formatTimestamp } from '../../lib/line_format';
import { mayClearLogs } from '../../lib/permissions';
import { DEFAULT_VIEW, filtersKey, viewFilters, type LineRange } from '../../lib/view_state';
import { writerColor } from '../../lib/writers';
import { ProblemsPanel } from '../problems/problems_panel';
import { Histogram } from './histogram';
import { LogViewport, type ViewportHandle } from './log_viewport';
import { ProgressStrip } from './progress_strip';
import { ConnPill } from './toolbar/conn_pill';
import { CopyButton } from './toolbar/copy_button';
import { DownloadMenu } from './toolbar/download_menu';
import { ErrorNav } from './toolbar/error_nav';
import { FilterBar } from './toolbar/filter_bar';
import { FieldFilterBox } from './toolbar/field_filter_box';
import { FieldsPanel } from './fields_panel';
import { BookmarksPanel } from './bookmarks_panel';
import { useBookmarks } from './use_bookmarks';
import { withFieldFilter } from '../../lib/fields';
import { GotoBox } from './toolbar/goto_box';
import { SearchBox } from './toolbar/search_box';
import { ShortcutsHelp } from './toolbar/shortcuts_help';
import { ViewControls } from './toolbar/view_controls';
import { ViewOverlay } from './toolbar/view_overlay';
import { FoldSortControls } from './toolbar/fold_sort_controls';
import { TimeWindow } from './toolbar/time_window';
import { useFolds } from './use_folds';
import { useLogView } from './use_log_view';
import { useNavigation } from './use_navigation';
import { useSearch } from './use_search';
import { useSelection } from './use_selection';
import { useShortcuts } from './use_shortcuts';
import { useViewState } from './use_view_state';

/** The same object while the filters' content is the same. */
function useStableFilters(f: ServerFilters): ServerFilters {
  const ref = useRef(f);
  if (filtersKey(ref.current) !== filtersKey(f)) ref.current = f;
  return ref.current;
}

export function LogViewer(props: {
  runId: string;
  /** The run's project, once known: what the credential may do can depend on it. */
  project: string | null;
  location: Location;
  onRunState?: (s: RunState) => void;
  /** The run's live totals (lines, levels), for the run header. */
  onSummary?: (s: LogSummary) => void;
}) {
  const { runId } = props;
  const { vs, vsRef, setView } = useViewState(props.location);
  const viewport = useRef<ViewportHandle>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const [countTotal, setCountTotal] = useState(0);
  const [refresh, setRefresh] = useState(0);
  const search = useSearch(runId, vs, setView, countTotal, refresh);
  // A pattern the server has not accepted (yet) never reaches the view: it keeps what it showed.
  const lastFilters = useRef<ServerFilters | null>(null);
  const next = viewFilters(vs);
  const filters = useStableFilters(search.usable ? next : (lastFilters.current ?? viewFilters({ ...vs, search: '' })));
  lastFilters.current = filters;
  const lv = useLogView(runId, filters, vs.sort === 'time');
  const { view, snap } = lv;
  useEffect(() => setCountTotal(snap.total), [snap.total]);
  useEffect(() => setRefresh(lv.refresh), [lv.refresh]);
  const viewKey = `${filtersKey(filters)}|${lv.refresh}|${vs.sort}`;
  const folds = useFolds(runId, filters, view, snap, vs.fold);
  const sel = useSelection(view, snap, vs, vsRef, setView, viewport, viewKey, folds.step);
  const from = useCallback(() => sel.cursor ?? viewport.current?.topLine() ?? 0, [sel.cursor]);
  const timeView = useCallback(() => (view.timeOrder ? { base: filters, upToLine: view.upToLine } : null), [view, filters]);
  const nav = useNavigation(runId, filters, search, from, sel.jumpToLine, timeView);
  const [help, setHelp] = useState(false);

  const { onRunState, onSummary } = props;
  useEffect(() => {
    if (snap.runState) onRunState?.(snap.runState);
  }, [snap.runState, onRunState]);
  useEffect(() => {
    if (snap.summary) onSummary?.(snap.summary);
  }, [snap.summary, onSummary]);

  useShortcuts({
    search: () => {
      searchRef.current?.focus();
      searchRef.current?.select();
    },
    top: () => viewport.current?.toTop(),
    bottom: () => sel.setFollow(true),
    pause: lv.togglePause,
    nextMatch: () => vs.search && void nav.gotoMatch(1),
    prevMatch: () => vs.search && void nav.gotoMatch(-1),
    cursorDown: () => void sel.moveCursor(1),
    cursorUp: () => void sel.moveCursor(-1),
    open: () => void folds.toggleAtLine(from()),
    help: () => setHelp(true),
  });

  const summary = snap.summary;
  const writers = useMemo(() => (summary ? Object.keys(summary.by_writer).sort() : []), [summary]);
  const writerColors = useMemo(
    () => (writers.length > 1 ? new Map(writers.map((w) => [w, writerColor(w, writers)])) : null),
    [writers],
  );
  const origin = summary?.first_timestamp ?? null;
  const formatTime = useMemo(
    () => (vs.time === 'elapsed' && origin ? (ts: string) => formatElapsed(ts, origin) : (ts: string) => formatTimestamp(ts, vs.fullDate)),
    [vs.time, vs.fullDate, origin],
  );
  const fetchLines = useCallback(
    async (r: LineRange): Promise<LogLine[]> => {
      const { context: _c, ...f } = filters;
      const res = await api.listLogs(runId, f, { afterLine: r.first - 1, limit: Math.min(10_000, r.last - r.first + 1), order: 'asc' });
      return res.logs.filter((l) => l.line_number <= r.last);
    },
    [runId, filters],
  );
  const jumpToLine = sel.jumpToLine;
  const onHistJump = useCallback((l: number) => void jumpToLine(l, { setHash: true }), [jumpToLine]);
  const filtered = filtersKey(filters) !== filtersKey(viewFilters(DEFAULT_VIEW));
  const [confirmClear, setConfirmClear] = useState(false);
  const [fieldsLine, setFieldsLine] = useState<LogLine | null>(null);
  const bookmarks = useBookmarks(runId);
  const [showBookmarks, setShowBookmarks] = useState(false);
  const onBookmarkJump = useCallback(
    (first: number, last: number) => {
      setView({ line: first, lineEnd: last === first ? null : last });
      void jumpToLine(first);
    },
    [setView, jumpToLine],
  );
  const onFieldFilter = useCallback((expr: string) => setView({ fields: withFieldFilter(vsRef.current.fields, expr) }), [setView, vsRef]);
  const canClear = mayClearLogs(useMe(), props.project);

  return (
    <div className="logs" data-testid="log-viewer" data-phase={snap.phase}>
      <ProblemsPanel runId={runId} total={summary?.total ?? 0} onJump={(l) => void jumpToLine(l, { setHash: true })} />
      <div className="toolbar">
        <SearchBox vs={vs} setView={setView} search={search} inputRef={searchRef} gotoMatch={(d) => void nav.gotoMatch(d)} />
        <GotoBox onGo={(n) => void sel.jumpToLine(n, { setHash: true })} note={sel.note} />
        <ViewControls vs={vs} setView={setView} paused={lv.paused} togglePause={lv.togglePause} follow={sel.follow} setFollow={sel.setFollow} />
        <FoldSortControls vs={vs} setView={setView} folds={folds} />
        <ErrorNav enabled={nav.canError} note={nav.errorNote} gotoError={(f) => void nav.gotoError(f)} />
        <CopyButton range={sel.range} fetchLines={fetchLines} formatTime={formatTime} />
        <div className="spacer" />
        <div className="group">
          <button
            className={`btn${showBookmarks ? ' on' : ''}`}
            data-testid="bookmarks-toggle"
            title="Bookmarks of this run"
            aria-pressed={showBookmarks}
            onClick={() => setShowBookmarks((v) => !v)}
          >
            Bookmarks{bookmarks.list.length > 0 && <span className="n"> {bookmarks.list.length}</span>}
          </button>
          <button className="btn icon" data-testid="shortcuts" title="Keyboard shortcuts (?)" onClick={() => setHelp(true)}>
            ?
          </button>
          <button className="btn icon" data-testid="refresh" title="Refresh" onClick={lv.reload}>
            ⟳
          </button>
          <DownloadMenu runId={runId} filters={filters} filtered={filtered} elapsed={vs.time === 'elapsed'} />
          {canClear && (
            <button className="btn danger" data-testid="clear-logs" onClick={() => setConfirmClear(true)}>
              Clear
            </button>
          )}
        </div>
      </div>
      <div className="toolbar">
        <FilterBar vs={vs} setView={setView} summary={summary} writers={writers} />
        <FieldFilterBox vs={vs} setView={setView} />
        <TimeWindow vs={vs} setView={setView} />
        <div className="spacer" />
        <span className="summary" data-testid="summary">
          {summary && (
            <>
              <span>
                <b data-testid="summary-total">{formatCount(summary.total)}</b> lines
              </span>
              {filtered && (
                <span>
                  <b data-testid="view-total">{formatCount(snap.total)}</b> shown
                </span>
              )}
            </>
          )}
        </span>
        <ConnPill snap={snap} retry={() => view.retryLive()} />
      </div>
      {snap.fetchError && (
        <div className="banner" data-testid="fetch-error">
          Could not load lines: {snap.fetchError}
          <button className="btn small" onClick={lv.reload}>
            Retry
          </button>
        </div>
      )}
      {removedNotice(summary?.removed) && (
        <div className="banner info" data-testid="retention-notice">
          {removedNotice(summary?.removed)}
        </div>
      )}
      <Histogram
        runId={runId}
        filters={filters}
        token={snap.total + lv.refresh * 100000}
        onJump={onHistJump}
        onWindow={setView}
      />
      <LogViewport
        ref={viewport}
        view={view}
        snap={snap}
        wrap={vs.wrap}
        formatTime={formatTime}
        matcher={search.matcher}
        writerColors={writerColors}
        highlight={sel.range}
        cursorLine={sel.cursor}
        follow={sel.follow}
        setFollow={sel.setFollow}
        onLineClick={sel.onLineClick}
        onFieldFilter={onFieldFilter}
        onShowFields={setFieldsLine}
        rows={folds.map}
        onToggleFold={folds.toggle}
        onReveal={folds.reveal}
        overlay={
          <ViewOverlay
            snap={snap}
            filtered={filtered}
            reload={lv.reload}
            clearFilters={() => setView({ levels: [], sources: [], writers: [], fields: [], onlyMatches: false, since: null, until: null })}
          />
        }
      />
      {showBookmarks && (
        <BookmarksPanel bookmarks={bookmarks} selection={sel.range} onJump={onBookmarkJump} onClose={() => setShowBookmarks(false)} />
      )}
      <ProgressStrip progress={snap.progress} showWriter={!!writerColors} />
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
      {fieldsLine && <FieldsPanel line={fieldsLine} onClose={() => setFieldsLine(null)} />}
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
            sel.clear();
            if (vsRef.current.line !== null) setView({ line: null });
            lv.reload();
          }}
        />
      )}
    </div>
  );
}
