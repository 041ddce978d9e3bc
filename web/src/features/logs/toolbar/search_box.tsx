import type { RefObject } from 'react';
import { formatCount } from '../../../lib/line_format';
import { MAX_CONTEXT, type ViewState } from '../../../lib/view_state';
import type { SearchState } from '../use_search';
import type { SetView } from '../use_view_state';

export function SearchBox(props: {
  vs: ViewState;
  setView: SetView;
  search: SearchState;
  inputRef: RefObject<HTMLInputElement>;
  gotoMatch: (dir: 1 | -1) => void;
}) {
  const { vs, setView, search } = props;
  const { match } = search;
  const toggleBtn = (key: 'regex' | 'caseSensitive' | 'wholeWord', label: string, title: string, testId: string) => (
    <button
      className={`btn icon mono${vs[key] ? ' on' : ''}`}
      title={title}
      data-testid={testId}
      aria-pressed={vs[key]}
      onClick={() => setView({ [key]: !vs[key] })}
    >
      {label}
    </button>
  );
  return (
    <div className="group search-box">
      <span className="search-field">
        <input
          ref={props.inputRef}
          className={`text${search.error ? ' bad' : ''}`}
          placeholder={vs.regex ? 'Regex search (/)' : 'Search all lines (/)'}
          value={search.text}
          data-testid="search-input"
          aria-invalid={!!search.error}
          onChange={(e) => search.setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              if (!search.apply()) props.gotoMatch(e.shiftKey ? -1 : 1);
            } else if (e.key === 'Escape') {
              search.clear();
              (e.target as HTMLInputElement).blur();
            }
          }}
        />
        {search.error && (
          <span className="search-error" role="alert" data-testid="search-error">
            {search.error}
          </span>
        )}
      </span>
      {toggleBtn('caseSensitive', 'Aa', 'Match case', 'case-toggle')}
      {toggleBtn('wholeWord', 'ab|', 'Whole words', 'word-toggle')}
      {toggleBtn('regex', '.*', 'Regular expression (RE2)', 'regex-toggle')}
      <button
        className={`btn small${vs.onlyMatches ? ' on' : ''}`}
        title="Show only matching lines"
        data-testid="only-toggle"
        aria-pressed={vs.onlyMatches}
        onClick={() => setView({ onlyMatches: !vs.onlyMatches })}
      >
        Only matches
      </button>
      {vs.onlyMatches && (
        <label className="context" title="Lines of context around each match">
          ±
          <input
            type="number"
            className="text num"
            min={0}
            max={MAX_CONTEXT}
            value={vs.context}
            data-testid="context-input"
            onChange={(e) => setView({ context: Math.max(0, Math.min(MAX_CONTEXT, Math.floor(Number(e.target.value) || 0))) })}
          />
        </label>
      )}
      <button className="btn icon" title="Previous match (Shift+Enter, N)" data-testid="prev-match" disabled={!search.active} onClick={() => props.gotoMatch(-1)}>
        ↑
      </button>
      <button className="btn icon" title="Next match (Enter, n)" data-testid="next-match" disabled={!search.active} onClick={() => props.gotoMatch(1)}>
        ↓
      </button>
      <span className="match-count" data-testid="match-count">
        {search.error
          ? 'bad regex'
          : search.active && match.total !== null
            ? match.current
              ? `${formatCount(match.current.ordinal)} of ${formatCount(match.total)}`
              : `${formatCount(match.total)} match${match.total === 1 ? '' : 'es'}`
            : ''}
        {match.note && <span className="sub"> · {match.note}</span>}
        {search.highlightNote && <span className="sub"> · {search.highlightNote}</span>}
      </span>
    </div>
  );
}
