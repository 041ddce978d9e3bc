import type { ViewState } from '../../../lib/view_state';
import type { SetView } from '../use_view_state';
import type { FoldsHandle } from '../use_folds';

/** Fold on/off and line order / interleave by time; both live in the URL (fold=0, sort=time). */
export function FoldSortControls(props: { vs: ViewState; setView: SetView; folds: FoldsHandle }) {
  const { vs, setView, folds } = props;
  const byTime = vs.sort === 'time';
  const foldTitle = folds.error
    ? `Folds unavailable: ${folds.error}`
    : vs.context > 0 && vs.onlyMatches
      ? 'No folds while context lines are shown'
      : 'Show tracebacks, multi-line records and repeated lines as one row';
  return (
    <div className="group">
      <button
        className={`btn${vs.fold ? ' on' : ''}`}
        data-testid="fold-mode"
        aria-pressed={vs.fold}
        title={foldTitle}
        onClick={() => setView({ fold: !vs.fold })}
      >
        Fold{folds.active && folds.count > 0 && <span className="n"> {folds.count.toLocaleString('en-US')}</span>}
      </button>
      <button
        className={`btn${byTime ? ' on' : ''}`}
        data-testid="sort-time"
        aria-pressed={byTime}
        title={
          byTime
            ? 'Lines of all writers ordered by timestamp (new live lines are added at the end until refresh); click for line order'
            : 'Interleave the writers’ lines by timestamp'
        }
        onClick={() => setView({ sort: byTime ? 'line' : 'time' })}
      >
        By time
      </button>
    </div>
  );
}
