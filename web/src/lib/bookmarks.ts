// Bookmarks in the viewer: their order, their labels and the permalink each one is. Pure
// functions, tested in bookmarks.test.ts.
import type { Bookmark } from '../api/types';
import { lineHash } from './view_state';

/** In line order (then oldest first), as a side panel lists them. */
export function sortBookmarks(list: readonly Bookmark[]): Bookmark[] {
  return [...list].sort((a, b) => a.line - b.line || a.last_line - b.last_line || a.id - b.id);
}

/** "L42" or "L10–L20". */
export function bookmarkLabel(b: Pick<Bookmark, 'line' | 'last_line'>): string {
  return b.last_line !== b.line ? `L${b.line}–L${b.last_line}` : `L${b.line}`;
}

/** The viewer's hash for a bookmark (#L42 or #L10-L20). */
export function bookmarkHash(b: Pick<Bookmark, 'line' | 'last_line'>): string {
  return lineHash(b.line, b.last_line === b.line ? null : b.last_line);
}

/** The bookmark covering `line`, if any (the gutter marks such lines). */
export function bookmarkAt(list: readonly Bookmark[], line: number): Bookmark | null {
  return list.find((b) => line >= b.line && line <= b.last_line) ?? null;
}

/** The server's limit on a note. */
export const MAX_NOTE_BYTES = 2000;

export function noteTooLong(note: string): boolean {
  return new TextEncoder().encode(note).length > MAX_NOTE_BYTES;
}
