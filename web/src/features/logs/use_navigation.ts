// Next/previous match and first/next error: asked of the server (lib/navigation.ts), then jumped to.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { ServerFilters } from '../../api/types';
import { errorFilters, findError, findMatch, findMatchInTime, type TimeView } from '../../lib/navigation';
import type { SearchState } from './use_search';

export interface Navigation {
  gotoMatch: (dir: 1 | -1) => Promise<void>;
  gotoError: (first: boolean) => Promise<void>;
  canError: boolean;
  errorNote: string | null;
}

export function useNavigation(
  runId: string,
  filters: ServerFilters,
  search: SearchState,
  from: () => number,
  jumpToLine: (line: number) => Promise<void>,
  /** The time-ordered view (sort=time) read at the moment of the step, or null in line order:
   * matches then go in display order. */
  timeView: () => TimeView | null,
): Navigation {
  const { active, mfilters, match, setMatch } = search;
  const gotoMatch = useCallback(
    async (dir: 1 | -1) => {
      if (!active) return;
      const start = match.current?.line ?? from();
      try {
        const tv = timeView();
        const hit = tv ? await findMatchInTime(api, runId, mfilters, tv, start, dir) : await findMatch(api, runId, mfilters, start, dir);
        if (!hit) {
          setMatch((m) => ({ ...m, current: null, note: 'no matches' }));
          return;
        }
        const note = hit.wrapped ? (dir > 0 ? 'wrapped to the first match' : 'wrapped to the last match') : null;
        setMatch(() => ({ total: hit.total, current: { line: hit.line, ordinal: hit.ordinal }, note }));
        await jumpToLine(hit.line);
      } catch (e) {
        setMatch((m) => ({ ...m, note: (e as Error).message }));
      }
    },
    [active, match, from, runId, mfilters, jumpToLine, setMatch, timeView],
  );

  const errFilters = useMemo(() => errorFilters(filters), [filters]);
  const [errorNote, setErrorNote] = useState<string | null>(null);
  const gotoError = useCallback(
    async (first: boolean) => {
      if (!errFilters) return;
      try {
        const tv = timeView();
        // in time order, "next" is the next in display order and does not wrap
        const hit = tv ? await findMatchInTime(api, runId, errFilters, tv, first ? 0 : from(), 1) : null;
        const line = tv ? (hit && !hit.wrapped ? hit.line : null) : await findError(api, runId, errFilters, first ? 0 : from());
        setErrorNote(line !== null ? null : first ? 'no errors' : 'no more errors');
        if (line !== null) await jumpToLine(line);
      } catch (e) {
        setErrorNote((e as Error).message);
      }
    },
    [errFilters, from, runId, jumpToLine, timeView],
  );
  useEffect(() => {
    if (!errorNote) return;
    const id = window.setTimeout(() => setErrorNote(null), 2500);
    return () => window.clearTimeout(id);
  }, [errorNote]);

  return { gotoMatch, gotoError, canError: !!errFilters, errorNote };
}
