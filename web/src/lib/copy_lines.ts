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
