import { zoneLabel } from '../../../lib/line_format';
import type { ViewState } from '../../../lib/view_state';
import type { SetView } from '../use_view_state';

/** Pause, follow, wrap, dates, wall clock / elapsed. */
export function ViewControls(props: {
  vs: ViewState;
  setView: SetView;
  paused: boolean;
  togglePause: () => void;
  follow: boolean;
  setFollow: (f: boolean) => void;
}) {
  const { vs, setView } = props;
  const elapsed = vs.time === 'elapsed';
  return (
    <div className="group">
      <button className={`btn${props.paused ? ' on' : ''}`} data-testid="pause-toggle" title="Pause live updates (Space)" onClick={props.togglePause}>
        {props.paused ? '▶ Resume' : 'Pause'}
      </button>
      <button
        className={`btn${props.follow ? ' on' : ''}`}
        data-testid="follow-toggle"
        aria-pressed={props.follow}
        title="Follow the tail (G)"
        onClick={() => props.setFollow(!props.follow)}
      >
        ⇣ Follow
      </button>
      <button className={`btn${vs.wrap ? ' on' : ''}`} data-testid="wrap-toggle" aria-pressed={vs.wrap} onClick={() => setView({ wrap: !vs.wrap })}>
        Wrap
      </button>
      <button
        className={`btn${vs.fullDate ? ' on' : ''}`}
        data-testid="date-toggle"
        aria-pressed={vs.fullDate}
        title="Show full dates"
        disabled={elapsed}
        onClick={() => setView({ fullDate: !vs.fullDate })}
      >
        Date
      </button>
      <button
        className={`btn${elapsed ? ' on' : ''}`}
        data-testid="time-toggle"
        aria-pressed={elapsed}
        title={elapsed ? 'Times are elapsed since the first line; click for wall clock' : `Wall clock in ${zoneLabel()}; click for elapsed time`}
        onClick={() => setView({ time: elapsed ? 'wall' : 'elapsed' })}
      >
        {elapsed ? '+elapsed' : 'wall clock'}
      </button>
      {!elapsed && (
        <span className="sub zone" data-testid="time-zone">
          {zoneLabel()}
        </span>
      )}
    </div>
  );
}
