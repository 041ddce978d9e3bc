import { useState } from 'react';
import type { LogLine } from '../../../api/types';
import { copyLines } from '../../../lib/copy_lines';
import type { LineRange } from '../../../lib/view_state';

/** Copies the selected range: messages only, or with time and level. */
export function CopyButton(props: { range: LineRange | null; fetchLines: (r: LineRange) => Promise<LogLine[]>; formatTime: (ts: string) => string }) {
  const [withMeta, setWithMeta] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const { range } = props;
  if (!range) return null;
  const n = range.last - range.first + 1;
  const copy = async () => {
    try {
      const lines = await props.fetchLines(range);
      const text = copyLines(lines, { withMeta, formatTime: props.formatTime });
      await navigator.clipboard.writeText(text);
      setNote(`copied ${lines.length} line${lines.length === 1 ? '' : 's'}`);
    } catch (e) {
      setNote(`copy failed: ${(e as Error).message}`);
    }
    window.setTimeout(() => setNote(null), 2500);
  };
  return (
    <div className="group" data-testid="copy-group">
      <button className="btn" data-testid="copy-lines" title="Copy the selected lines' messages" onClick={() => void copy()}>
        ⧉ Copy {n === 1 ? 'line' : `${n.toLocaleString('en-US')} lines`}
      </button>
      <label className="opt sub">
        <input type="checkbox" checked={withMeta} data-testid="copy-meta" onChange={(e) => setWithMeta(e.target.checked)} /> time/level
      </label>
      {note && <span className="sub" data-testid="copy-note">{note}</span>}
    </div>
  );
}
