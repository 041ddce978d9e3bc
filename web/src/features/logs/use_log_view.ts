// One LogView per (run, filters, refresh): created, opened, disposed, and retried when the tab
// comes back; plus the pause state that survives a new view.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { api, recheckSession, streamUrl } from '../../api/client';
import type { ServerFilters } from '../../api/types';
import type { SocketLike } from '../../lib/live';
import { filtersKey } from '../../lib/view_state';
import { LogView, type LogViewSnapshot } from './log_view';

export interface LogViewHandle {
  view: LogView;
  snap: LogViewSnapshot;
  refresh: number;
  reload: () => void;
  paused: boolean;
  togglePause: () => void;
}

export function useLogView(runId: string, filters: ServerFilters, timeOrder = false): LogViewHandle {
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
        timeOrder,
      }),
    // filters are keyed by content: a new object with the same filters keeps the view
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [runId, fkey, refresh, timeOrder],
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

  // A browser cannot see why a WebSocket upgrade failed: a session that ended looks like an
  // outage. Each reconnection attempt asks whoami, which brings back the sign-in page if so.
  useEffect(() => {
    if (snap.live === 'reconnecting') recheckSession();
  }, [snap.live]);

  const togglePause = useCallback(() => {
    setPaused((p) => {
      if (p) view.resume();
      else view.pause();
      return !p;
    });
  }, [view]);
  const reload = useCallback(() => setRefresh((r) => r + 1), []);
  return { view, snap, refresh, reload, paused, togglePause };
}
