// Lines still being written (progress bars), under the log: dimmed, in place, one per writer and
// stream, gone when that stream's finished line arrives. Never part of the stored log.
import type { ProgressMap } from '../../lib/progress';
import { progressRows } from '../../lib/progress';
import { messageSegments } from '../../lib/line_format';

export function ProgressStrip({ progress, showWriter }: { progress: ProgressMap; showWriter: boolean }) {
  const rows = progressRows(progress);
  if (rows.length === 0) return null;
  return (
    <div className="progress-strip" data-testid="progress-strip" title="Lines still being written (not stored until they end)">
      {rows.map((p) => (
        <div className="row progress" key={`${p.writer}/${p.source}`} data-writer={p.writer} data-source={p.source}>
          <span className="ln">…</span>
          <span className={`src ${p.source}`}>{p.source}</span>
          {showWriter && <span className="wr">{p.writer}</span>}
          <span className="msg">{messageSegments(p.message, null).map((s, i) => <span key={i}>{s.text}</span>)}</span>
        </div>
      ))}
    </div>
  );
}
