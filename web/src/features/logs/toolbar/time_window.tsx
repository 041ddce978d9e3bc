import { formatTimestamp } from '../../../lib/line_format';
import type { ViewState } from '../../../lib/view_state';
import type { SetView } from '../use_view_state';

/** The since/until window (dragged on the histogram), with a button that clears it. */
export function TimeWindow({ vs, setView }: { vs: ViewState; setView: SetView }) {
  if (!vs.since && !vs.until) return null;
  return (
    <div className="group" data-testid="time-window">
      <span className="label">Time</span>
      <span className="chip on">
        {vs.since ? formatTimestamp(vs.since, true) : '…'} – {vs.until ? formatTimestamp(vs.until, true) : '…'}
      </span>
      <button className="btn small" data-testid="clear-window" onClick={() => setView({ since: null, until: null })}>
        ✕
      </button>
    </div>
  );
}
