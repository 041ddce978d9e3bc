// "Go to line" on a line that does not exist says so instead of doing nothing.
import type { LogSummary } from '../api/types';

/** Why `line` cannot be shown (null when it exists or may exist). */
export function missingLineNote(line: number, summary: Pick<LogSummary, 'first_line' | 'last_line' | 'total'> | null): string | null {
  if (!summary) return null;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (!summary.total || !summary.first_line || !summary.last_line) return `Line ${fmt(line)} does not exist: this run has no lines`;
  if (line > summary.last_line || line < summary.first_line) {
    const span = summary.first_line === summary.last_line ? `line ${fmt(summary.first_line)}` : `lines ${fmt(summary.first_line)}–${fmt(summary.last_line)}`;
    return `Line ${fmt(line)} does not exist (this run has ${span})`;
  }
  return null;
}
