// The scrolling surface of the log viewer. Position is `top`, a fractional row index, mapped onto
// a capped native scrollbar by lib/scroll_map.ts; rows are rendered only for the visible window
// and come from the LogView's cache (placeholders while a page is in flight). Rows are not view
// indices when folds are closed: `rows` (lib/folds.ts) maps between them; the handle's methods
// take view indices.
import {
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useReducer,
  useRef,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { gutterWidth, type Matcher } from '../../lib/line_format';
import type { LineRange } from '../../lib/view_state';
import type { LogLine } from '../../api/types';
import { useCopyMessages } from './use_copy_messages';
import {
  atBottom,
  clampTop,
  maxTop,
  movedByUser,
  scrollTopFor,
  spacerHeight,
  topFor,
  topToReveal,
  visibleRows,
  windowFor,
  type ScrollGeometry,
  type ScrollSync,
} from '../../lib/scroll_map';
import type { RowMap } from '../../lib/folds';
import { PAGE } from '../../lib/line_window';
import type { LogView, LogViewSnapshot } from './log_view';
import { LogRow, PlaceholderRow } from './log_row';

export const ROW_HEIGHT = 18;
/** Rendered rows start up to this many rows above the top one (see `from` below). */
const BLOCK = 48;

export interface ViewportHandle {
  revealIndex(index: number): void;
  /** Puts row `index` at the top edge (stops following). */
  setTopIndex(index: number): void;
  toTop(): void;
  /** Line number of the row at the top edge, if loaded. */
  topLine(): number | null;
  focus(): void;
}

interface Props {
  view: LogView;
  snap: LogViewSnapshot;
  wrap: boolean;
  formatTime: (ts: string) => string;
  matcher: Matcher | null;
  /** Colours per writer (only when the run has several). */
  writerColors: ReadonlyMap<string, string> | null;
  highlight: LineRange | null;
  cursorLine: number | null;
  follow: boolean;
  setFollow: (f: boolean) => void;
  onLineClick: (line: number, extend: boolean) => void;
  onFieldFilter: (expr: string) => void;
  onShowFields: (line: LogLine) => void;
  /** Rows <-> view indices (identity without folds). */
  rows: RowMap;
  onToggleFold: (start: number) => void;
  /** Told of every index revealed (jumped to): the fold hiding it must open. */
  onReveal: (index: number) => void;
  overlay?: ReactNode;
}

/** Ensures the lines shown at rows [first, end): a closed fold needs only its first line. */
function ensureRows(view: LogView, rows: RowMap, first: number, end: number): void {
  let a = -1;
  let b = -1;
  for (let r = first; r < end; r++) {
    const i = rows.indexOfRow(r);
    if (a >= 0 && i - b > PAGE) {
      view.ensure(a, b + 1);
      a = -1;
    }
    if (a < 0) a = i;
    b = i;
  }
  if (a >= 0) view.ensure(a, b + 1);
}

export const LogViewport = forwardRef<ViewportHandle, Props>(function LogViewport(props, ref) {
  const { view, snap, follow, setFollow, rows: rowMap } = props;
  const scrollerRef = useRef<HTMLDivElement>(null);
  const [vh, setVh] = useState(0);
  const [, force] = useReducer((x: number) => x + 1, 0);
  const topRef = useRef(0);
  const baseRow = useRef(0); // the first rendered row (see `from` below)
  const expected = useRef<number | null>(null);
  const lastSync = useRef<ScrollSync>({ scrollTop: 0, maxScroll: 0 });
  const [newLines, setNewLines] = useState(0);

  const g: ScrollGeometry = { rows: rowMap.rows(snap.total), rowHeight: ROW_HEIGHT, viewportHeight: vh || 1 };
  const gRef = useRef(g);
  gRef.current = g;
  const followRef = useRef(follow);
  followRef.current = follow;
  const mapRef = useRef(rowMap);
  // Folds opened, closed or arrived: the line at the top stays at the top.
  if (mapRef.current !== rowMap) {
    const t = topRef.current;
    const idx = mapRef.current.indexOfRow(Math.floor(t));
    topRef.current = rowMap.rowOfIndex(idx) + (rowMap.hiddenIndex(idx) ? 0 : t - Math.floor(t));
    mapRef.current = rowMap;
  }
  // A reveal waits for the fold hiding its index to open.
  const pendingReveal = useRef<number | null>(null);
  if (pendingReveal.current !== null && !rowMap.hiddenIndex(pendingReveal.current)) {
    topRef.current = topToReveal(rowMap.rowOfIndex(pendingReveal.current), g);
    pendingReveal.current = null;
  }

  if (follow) topRef.current = maxTop(g);
  else topRef.current = clampTop(topRef.current, g);
  const top = topRef.current;

  useLayoutEffect(() => {
    const el = scrollerRef.current!;
    const ro = new ResizeObserver(() => setVh(el.clientHeight));
    ro.observe(el);
    setVh(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (follow) setNewLines(0);
  }, [follow]);

  useEffect(
    () =>
      view.onAppend((n) => {
        if (!followRef.current) setNewLines((c) => c + n);
      }),
    [view],
  );
  useEffect(() => setNewLines(0), [view]);

  // Keep the native scrollbar where `top` says, unless the user has moved it since the last
  // render and its scroll event is still to come: then the move wins (see movedByUser).
  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    if (movedByUser(lastSync.current, el.scrollTop, el.scrollHeight - el.clientHeight)) {
      applyScroll(el);
      return;
    }
    const st = scrollTopFor(top, g);
    if (Math.abs(el.scrollTop - st) > 1) {
      expected.current = st;
      el.scrollTop = st;
    }
    lastSync.current = { scrollTop: el.scrollTop, maxScroll: el.scrollHeight - el.clientHeight };
  });

  const setTop = useCallback(
    (t: number, userDelta: number) => {
      const gg = gRef.current;
      const next = clampTop(t, gg);
      if (userDelta < 0 && followRef.current && next < maxTop(gg) - 0.01) setFollow(false);
      else if (userDelta > 0 && !followRef.current && atBottom(next, gg)) setFollow(true);
      topRef.current = next;
      force();
    },
    [setFollow],
  );

  useCopyMessages(scrollerRef, view, rowMap);
  const lnWidth = gutterWidth(Math.max(view.line(snap.total - 1)?.line_number ?? 0, snap.summary?.last_line ?? 0));
  const { onReveal } = props;

  /** Takes the scroller's position as the user's. */
  function applyScroll(el: HTMLDivElement) {
    const st = el.scrollTop;
    lastSync.current = { scrollTop: st, maxScroll: el.scrollHeight - el.clientHeight };
    expected.current = null;
    const t = topFor(st, gRef.current);
    setTop(t, t - topRef.current);
  }

  const onScroll = () => {
    const el = scrollerRef.current!;
    const st = el.scrollTop;
    if (st === lastSync.current.scrollTop) return; // horizontal scroll only, or already taken
    if (expected.current !== null && Math.abs(st - expected.current) <= 1.5) {
      expected.current = null;
      lastSync.current = { scrollTop: st, maxScroll: el.scrollHeight - el.clientHeight };
      return;
    }
    applyScroll(el);
  };

  // Wheel in rows, not in (possibly scaled) pixels.
  useEffect(() => {
    const el = scrollerRef.current!;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
      e.preventDefault();
      const gg = gRef.current;
      const rows = e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * visibleRows(gg) : e.deltaY / ROW_HEIGHT;
      setTop(topRef.current + rows, rows);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [setTop]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor(visibleRows(g)) - 1);
    const moves: Record<string, number> = {
      ArrowDown: 3,
      ArrowUp: -3,
      PageDown: page,
      PageUp: -page,
    };
    if (e.key in moves) {
      e.preventDefault();
      setTop(topRef.current + moves[e.key]!, moves[e.key]!);
    } else if (e.key === 'Home') {
      e.preventDefault();
      setTop(0, -1);
    } else if (e.key === 'End') {
      e.preventDefault();
      setFollow(true);
    }
  };

  useImperativeHandle(
    ref,
    () => ({
      revealIndex(index: number) {
        const gg = gRef.current;
        onReveal(index);
        if (mapRef.current.hiddenIndex(index)) {
          pendingReveal.current = index;
          if (followRef.current) setFollow(false);
          force();
          return;
        }
        const t = topToReveal(mapRef.current.rowOfIndex(index), gg);
        if (followRef.current && !atBottom(t, gg)) setFollow(false);
        topRef.current = t;
        force();
      },
      setTopIndex(index: number) {
        setFollow(false);
        topRef.current = clampTop(mapRef.current.rowOfIndex(index), gRef.current);
        force();
      },
      toTop() {
        setFollow(false);
        topRef.current = 0;
        force();
      },
      topLine() {
        return view.line(mapRef.current.indexOfRow(Math.floor(topRef.current)))?.line_number ?? null;
      },
      focus() {
        scrollerRef.current?.focus();
      },
    }),
    [view, setFollow, onReveal],
  );

  const rowsVisible = Math.ceil(visibleRows(g));
  const bottomMode = snap.total > rowsVisible && atBottom(top, g);
  let first: number;
  let end: number;
  let offset = 0;
  if (bottomMode) {
    end = g.rows;
    first = Math.max(0, end - rowsVisible - 2);
  } else {
    ({ first, end, offset } = windowFor(top, g));
  }

  // Page in what is visible (debounced a little so dragging the thumb does not fetch every page
  // it passes over).
  useEffect(() => {
    if (snap.phase !== 'ready' || end <= first) return;
    const id = window.setTimeout(() => ensureRows(view, rowMap, first, end), 16);
    return () => window.clearTimeout(id);
  }, [view, rowMap, first, end, snap.phase, snap.total]);

  // Rows are rendered from a base row that stays while the view scrolls by less than BLOCK rows
  // (the rows above `first` sit under the window's top edge, clipped), so scrolling by a few
  // rows only adds rows at one end and moves the composited row layer: the rows already shown
  // keep their place in it and are not rasterised again (raster of the moved rows was a third
  // of a wheel frame's CPU). A jump (the scrollbar) starts afresh at `first`, with no extra
  // rows. Wrapped rows have no fixed height, so they start at `first`.
  const base = baseRow.current;
  const from =
    bottomMode || props.wrap
      ? first
      : first >= base && first - base < BLOCK
        ? base
        : first < base && base - first < BLOCK
          ? Math.max(0, first - BLOCK + 1)
          : first;
  baseRow.current = from;
  const shift = (first - from) * ROW_HEIGHT + offset;
  const hl = props.highlight;
  const rows: ReactNode[] = [];
  for (let r = from; r < end; r++) {
    const i = rowMap.indexOfRow(r);
    const line = view.line(i);
    const fold = rowMap.foldStartingAt(i);
    rows.push(
      line ? (
        <LogRow
          key={`l${line.line_number}`}
          line={line}
          index={i}
          foldLength={fold?.lines ?? 0}
          foldKind={fold?.kind ?? null}
          foldOpen={fold?.open ?? false}
          inFold={!fold && !!rowMap.foldAt(i)}
          onToggleFold={props.onToggleFold}
          formatTime={props.formatTime}
          matcher={props.matcher}
          writerColor={props.writerColors?.get(line.writer) ?? null}
          highlighted={!!hl && line.line_number >= hl.first && line.line_number <= hl.last}
          cursor={props.cursorLine === line.line_number}
          onLineClick={props.onLineClick}
          onFieldFilter={props.onFieldFilter}
          onShowFields={props.onShowFields}
        />
      ) : (
        <PlaceholderRow key={`p${i}`} index={i} />
      ),
    );
  }

  return (
    <div className={`viewport-wrap${props.wrap ? ' wrap' : ''}`} style={{ '--ln-w': lnWidth } as CSSProperties}>
      <div
        ref={scrollerRef}
        className="scroller"
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        data-testid="log-scroller"
        data-total={snap.total}
        data-rows={g.rows}
        data-top={Math.floor(top)}
        data-follow={follow ? '1' : '0'}
      >
        <div className="spacer-box" style={{ height: spacerHeight(g) }}>
          <div className={`window${bottomMode ? ' bottom' : ''}`} style={{ height: vh }}>
            <div
              className="rows"
              style={bottomMode ? undefined : { transform: `translateY(${-shift}px)` }}
              data-testid="log-rows"
            >
              {rows}
            </div>
          </div>
        </div>
      </div>
      {props.overlay}
      {!follow && newLines > 0 && (
        <button className="new-lines" data-testid="new-lines" onClick={() => setFollow(true)}>
          {newLines.toLocaleString('en-US')} new line{newLines === 1 ? '' : 's'} ↓
        </button>
      )}
    </div>
  );
});
