import { useMemo, useState } from 'react';
import { StateBox } from '../../components/common';
import { Link } from '../../components/router';
import { buildMatcher, messageSegments } from '../../lib/line_format';
import { matchCountLabel, matchViewerUrl } from '../../lib/project_search';
import { runLabel } from '../../lib/runs';
import { useProjectSearch } from './use_project_search';

/** The project page's log search: which runs printed this, how often, and where (issue 14). */
export function ProjectSearch({ project }: { project: string }) {
  const s = useProjectSearch(project);
  const [typed, setTyped] = useState('');
  const [regex, setRegex] = useState(false);
  const matcher = useMemo(() => (s.query ? buildMatcher(s.query.text, s.query.regex).matcher : null), [s.query]);
  const submit = () => {
    const text = typed.trim();
    if (text) s.search({ text, regex });
    else s.clear();
  };
  const status = s.busy
    ? `Searching… ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} with matches so far${s.scanned ? `, ${s.scanned} searched` : ''}`
    : s.end
      ? `${s.runs.length} run${s.runs.length === 1 ? '' : 's'} with matches of ${s.scanned} searched${s.end.next_cursor ? ' (more runs left)' : ''}`
      : '';
  return (
    <section className="project-search" data-testid="project-search">
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <input
          className="text grow"
          placeholder="Search the logs of every run in this project (Enter)"
          value={typed}
          data-testid="project-search-input"
          onChange={(e) => setTyped(e.target.value)}
        />
        <label className="check">
          <input type="checkbox" checked={regex} data-testid="project-search-regex" onChange={(e) => setRegex(e.target.checked)} /> regex
        </label>
        <button className="btn" type="submit" data-testid="project-search-go">
          Search logs
        </button>
        {s.query && (
          <button className="btn" type="button" data-testid="project-search-clear" onClick={() => {
              setTyped('');
              s.clear();
            }}>
            Clear
          </button>
        )}
      </form>
      {s.query && (
        <div className="sub" data-testid="project-search-status" aria-live="polite" data-busy={s.busy ? '1' : '0'}>
          {status}
        </div>
      )}
      {s.error && (
        <StateBox kind="error" title="The search failed" testId="project-search-error">
          <p>{s.error}</p>
        </StateBox>
      )}
      {s.query && !s.busy && !s.error && s.runs.length === 0 && <StateBox title="No run printed that" glyph="⌕" testId="project-search-none" />}
      {s.runs.length > 0 && s.query && (
        <ul className="search-results" data-testid="project-search-results">
          {s.runs.map((r) => (
            <li key={r.run.id} data-testid="search-run" data-run-id={r.run.id}>
              <div className="search-run-head">
                <Link href={matchViewerUrl(r.run.id, s.query!.text, s.query!.regex, r.lines[0]?.line_number ?? null)}>{runLabel(r.run)}</Link>{' '}
                <span className="sub" data-testid="search-run-count">
                  {matchCountLabel(r.matches)}
                </span>
              </div>
              {r.lines.map((l) => (
                <Link
                  key={l.line_number}
                  className="search-preview mono"
                  data-testid="search-preview"
                  href={matchViewerUrl(r.run.id, s.query!.text, s.query!.regex, l.line_number)}
                >
                  <span className="sub">{l.line_number}</span>{' '}
                  {messageSegments(l.message, matcher).map((seg, i) => (seg.match ? <mark key={i}>{seg.text}</mark> : <span key={i}>{seg.text}</span>))}
                </Link>
              ))}
            </li>
          ))}
        </ul>
      )}
      {s.end?.next_cursor && !s.busy && (
        <button className="btn load-more" data-testid="project-search-more" onClick={s.more}>
          Search more runs
        </button>
      )}
    </section>
  );
}
