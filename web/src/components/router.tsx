import { useCallback, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export interface Location {
  pathname: string;
  search: string;
  hash: string;
}

const EVENT = 'wanllmdb:navigate';

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search, hash: window.location.hash };
}

/** Navigates within the app. `replace` keeps the history entry (filter changes, scroll anchors). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const target = new URL(to, window.location.href);
  const next = target.pathname + target.search + target.hash;
  const now = window.location.pathname + window.location.search + window.location.hash;
  if (next === now) return;
  if (opts.replace) window.history.replaceState(null, '', next);
  else window.history.pushState(null, '', next);
  window.dispatchEvent(new Event(EVENT));
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => {
      const c = current();
      setLoc((prev) => (prev.pathname === c.pathname && prev.search === c.search && prev.hash === c.hash ? prev : c));
    };
    window.addEventListener('popstate', update);
    window.addEventListener('hashchange', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('hashchange', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return loc;
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { onClick, ...rest } = props;
  const click = useCallback(
    (e: MouseEvent<HTMLAnchorElement>) => {
      onClick?.(e);
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(props.href);
    },
    [onClick, props.href],
  );
  return <a {...rest} onClick={click} />;
}
