// Folding for one LogView: the view's folds from the server (GET .../logs/folds for the same
// filters and order, up to the view's last line), which ones the reader opened, and the RowMap
// (lib/folds.ts) the viewport scrolls by. Lines shown before the folds arrive are unfolded; a
// line-order view of a live run asks again now and then as it grows (positions of a growing
// line-order view never move, so opened folds stay open); a time-ordered view's folds are of its
// sorted part only (live lines are appended after it).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { ServerFilters } from '../../api/types';
import { FoldList, RowMap } from '../../lib/folds';
import type { LogView, LogViewSnapshot } from './log_view';

export interface FoldsHandle {
  map: RowMap;
  /** Folding applies to this view (on, and no context lines). */
  active: boolean;
  count: number;
  error: string | null;
  toggle: (start: number) => void;
  /** Opens the fold that hides `index`, if one does (jumping to a line inside it). */
  reveal: (index: number) => void;
  /** The first index of the row after / before the row of `index`. */
  step: (index: number, dir: 1 | -1) => number;
  /** Opens or closes the fold holding this line (Enter at the cursor). */
  toggleAtLine: (line: number) => Promise<void>;
}

/** How often a growing view asks for its folds again. */
const REFRESH_MS = 5000;

export function useFolds(runId: string, filters: ServerFilters, view: LogView, snap: LogViewSnapshot, enabled: boolean): FoldsHandle {
  const active = enabled && !filters.context;
  const [list, setList] = useState<{ view: LogView; folds: FoldList } | null>(null);
  const [opened, setOpened] = useState<ReadonlySet<number>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const asked = useRef<{ view: LogView; at: number; total: number } | null>(null);

  // The index last revealed (jumped to): kept visible when folds arrive after the jump.
  const pinned = useRef<number | null>(null);
  useEffect(() => {
    setOpened(new Set());
    setError(null);
    pinned.current = null;
  }, [view]);

  // One request at a time per view; the view's end aborts it.
  const inflight = useRef<LogView | null>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    abort.current = ctl;
    return () => ctl.abort();
  }, [view]);

  // Lines first: a big view's folds take a scan of it, which is not to delay its first page.
  const ready = snap.phase === 'ready' && !view.cache.isEmpty();
  const total = snap.total;
  useEffect(() => {
    if (!active || !ready || total === 0 || inflight.current === view) return;
    const prev = asked.current?.view === view ? asked.current : null;
    if (prev && (view.timeOrder || prev.total === total)) return;
    const wait = prev ? Math.max(0, prev.at + REFRESH_MS - Date.now()) : 0;
    const id = window.setTimeout(() => {
      const upTo = view.timeOrder ? view.upToLine : view.cursor;
      asked.current = { view, at: Date.now(), total };
      inflight.current = view;
      const { context: _c, ...f } = filters;
      api
        .folds(runId, f, { sort: view.timeOrder ? 'time' : undefined, upToLine: upTo }, abort.current?.signal)
        .then((r) => {
          const folds = FoldList.fromResult(r);
          setList({ view, folds });
          setError(null);
          // A line jumped to before the folds arrived stays shown: open the fold around it.
          const at = pinned.current;
          const id = at !== null ? folds.find(at) : -1;
          if (id >= 0 && folds.starts[id] !== at) setOpened((o) => new Set(o).add(folds.starts[id]!));
        })
        .catch((e: Error) => {
          if (e.name !== 'AbortError') setError(e.message);
        })
        .finally(() => {
          if (inflight.current === view) inflight.current = null;
        });
    }, wait);
    return () => window.clearTimeout(id);
  }, [active, ready, total, view, runId, filters]);

  const map = useMemo(
    () => (active && list && list.view === view ? new RowMap(list.folds, opened) : RowMap.identity()),
    [active, list, view, opened],
  );
  const mapRef = useRef(map);
  mapRef.current = map;

  const toggle = useCallback((start: number) => {
    if (pinned.current !== null && mapRef.current.foldAt(pinned.current)?.start === start) pinned.current = null;
    setOpened((o) => {
      const next = new Set(o);
      if (next.has(start)) next.delete(start);
      else next.add(start);
      return next;
    });
  }, []);
  const reveal = useCallback((index: number) => {
    pinned.current = index;
    const f = mapRef.current.foldAt(index);
    if (f && !f.open && index !== f.start) setOpened((o) => new Set(o).add(f.start));
  }, []);
  const step = useCallback((index: number, dir: 1 | -1) => mapRef.current.step(index, dir, view.snapshot().total), [view]);

  const toggleAtLine = useCallback(
    async (line: number) => {
      const f = mapRef.current.foldAt(await view.indexOfLine(line));
      if (f) toggle(f.start);
    },
    [view, toggle],
  );

  return { map, active, toggleAtLine, count: list?.view === view ? list.folds.size : 0, error, toggle, reveal, step };
}
