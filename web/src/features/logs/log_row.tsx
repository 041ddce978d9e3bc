import { memo, type CSSProperties, type MouseEvent } from 'react';
import type { LogLine } from '../../api/types';
import type { AnsiStyle } from '../../lib/ansi';
import { fieldChips } from '../../lib/fields';
import type { FoldKind } from '../../lib/folds';
import { messageSegments, type Matcher } from '../../lib/line_format';

function css(s: AnsiStyle): CSSProperties | undefined {
  if (!s.fg && !s.bg && !s.bold && !s.dim && !s.italic && !s.underline && !s.inverse) return undefined;
  const fg = s.inverse ? (s.bg ?? 'var(--bg)') : s.fg;
  const bg = s.inverse ? (s.fg ?? 'var(--text)') : s.bg;
  return {
    color: fg ?? undefined,
    backgroundColor: bg ?? undefined,
    fontWeight: s.bold ? 700 : undefined,
    opacity: s.dim ? 0.65 : undefined,
    fontStyle: s.italic ? 'italic' : undefined,
    textDecoration: s.underline ? 'underline' : undefined,
  };
}

export interface LogRowProps {
  line: LogLine;
  /** The gutter's time text (wall clock or elapsed, see LogViewer). */
  formatTime: (ts: string) => string;
  matcher: Matcher | null;
  /** The writer's colour when the run has several writers. */
  writerColor: string | null;
  highlighted: boolean;
  cursor: boolean;
  onLineClick: (line: number, extend: boolean) => void;
  /** A field chip was clicked: keep only lines with that value. */
  onFieldFilter: (expr: string) => void;
  /** "{…}" was clicked: show the line's fields as JSON. */
  onShowFields: (line: LogLine) => void;
  /** The row's view index (what names a fold). */
  index: number;
  /** A fold starts at this row: its lines (0 = none), kind and state. */
  foldLength: number;
  foldKind: FoldKind | null;
  foldOpen: boolean;
  /** An inner line of an open fold. */
  inFold: boolean;
  onToggleFold: (start: number) => void;
}

/** What a closed fold's row says of the lines it hides. */
function foldBadge(kind: FoldKind, length: number): string {
  if (kind === 'repeat') return `×${length.toLocaleString('en-US')}`;
  const more = (length - 1).toLocaleString('en-US');
  return kind === 'traceback' ? `traceback, +${more} lines` : `+${more} lines`;
}

const MAX_CHIPS = 6;

export const LogRow = memo(function LogRow({
  line,
  formatTime,
  matcher,
  writerColor,
  highlighted,
  cursor,
  onLineClick,
  onFieldFilter,
  onShowFields,
  index,
  foldLength,
  foldKind,
  foldOpen,
  inFold,
  onToggleFold,
}: LogRowProps) {
  const segs = messageSegments(line.message, matcher);
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    onLineClick(line.line_number, e.shiftKey);
  };
  return (
    <div
      className={`row lvl-${line.level}${highlighted ? ' hl' : ''}${cursor ? ' cursor' : ''}${line.context ? ' ctx' : ''}${inFold ? ' in-fold' : ''}`}
      data-line={line.line_number}
      data-index={index}
      data-level={line.level}
      data-source={line.source}
      data-writer={line.writer}
      data-fold={foldKind ? (foldOpen ? 'open' : 'closed') : undefined}
      style={writerColor ? ({ '--wr': writerColor } as CSSProperties) : undefined}
    >
      <a className="ln" href={`#L${line.line_number}`} onClick={click} title="Link to this line (Shift+click: a range)">
        {line.line_number}
      </a>
      <span className="ts" title={line.timestamp}>
        [{formatTime(line.timestamp)}]
      </span>
      <span className={`lvl ${line.level}`} title={line.level_name ? `${line.level_name} (counted as ${line.level})` : undefined}>
        {line.level_name ?? line.level}
      </span>
      <span className={`src ${line.source}`}>{line.source}</span>
      {writerColor && <span className="wr">{line.writer}</span>}
      <button
        className={`fold${foldKind ? '' : ' none'}`}
        data-testid={foldKind ? 'fold-toggle' : undefined}
        tabIndex={-1}
        aria-expanded={foldKind ? foldOpen : undefined}
        title={foldKind ? (foldOpen ? 'Fold these lines (Enter at the cursor)' : 'Show the folded lines (Enter at the cursor)') : undefined}
        disabled={!foldKind}
        onClick={() => foldKind && onToggleFold(index)}
      >
        {foldKind ? (foldOpen ? '▾' : '▸') : ''}
      </button>
      <span className="msg">
        {segs.map((s, i) =>
          s.match ? (
            <mark key={i} style={css(s.style)}>
              {s.text}
            </mark>
          ) : (
            <span key={i} style={css(s.style)}>
              {s.text}
            </span>
          ),
        )}
      </span>
      {foldKind && !foldOpen && (
        <button className="fold-badge" data-testid="fold-badge" tabIndex={-1} onClick={() => onToggleFold(index)}>
          {foldBadge(foldKind, foldLength)}
        </button>
      )}
      {line.fields && <FieldChips line={line} onFieldFilter={onFieldFilter} onShowFields={onShowFields} />}
    </div>
  );
});

function FieldChips({ line, onFieldFilter, onShowFields }: Pick<LogRowProps, 'line' | 'onFieldFilter' | 'onShowFields'>) {
  const chips = fieldChips(line.fields, MAX_CHIPS);
  const more = Object.keys(line.fields ?? {}).length - chips.length;
  return (
    <span className="fields" data-testid="fields">
      {chips.map((c) => (
        <button
          key={c.key}
          className="fchip"
          data-key={c.key}
          disabled={c.filter === null}
          title={c.filter ? `Show only lines with ${c.filter}` : undefined}
          onClick={() => c.filter && onFieldFilter(c.filter)}
        >
          <span className="fk">{c.key}</span>
          <span className="fv">{c.text}</span>
        </button>
      ))}
      <button className="fchip more" data-testid="show-fields" title="All fields as JSON" onClick={() => onShowFields(line)}>
        {more > 0 ? `+${more} {…}` : '{…}'}
      </button>
    </span>
  );
}

export function PlaceholderRow({ index }: { index: number }) {
  return (
    <div className="row placeholder" data-index={index}>
      <span className="ln"> </span>
      <span className="msg" />
    </div>
  );
}
