import { describe, expect, it } from 'vitest';
import type { LogLine } from '../api/types';
import { copyLines, selectionText, selectionTextWithFolds } from './copy_lines';

const line = (n: number, message: string): LogLine => ({
  run_id: 'r',
  line_number: n,
  timestamp: '2024-11-16T10:00:0' + n + '.000000Z',
  level: 'ERROR',
  source: 'stderr',
  writer: 'main',
  message,
});

describe('copy lines', () => {
  it('copies exactly the messages, escape codes stripped', () => {
    const lines = [line(1, 'Traceback (most recent call last):'), line(2, '  File "\u001b[1mx.py\u001b[0m", line 3'), line(3, 'ValueError: bad')];
    expect(copyLines(lines, { withMeta: false, formatTime: (t) => t })).toBe('Traceback (most recent call last):\n  File "x.py", line 3\nValueError: bad');
  });
  it('adds time and level when asked', () => {
    expect(copyLines([line(1, 'a')], { withMeta: true, formatTime: () => '10:00:01' })).toBe('10:00:01 ERROR a');
  });
  it('a selection keeps partial ends and whole messages between', () => {
    expect(selectionText(['hello world', 'middle', 'the end'], 6, 3)).toBe('world\nmiddle\nthe');
    expect(selectionText(['abc', 'def'], 0, null)).toBe('abc\ndef');
    expect(selectionText(['abcdef'], 1, 4)).toBe('bcd');
    expect(selectionText(['\u001b[31mred\u001b[0m text', 'x'], 4, null)).toBe('text\nx');
    expect(selectionText([], 0, null)).toBe('');
  });
});

describe('selection across closed folds', () => {
  const tb = { message: 'Traceback (most recent call last):', hidden: ['  File "x.py", line 3', 'ValueError: bad'] };
  it("gives a closed fold's hidden lines with its row", () => {
    expect(selectionTextWithFolds([{ message: 'before', hidden: null }, tb, { message: 'after', hidden: null }], 2, 3)).toBe(
      'fore\nTraceback (most recent call last):\n  File "x.py", line 3\nValueError: bad\naft',
    );
  });
  it('a selection ending at the end of a closed fold row takes the whole fold', () => {
    expect(selectionTextWithFolds([{ message: 'before', hidden: null }, tb], 0, tb.message.length)).toBe(
      'before\nTraceback (most recent call last):\n  File "x.py", line 3\nValueError: bad',
    );
    expect(selectionTextWithFolds([tb], 0, null)).toBe('Traceback (most recent call last):\n  File "x.py", line 3\nValueError: bad');
  });
  it("a selection ending inside a closed fold row's text takes only that part", () => {
    expect(selectionTextWithFolds([{ message: 'before', hidden: null }, tb], 0, 9)).toBe('before\nTraceback');
    expect(selectionTextWithFolds([tb], 10, 15)).toBe('(most');
  });
});
