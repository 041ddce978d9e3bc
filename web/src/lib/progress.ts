// Progress lines: the newest state of a line still being written (a progress bar between its
// \r's), one per writer and stream. They are shown under the log, never stored; a line that
// arrives from the same writer and stream replaces its progress (DESIGN §6, doc/api.md).
import type { LogLine, ProgressLine } from '../api/types';

export type ProgressMap = ReadonlyMap<string, ProgressLine>;

function keyOf(writer: string, source: string): string {
  return `${writer}\u0000${source}`;
}

/** The map with `p` as the newest state of its writer/stream. */
export function applyProgress(map: ProgressMap, p: ProgressLine): ProgressMap {
  const next = new Map(map);
  next.set(keyOf(p.writer, p.source), p);
  return next;
}

/** The map without the streams that just produced finished lines (same map if none). */
export function settleProgress(map: ProgressMap, lines: readonly LogLine[]): ProgressMap {
  if (map.size === 0) return map;
  let next: Map<string, ProgressLine> | null = null;
  for (const l of lines) {
    const k = keyOf(l.writer, l.source);
    if ((next ?? map).has(k)) {
      next ??= new Map(map);
      next.delete(k);
    }
  }
  return next ?? map;
}

/** In a stable order for display: by writer, then stream. */
export function progressRows(map: ProgressMap): ProgressLine[] {
  return [...map.values()].sort((a, b) => a.writer.localeCompare(b.writer) || a.source.localeCompare(b.source));
}
