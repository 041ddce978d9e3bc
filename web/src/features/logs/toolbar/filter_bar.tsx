import { LEVELS, SOURCES, type LogSummary } from '../../../api/types';
import { formatCount } from '../../../lib/line_format';
import { toggle, type ViewState } from '../../../lib/view_state';
import { writerColor } from '../../../lib/writers';
import type { SetView } from '../use_view_state';

/** Level, source and writer chips (several of each may be on). */
export function FilterBar(props: { vs: ViewState; setView: SetView; summary: LogSummary | null; writers: string[] }) {
  const { vs, setView, summary, writers } = props;
  const allWriters = [...new Set([...writers, ...vs.writers])].sort();
  return (
    <>
      <div className="group" data-testid="level-filter">
        <span className="label">Level</span>
        <button className={`chip${vs.levels.length === 0 ? ' on' : ''}`} data-value="ALL" onClick={() => setView({ levels: [] })}>
          ALL {summary && <span className="n">{formatCount(summary.total)}</span>}
        </button>
        {LEVELS.map((l) => (
          <button
            key={l}
            className={`chip lvl-${l}${vs.levels.includes(l) ? ' on' : ''}`}
            data-value={l}
            aria-pressed={vs.levels.includes(l)}
            onClick={() => setView({ levels: toggle(vs.levels, l) })}
          >
            {l} {summary && <span className="n" data-testid={`count-${l}`}>{formatCount(summary.by_level[l] ?? 0)}</span>}
          </button>
        ))}
      </div>
      <div className="group" data-testid="source-filter">
        <span className="label">Source</span>
        <button className={`chip${vs.sources.length === 0 ? ' on' : ''}`} data-value="ALL" onClick={() => setView({ sources: [] })}>
          ALL
        </button>
        {SOURCES.map((s) => (
          <button
            key={s}
            className={`chip${vs.sources.includes(s) ? ' on' : ''}`}
            data-value={s}
            aria-pressed={vs.sources.includes(s)}
            onClick={() => setView({ sources: toggle(vs.sources, s) })}
          >
            {s} {summary && <span className="n">{formatCount(summary.by_source[s] ?? 0)}</span>}
          </button>
        ))}
      </div>
      {allWriters.length > 1 || vs.writers.length > 0 ? (
        <div className="group" data-testid="writer-filter">
          <span className="label">Writer</span>
          <button className={`chip${vs.writers.length === 0 ? ' on' : ''}`} data-value="ALL" onClick={() => setView({ writers: [] })}>
            ALL
          </button>
          {allWriters.map((w) => (
            <button
              key={w}
              className={`chip writer${vs.writers.includes(w) ? ' on' : ''}`}
              data-value={w}
              aria-pressed={vs.writers.includes(w)}
              style={{ borderLeftColor: writerColor(w, allWriters) }}
              onClick={() => setView({ writers: toggle(vs.writers, w) })}
            >
              {w} {summary?.by_writer[w] !== undefined && <span className="n">{formatCount(summary.by_writer[w]!)}</span>}
            </button>
          ))}
        </div>
      ) : null}
    </>
  );
}
