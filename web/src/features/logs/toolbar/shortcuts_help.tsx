import { useEffect } from 'react';
import { SEARCH_KEYS, SHORTCUTS } from '../../../lib/shortcuts';

/** The `?` list of every shortcut. */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' || e.key === '?') {
        e.preventDefault();
        e.stopImmediatePropagation();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);
  const rows = [...SHORTCUTS.map((s) => ({ keys: s.keys, what: s.what })), ...SEARCH_KEYS];
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal shortcuts" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts-help">
        <h3>Keyboard shortcuts</h3>
        <table>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>
                  {r.keys.map((k, j) => (
                    <kbd key={j}>{k}</kbd>
                  ))}
                </td>
                <td>{r.what}</td>
              </tr>
            ))}
            <tr>
              <td>
                <kbd>click</kbd> <kbd>Shift</kbd>+<kbd>click</kbd>
              </td>
              <td>Select a line / extend to a range (on the line number)</td>
            </tr>
          </tbody>
        </table>
        <div className="actions">
          <button className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
