// The selected lines (a permalinked line or range, a clicked line, the j/k cursor) and getting
// there: jump to a line (saying so when it does not exist), keep the top line across a new view,
// follow the #L hash.
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { missingLineNote } from '../../lib/line_check';
import type { LineRange, ViewState } from '../../lib/view_state';
import type { LogView, LogViewSnapshot } from './log_view';
import type { ViewportHandle } from './log_viewport';
import type { SetView } from './use_view_state';

export interface Selection {
  range: LineRange | null;
  /** The end a shift-click or j/k moves from. */
  cursor: number | null;
  follow: boolean;
  setFollow: (f: boolean) => void;
  note: string | null;
  jumpToLine: (line: number, opts?: { setHash?: boolean }) => Promise<void>;
  onLineClick: (line: number, extend: boolean) => void;
  moveCursor: (dir: 1 | -1) => Promise<void>;
  clear: () => void;
}

export function useSelection(
  view: LogView,
  snap: LogViewSnapshot,
  vs: ViewState,
  vsRef: { readonly current: ViewState },
  setView: SetView,
  viewport: RefObject<ViewportHandle>,
  viewKey: string,
  /** The first index of the row after / before the row of an index (folds skip rows). */
  step: (index: number, dir: 1 | -1) => number = (i, d) => i + d,
): Selection {
  const [follow, setFollowState] = useState(vs.line === null);
  const setFollow = useCallback((f: boolean) => setFollowState(f), []);
  const [range, setRange] = useState<LineRange | null>(vs.line !== null ? { first: vs.line, last: vs.lineEnd ?? vs.line } : null);
  const [cursor, setCursor] = useState<number | null>(vs.line);
  const anchor = useRef<number | null>(vs.line);
  const [note, setNote] = useState<string | null>(null);
  const summaryRef = useRef(snap.summary);
  summaryRef.current = snap.summary;

  useEffect(() => {
    if (!note) return;
    const id = window.setTimeout(() => setNote(null), 5000);
    return () => window.clearTimeout(id);
  }, [note]);

  const select = useCallback((first: number, last: number, cur: number) => {
    setRange({ first: Math.min(first, last), last: Math.max(first, last) });
    setCursor(cur);
  }, []);

  const jumpToLine = useCallback(
    async (line: number, opts: { setHash?: boolean } = {}) => {
      const missing = missingLineNote(line, summaryRef.current);
      if (missing) {
        setNote(missing);
        return;
      }
      setNote(null);
      anchor.current = line;
      const r = vsRef.current.line === line && vsRef.current.lineEnd !== null ? { first: line, last: vsRef.current.lineEnd } : null;
      select(r?.first ?? line, r?.last ?? line, line);
      if (opts.setHash) setView({ line });
      const idx = await view.indexOfLine(line);
      viewport.current?.revealIndex(idx);
      if (!view.unfiltered) {
        // The line may be filtered out: we landed on the next row that is shown; mark that one.
        const landed = await view.whenLoaded(idx);
        if (landed && landed.line_number !== line) {
          anchor.current = landed.line_number;
          select(landed.line_number, landed.line_number, landed.line_number);
          if (opts.setHash) setView({ line: landed.line_number });
        }
      }
    },
    [view, setView, select, viewport, vsRef],
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
  const followRef = useRef(follow);
  followRef.current = follow;
  useEffect(() => {
    const k = keepLine.current;
    if (snap.phase !== 'ready' || !k || k.view !== view) return;
    keepLine.current = null;
    if (followRef.current || vsRef.current.line !== null) return;
    void view.indexOfLine(k.line).then((idx) => viewport.current?.setTopIndex(idx));
  }, [snap.phase, view, viewport, vsRef]);

  // Permalink: scroll to #L123 once the view is ready, and whenever the hash changes.
  const jumped = useRef<string>('');
  useEffect(() => {
    if (snap.phase !== 'ready' || vs.line === null) return;
    const k = `${viewKey}|${vs.line}|${vs.lineEnd}`;
    if (jumped.current === k) return;
    jumped.current = k;
    void jumpToLine(vs.line);
  }, [snap.phase, vs.line, vs.lineEnd, viewKey, jumpToLine]);

  const onLineClick = useCallback(
    (line: number, extend: boolean) => {
      const from = extend && anchor.current !== null ? anchor.current : line;
      if (!extend) anchor.current = line;
      select(from, line, line);
      const first = Math.min(from, line);
      const last = Math.max(from, line);
      jumped.current = `${viewKey}|${first}|${last === first ? null : last}`; // already in view: do not scroll
      setView({ line: first, lineEnd: last === first ? null : last });
    },
    [setView, select, viewKey],
  );

  const moveCursor = useCallback(
    async (dir: 1 | -1) => {
      const from = cursor ?? viewport.current?.topLine() ?? null;
      let idx: number;
      if (from === null) idx = 0;
      else {
        idx = await view.indexOfLine(from);
        if (cursor !== null) idx = step(idx, dir);
      }
      idx = Math.max(0, Math.min(snap.total - 1, idx));
      viewport.current?.revealIndex(idx);
      const l = await view.whenLoaded(idx);
      if (!l) return;
      anchor.current = l.line_number;
      select(l.line_number, l.line_number, l.line_number);
      jumped.current = `${viewKey}|${l.line_number}|null`;
      setView({ line: l.line_number });
    },
    [cursor, view, viewport, snap.total, select, setView, viewKey, step],
  );

  const clear = useCallback(() => {
    setRange(null);
    setCursor(null);
    anchor.current = null;
  }, []);

  return { range, cursor, follow, setFollow, note, jumpToLine, onLineClick, moveCursor, clear };
}
