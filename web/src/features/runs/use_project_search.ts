import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { SearchEndRecord, SearchRunRecord } from '../../lib/project_search';

export interface SearchQuery {
  text: string;
  regex: boolean;
}

const PAGE = 20;
const PREVIEW = 3;

/** A project-wide search and its pages: runs arrive one by one as the server finishes them. */
export function useProjectSearch(project: string) {
  const [query, setQuery] = useState<SearchQuery | null>(null);
  const [runs, setRuns] = useState<SearchRunRecord[]>([]);
  const [end, setEnd] = useState<SearchEndRecord | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scannedBefore, setScannedBefore] = useState(0); // runs scanned by earlier pages
  const [scanning, setScanning] = useState(0); // runs scanned so far by this page (progress)
  const abort = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (q: SearchQuery, cursor: string | null) => {
      abort.current?.abort();
      const ctl = new AbortController();
      abort.current = ctl;
      setBusy(true);
      setError(null);
      setEnd(null);
      setScanning(0);
      api
        .searchProject(project, { text: q.text, regex: q.regex, cursor, limit: PAGE, preview: PREVIEW }, (r) => {
          if (ctl.signal.aborted) return;
          if (r.type === 'progress') setScanning(r.runs_scanned);
          else setRuns((cur) => [...cur, r]);
        }, ctl.signal)
        .then((e) => {
          if (ctl.signal.aborted) return;
          setEnd(e);
          setBusy(false);
        })
        .catch((e: Error) => {
          if (ctl.signal.aborted || e.name === 'AbortError') return;
          setError(e.message);
          setBusy(false);
        });
    },
    [project],
  );

  const search = useCallback(
    (q: SearchQuery) => {
      setQuery(q);
      setRuns([]);
      setScannedBefore(0);
      fetchPage(q, null);
    },
    [fetchPage],
  );

  const more = useCallback(() => {
    if (!query || !end?.next_cursor) return;
    setScannedBefore((n) => n + end.runs_scanned);
    fetchPage(query, end.next_cursor);
  }, [query, end, fetchPage]);

  const clear = useCallback(() => {
    abort.current?.abort();
    setQuery(null);
    setRuns([]);
    setEnd(null);
    setBusy(false);
    setError(null);
  }, []);

  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => clear(), [project, clear]);

  const scanned = scannedBefore + (end?.runs_scanned ?? scanning);
  return { query, runs, end, busy, error, scanned, search, more, clear };
}
