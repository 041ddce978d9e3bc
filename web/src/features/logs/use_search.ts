// Search: the typed text (debounced into the URL), the pattern the server runs (lib/view_state
// effectiveSearch), its validation by the server (RE2 is the one dialect: a pattern it rejects is
// reported at the search box and never reaches the view), the highlighter and the match count.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { ServerFilters } from '../../api/types';
import { buildMatcher, type Matcher } from '../../lib/line_format';
import { effectiveSearch, filtersKey, matchFilters, type ViewState } from '../../lib/view_state';
import type { SetView } from './use_view_state';

export interface MatchInfo {
  total: number | null;
  current: { line: number; ordinal: number } | null;
  note: string | null;
}

type Validity = { pattern: string; error: string | null } | null;

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

export interface SearchState {
  text: string;
  setText: (t: string) => void;
  /** Applies the typed text now (Enter) — returns false when it was already applied. */
  apply: () => boolean;
  clear: () => void;
  /** The server's message for a pattern it rejects. */
  error: string | null;
  /** Why matches are not highlighted although the server accepts the pattern. */
  highlightNote: string | null;
  /** The search is valid and non-empty. */
  active: boolean;
  matcher: Matcher | null;
  /** Filters selecting the matches (validated). */
  mfilters: ServerFilters;
  match: MatchInfo;
  setMatch: (f: (m: MatchInfo) => MatchInfo) => void;
  /** Drop the search from view filters while the pattern is invalid or not yet checked. */
  usable: boolean;
}

export function useSearch(runId: string, vs: ViewState, setView: SetView, total: number, refresh: number): SearchState {
  const [text, setText] = useState(vs.search);
  useEffect(() => setText(vs.search), [vs.search]);
  const vsSearch = useRef(vs.search);
  vsSearch.current = vs.search;
  useEffect(() => {
    if (text === vsSearch.current) return;
    const id = window.setTimeout(() => setView({ search: text }), 300);
    return () => window.clearTimeout(id);
  }, [text, setView]);

  const eff = effectiveSearch(vs);
  const [validity, setValidity] = useState<Validity>(null);
  useEffect(() => {
    if (!eff.regex) return;
    const ctl = new AbortController();
    // Compiling is the server's first step: before_line=1 reads nothing, so this costs no scan.
    api
      .listLogs(runId, { levels: [], sources: [], writers: [], search: eff.search, regex: true }, { beforeLine: 1, limit: 1, order: 'desc' }, ctl.signal)
      .then(() => setValidity({ pattern: eff.search, error: null }))
      .catch((e: Error) => {
        if (e.name === 'AbortError') return;
        const bad = e instanceof ApiError && e.status === 422;
        setValidity({ pattern: eff.search, error: bad ? e.message : null });
      });
    return () => ctl.abort();
  }, [runId, eff.search, eff.regex]);
  const checked = !eff.regex || validity?.pattern === eff.search;
  const error = eff.regex && validity?.pattern === eff.search ? validity.error : null;
  const usable = checked && !error;

  const { matcher, error: jsError } = useMemo(
    () => (usable ? buildMatcher(eff.search, eff.regex) : { matcher: null, error: null }),
    [usable, eff.search, eff.regex],
  );
  const mfilters = useMemo(() => matchFilters(vs), [vs]);
  const mkey = filtersKey(mfilters);
  const active = !!vs.search && usable;

  const [match, setMatch] = useState<MatchInfo>({ total: null, current: null, note: null });
  // Recount as the run grows, at most every 5 s: a count is a scan of the run on the server.
  const totalBucket = useThrottled(total, 5000);
  useEffect(() => {
    setMatch((m) => ({ ...m, current: null, note: null }));
  }, [mkey]);
  useEffect(() => {
    if (!active) {
      setMatch({ total: null, current: null, note: null });
      return;
    }
    const ctl = new AbortController();
    api
      .locate(runId, mfilters, 1, ctl.signal)
      .then((r) => setMatch((m) => ({ ...m, total: r.total })))
      .catch((e: Error) => e.name !== 'AbortError' && setMatch({ total: null, current: null, note: e.message }));
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, mkey, active, totalBucket, refresh]);

  return {
    text,
    setText,
    apply: () => {
      if (text === vs.search) return false;
      setView({ search: text });
      return true;
    },
    clear: () => {
      setText('');
      setView({ search: '' });
    },
    error,
    highlightNote: usable && vs.search && jsError ? `not highlighted: ${jsError}` : null,
    active,
    matcher,
    mfilters,
    match,
    setMatch,
    usable,
  };
}
