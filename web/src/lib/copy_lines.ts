// What "copy" puts on the clipboard: the messages' visible text (escape codes stripped), one per
// line, never the gutter (line numbers, times, levels, sources, writers).
import type { LogLine } from '../api/types';
import { stripAnsi as plainText } from './ansi';

export interface CopyOptions {
  /** Prefix each message with its time and level. */
  withMeta: boolean;
  formatTime: (ts: string) => string;
}

export function copyLines(lines: readonly LogLine[], opts: CopyOptions): string {
  return lines
    .map((l) => {
      const msg = plainText(l.message);
      return opts.withMeta ? `${opts.formatTime(l.timestamp)} ${l.level} ${msg}` : msg;
    })
    .join('\n');
}

/** A selection across rows: the first row from `startOffset` of its visible message text, the
 * last up to `endOffset` (null = whole message), whole messages in between. */
export function selectionText(messages: readonly string[], startOffset: number, endOffset: number | null): string {
  if (!messages.length) return '';
  const plain = messages.map(plainText);
  if (plain.length === 1) return plain[0]!.slice(startOffset, endOffset ?? undefined);
  const last = plain.length - 1;
  return plain
    .map((m, i) => (i === 0 ? m.slice(startOffset) : i === last && endOffset !== null ? m.slice(0, endOffset) : m))
    .join('\n');
}

/** A row a selection crosses: its message and, for a closed fold's row, the messages of the
 * lines the fold hides (null otherwise). */
export interface SelectedRow {
  message: string;
  hidden: readonly string[] | null;
}

/** selectionText over rows that may be closed folds: a closed fold's hidden lines are selected
 * with its row, unless the selection ends inside that row's own text (then only that part of its
 * first line was selected). */
export function selectionTextWithFolds(rows: readonly SelectedRow[], startOffset: number, endOffset: number | null): string {
  const last = rows.length - 1;
  const lastRow = rows[last];
  const cutInLast = !!lastRow?.hidden && endOffset !== null && endOffset < plainText(lastRow.message).length;
  const messages: string[] = [];
  rows.forEach((r, i) => {
    messages.push(r.message);
    if (r.hidden && !(i === last && cutInLast)) messages.push(...r.hidden);
  });
  const lastExpanded = !!lastRow?.hidden?.length && !cutInLast;
  return selectionText(messages, startOffset, lastExpanded ? null : endOffset);
}
