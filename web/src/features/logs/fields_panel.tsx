import { useEffect } from 'react';
import type { LogLine } from '../../api/types';
import { fieldsJson } from '../../lib/fields';

/** A structured line's fields, whole, as indented JSON (the row shows the first few as chips). */
export function FieldsPanel({ line, onClose }: { line: LogLine; onClose: () => void }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopImmediatePropagation();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal fields-panel" role="dialog" aria-label={`Fields of line ${line.line_number}`} data-testid="fields-panel">
        <h3>
          Fields of line {line.line_number}
          {line.level_name && <span className="sub"> · level {line.level_name}</span>}
        </h3>
        <pre data-testid="fields-json">{fieldsJson(line.fields ?? {})}</pre>
        <div className="actions">
          <button className="btn" onClick={() => void navigator.clipboard?.writeText(fieldsJson(line.fields ?? {}))}>
            Copy JSON
          </button>
          <button className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
