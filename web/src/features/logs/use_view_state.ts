// The viewer's state lives in the URL (lib/view_state.ts): read it, and patch it in place.
import { useCallback, useMemo, useRef } from 'react';
import { navigate, type Location } from '../../components/router';
import { lineHash, parseViewState, viewStateQuery, type ViewState } from '../../lib/view_state';

export type SetView = (patch: Partial<ViewState>) => void;

export function useViewState(location: Location): { vs: ViewState; vsRef: { readonly current: ViewState }; setView: SetView } {
  const vs = useMemo(() => parseViewState(location.search, location.hash), [location.search, location.hash]);
  const vsRef = useRef(vs);
  vsRef.current = vs;
  const setView = useCallback<SetView>(
    (patch) => {
      const next = { ...vsRef.current, ...patch };
      if ('line' in patch && !('lineEnd' in patch)) next.lineEnd = null;
      navigate(location.pathname + viewStateQuery(next) + lineHash(next.line, next.lineEnd), { replace: true });
    },
    [location.pathname],
  );
  return { vs, vsRef, setView };
}
