import { useEffect, useState } from 'react';
import { fieldFiltersText, parseFieldFilters } from '../../../lib/fields';
import type { ViewState } from '../../../lib/view_state';
import type { SetView } from '../use_view_state';

/** Field filters of structured lines (`loss>1.5, rank=3`), applied on Enter; a field chip's click
 * adds to them. What the server would refuse is said here, before asking it. */
export function FieldFilterBox({ vs, setView }: { vs: ViewState; setView: SetView }) {
  const [text, setText] = useState(fieldFiltersText(vs.fields));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(fieldFiltersText(vs.fields));
    setError(null);
  }, [vs.fields]);
  return (
    <form
      className="group field-filter"
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = parseFieldFilters(text);
        if (!parsed.ok) {
          setError(parsed.error);
          return;
        }
        setError(null);
        setView({ fields: parsed.exprs });
      }}
    >
      <span className="label">Fields</span>
      <input
        className={`text${error ? ' invalid' : ''}`}
        placeholder="loss>1.5, rank=3"
        value={text}
        data-testid="field-filter"
        aria-invalid={!!error}
        onChange={(e) => setText(e.target.value)}
      />
      {vs.fields.length > 0 && (
        <button type="button" className="btn small" data-testid="clear-fields" title="Clear field filters" onClick={() => setView({ fields: [] })}>
          ✕
        </button>
      )}
      {error && (
        <span className="sub note" role="alert" data-testid="field-filter-error">
          {error}
        </span>
      )}
    </form>
  );
}
