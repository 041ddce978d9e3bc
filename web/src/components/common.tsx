import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { RunState } from '../api/types';

export function StateBadge({ state }: { state: RunState }) {
  return (
    <span className={`badge ${state}`} data-testid="state-badge" data-state={state}>
      {state}
    </span>
  );
}

export function Spinner() {
  return <span className="spinner" role="progressbar" aria-label="loading" />;
}

export function StateBox(props: {
  kind?: 'empty' | 'error' | 'loading';
  glyph?: string;
  title: string;
  children?: ReactNode;
  testId?: string;
}) {
  const kind = props.kind ?? 'empty';
  return (
    <div className={`state-box ${kind}`} data-testid={props.testId ?? `state-${kind}`}>
      <div className="glyph">{kind === 'loading' ? <Spinner /> : (props.glyph ?? (kind === 'error' ? '⚠' : '∅'))}</div>
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}

export function ConfirmDialog(props: {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  onCancel: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancelRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [props]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onCancel()}>
      <div className="modal" role="dialog" aria-modal="true" aria-label={props.title} data-testid="confirm-dialog">
        <h3>{props.title}</h3>
        <p>{props.body}</p>
        {error && <p style={{ color: 'var(--err)' }}>{error}</p>}
        <div className="actions">
          <button ref={cancelRef} className="btn" onClick={props.onCancel} disabled={busy}>
            Cancel
          </button>
          <button
            className="btn danger solid"
            data-testid="confirm-yes"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await props.onConfirm();
              } catch (e) {
                setError((e as Error).message);
                setBusy(false);
              }
            }}
          >
            {busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** Calls `fn` now and every `ms` while `active`; also when the tab becomes visible again. */
export function usePolling(fn: () => void, ms: number, active: boolean): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') ref.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
}

/** A value that re-renders every `ms` (for live durations). */
export function useNow(ms: number, active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms, active]);
  return now;
}
