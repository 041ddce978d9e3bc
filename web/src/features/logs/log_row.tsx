import { memo, type CSSProperties, type MouseEvent } from 'react';
import type { LogLine } from '../../api/types';
import type { AnsiStyle } from '../../lib/ansi';
import { fieldChips } from '../../lib/fields';
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
}: LogRowProps) {
  const segs = messageSegments(line.message, matcher);
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    onLineClick(line.line_number, e.shiftKey);
  };
  return (
    <div
      className={`row lvl-${line.level}${highlighted ? ' hl' : ''}${cursor ? ' cursor' : ''}${line.context ? ' ctx' : ''}`}
      data-line={line.line_number}
      data-level={line.level}
      data-source={line.source}
      data-writer={line.writer}
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
