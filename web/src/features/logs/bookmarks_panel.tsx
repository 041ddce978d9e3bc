import { useState } from 'react';
import { bookmarkHash, bookmarkLabel, noteTooLong } from '../../lib/bookmarks';
import type { LineRange } from '../../lib/view_state';
import type { Bookmarks } from './use_bookmarks';

/** The viewer's side panel of bookmarks: each one a permalink with its note; the selected lines
 * can be bookmarked from here. */
export function BookmarksPanel(props: {
  bookmarks: Bookmarks;
  selection: LineRange | null;
  onJump: (first: number, last: number) => void;
  onClose: () => void;
}) {
  const { bookmarks, selection } = props;
  const [note, setNote] = useState('');
  const tooLong = noteTooLong(note);
  return (
    <aside className="bookmarks-panel" data-testid="bookmarks-panel" aria-label="Bookmarks">
      <div className="head">
        <b>Bookmarks</b>
        <button className="btn small" title="Close" onClick={props.onClose}>
          ✕
        </button>
      </div>
      <form
        className="add"
        onSubmit={(e) => {
          e.preventDefault();
          if (!selection || tooLong) return;
          void bookmarks.add(selection.first, selection.last, note.trim()).then((ok) => ok && setNote(''));
        }}
      >
        <input
          className="text"
          data-testid="bookmark-note"
          placeholder={selection ? `Note for ${bookmarkLabel({ line: selection.first, last_line: selection.last })}` : 'Select a line first'}
          value={note}
          disabled={!selection}
          onChange={(e) => setNote(e.target.value)}
        />
        <button className="btn" data-testid="bookmark-add" disabled={!selection || tooLong}>
          Bookmark
        </button>
      </form>
      {tooLong && <div className="sub note">A note is at most 2,000 bytes</div>}
      {bookmarks.error && (
        <div className="sub note" role="alert" data-testid="bookmark-error">
          {bookmarks.error}
        </div>
      )}
      {bookmarks.list.length === 0 ? (
        <div className="sub empty">No bookmarks yet: select a line (click its number), then Bookmark.</div>
      ) : (
        <ul>
          {bookmarks.list.map((b) => (
            <li key={b.id} data-testid="bookmark" data-line={b.line}>
              <a
                href={bookmarkHash(b)}
                onClick={(e) => {
                  if (e.button !== 0 || e.metaKey || e.ctrlKey) return;
                  e.preventDefault();
                  props.onJump(b.line, b.last_line);
                }}
              >
                {bookmarkLabel(b)}
              </a>
              <span className="bnote">{b.note}</span>
              {b.created_by && <span className="sub">{b.created_by}</span>}
              <button className="btn small" data-testid="bookmark-delete" title="Delete this bookmark" onClick={() => void bookmarks.remove(b.id)}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
