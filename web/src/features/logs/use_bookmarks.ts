// The run's bookmarks: loaded once per run, added from the selected lines, deleted; the list
// the side panel shows. Errors are kept to be shown, never thrown into the viewer.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Bookmark } from '../../api/types';
import { sortBookmarks } from '../../lib/bookmarks';

export interface Bookmarks {
  list: Bookmark[];
  error: string | null;
  add: (first: number, last: number, note: string) => Promise<boolean>;
  remove: (id: number) => Promise<void>;
}

export function useBookmarks(runId: string): Bookmarks {
  const [list, setList] = useState<Bookmark[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    setList([]);
    api
      .listBookmarks(runId, ac.signal)
      .then((r) => setList(sortBookmarks(r.bookmarks)))
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ac.abort();
  }, [runId]);
  const add = useCallback(
    async (first: number, last: number, note: string) => {
      try {
        const b = await api.addBookmark(runId, { line: first, last_line: last, note });
        setList((l) => sortBookmarks([...l, b]));
        setError(null);
        return true;
      } catch (e: unknown) {
        setError(e instanceof Error ? e.message : String(e));
        return false;
      }
    },
    [runId],
  );
  const remove = useCallback(
    async (id: number) => {
      try {
        await api.deleteBookmark(runId, id);
        setList((l) => l.filter((b) => b.id !== id));
        setError(null);
      } catch (e: unknown) {
        setError(e instanceof Error ? e.message : String(e));
      }
    },
    [runId],
  );
  return { list, error, add, remove };
}
