import { describe, expect, it } from 'vitest';
import { missingLineNote } from './line_check';

describe('missing line', () => {
  const s = { first_line: 1, last_line: 41, total: 41 };
  it('says when a line is past the end or before the start', () => {
    expect(missingLineNote(9999, s)).toBe('Line 9,999 does not exist (this run has lines 1–41)');
    expect(missingLineNote(3, { first_line: 10, last_line: 10, total: 1 })).toBe('Line 3 does not exist (this run has line 10)');
    expect(missingLineNote(5, { first_line: 0, last_line: 100, total: 0 })).toMatch(/no lines/);
  });
  it('is quiet for an existing line or before the summary is known', () => {
    expect(missingLineNote(41, s)).toBeNull();
    expect(missingLineNote(1, s)).toBeNull();
    expect(missingLineNote(5, null)).toBeNull();
  });
});
