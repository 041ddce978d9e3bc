import { describe, expect, it } from 'vitest';
import type { Bookmark } from '../api/types';
import { bookmarkAt, bookmarkHash, bookmarkLabel, noteTooLong, sortBookmarks } from './bookmarks';

const bm = (id: number, line: number, last_line = line): Bookmark => ({
  id,
  run_id: 'r',
  line,
  last_line,
  note: '',
  created_by: '',
  created_at: '2024-11-16T10:00:00Z',
});

describe('bookmarks', () => {
  it('sorts by line, then range end, then age', () => {
    expect(sortBookmarks([bm(3, 50), bm(1, 10, 20), bm(2, 10), bm(4, 10)]).map((b) => b.id)).toEqual([2, 4, 1, 3]);
  });
  it('labels and links lines and ranges', () => {
    expect(bookmarkLabel(bm(1, 42))).toBe('L42');
    expect(bookmarkLabel(bm(1, 10, 20))).toBe('L10–L20');
    expect(bookmarkHash(bm(1, 42))).toBe('#L42');
    expect(bookmarkHash(bm(1, 10, 20))).toBe('#L10-L20');
  });
  it('finds the bookmark covering a line', () => {
    const list = [bm(1, 10, 20), bm(2, 30)];
    expect(bookmarkAt(list, 15)?.id).toBe(1);
    expect(bookmarkAt(list, 30)?.id).toBe(2);
    expect(bookmarkAt(list, 25)).toBeNull();
  });
  it('counts a note in bytes as the server does', () => {
    expect(noteTooLong('a'.repeat(2000))).toBe(false);
    expect(noteTooLong('é'.repeat(1001))).toBe(true);
  });
});
