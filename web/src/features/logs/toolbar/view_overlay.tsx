import { StateBox } from '../../../components/common';
import type { LogViewSnapshot } from '../log_view';

/** Loading / error / empty states over the log area. */
export function ViewOverlay(props: { snap: LogViewSnapshot; filtered: boolean; reload: () => void; clearFilters: () => void }) {
  const { snap } = props;
  if (snap.phase === 'loading') {
    return (
      <div className="view-empty">
        <StateBox kind="loading" title="Loading logs…" testId="logs-loading" />
      </div>
    );
  }
  if (snap.phase === 'error') {
    return (
      <div className="view-empty">
        <StateBox kind="error" title="Could not load the logs" testId="logs-error">
          <p>{snap.error}</p>
          <button className="btn" onClick={props.reload}>
            Retry
          </button>
        </StateBox>
      </div>
    );
  }
  if (snap.total !== 0) return null;
  return (
    <div className="view-empty">
      {props.filtered ? (
        <StateBox title="No lines match these filters" glyph="⌕" testId="logs-empty-filtered">
          <button className="btn" onClick={props.clearFilters}>
            Clear filters
          </button>
        </StateBox>
      ) : snap.runState === 'running' ? (
        <StateBox kind="loading" title="Waiting for the first line…" testId="logs-empty">
          <p>Lines appear here live as the run prints them.</p>
        </StateBox>
      ) : (
        <StateBox title="This run has no logs" glyph="∅" testId="logs-empty" />
      )}
    </div>
  );
}
