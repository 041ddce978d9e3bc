import { describe, expect, it } from 'vitest';
import { parseAnsi } from './ansi';
import {
  buildMatcher,
  formatDuration,
  formatTimestamp,
  highlight,
  messageSegments,
  parseTimestamp,
} from './line_format';
import { formatElapsed, gutterWidth, zoneLabel } from './line_format';

describe('timestamps', () => {
  it('parses microsecond UTC timestamps', () => {
    expect(parseTimestamp('2024-11-16T10:00:00.123456Z').toISOString()).toBe('2024-11-16T10:00:00.123Z');
    expect(parseTimestamp('2024-11-16T10:00:00Z').toISOString()).toBe('2024-11-16T10:00:00.000Z');
  });

  it('formats in local time, short and full', () => {
    const ts = '2024-11-16T10:00:05.250000Z';
    const d = new Date(Date.UTC(2024, 10, 16, 10, 0, 5, 250));
    const hh = String(d.getHours()).padStart(2, '0');
    expect(formatTimestamp(ts, false)).toBe(`${hh}:00:05`);
    expect(formatTimestamp(ts, true)).toMatch(new RegExp(`^2024-11-1\\d ${hh}:00:05\\.250$`));
    expect(formatTimestamp('garbage', false)).toBe('garbage');
  });
});

describe('matchers', () => {
  it('substring search is case-insensitive and finds every occurrence', () => {
    const { matcher } = buildMatcher('Ab', false);
    expect(matcher!('xabyABzab')).toEqual([
      [1, 3],
      [4, 6],
      [7, 9],
    ]);
  });

  it('regex search, including (?i) and zero-length matches', () => {
    expect(buildMatcher('l[o0]ss=\\d+', true).matcher!('loss=12 l0ss=3')).toEqual([
      [0, 7],
      [8, 14],
    ]);
    expect(buildMatcher('(?i)err', true).matcher!('ERR err')).toEqual([
      [0, 3],
      [4, 7],
    ]);
    expect(buildMatcher('x*', true).matcher!('abxxc')).toEqual([[2, 4]]);
    expect(buildMatcher('(?P<n>\\d+)ms', true).matcher!('took 12ms')).toEqual([[5, 9]]);
  });

  it('reports a bad regex instead of throwing', () => {
    const r = buildMatcher('(', true);
    expect(r.matcher).toBeNull();
    expect(r.error).toBeTruthy();
    expect(buildMatcher('', true).matcher).toBeNull();
  });
});

describe('highlight', () => {
  it('splits across ANSI spans', () => {
    const spans = parseAnsi('ab\u001b[31mcdef\u001b[0mgh');
    const segs = highlight(spans, [[1, 3], [5, 7]]);
    expect(segs.map((s) => [s.text, s.match])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
      ['de', false],
      ['f', true],
      ['g', true],
      ['h', false],
    ]);
    expect(segs[2]!.style.fg).not.toBeNull();
  });

  it('leaves text intact without matches and preserves whitespace', () => {
    const segs = messageSegments('  a\tb  ', buildMatcher('zzz', false).matcher);
    expect(segs.map((s) => s.text).join('')).toBe('  a\tb  ');
    expect(segs.every((s) => !s.match)).toBe(true);
  });

  it('matches on visible text, not on escape codes', () => {
    const segs = messageSegments('\u001b[31mred\u001b[0m', buildMatcher('31m', false).matcher);
    expect(segs.some((s) => s.match)).toBe(false);
  });
});

describe('formatDuration', () => {
  it('formats', () => {
    expect(formatDuration(5_000)).toBe('5s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_600_000 + 120_000)).toBe('1h 02m');
    expect(formatDuration(-1)).toBe('—');
  });
});

describe('gutter width', () => {
  it('grows with the digits of the last line number', () => {
    expect(gutterWidth(41)).toBe('5ch');
    expect(gutterWidth(1_234_567)).toBe('8ch');
    expect(gutterWidth(10_000_000)).toBe('9ch');
  });
});

describe('elapsed time and zone', () => {
  it('formats time since the first line', () => {
    expect(formatElapsed('2024-01-01T00:00:01.250000Z', '2024-01-01T00:00:00Z')).toBe('+0:01.250');
    expect(formatElapsed('2024-01-01T02:03:04Z', '2024-01-01T00:00:00Z')).toBe('+2:03:04.000');
    expect(formatElapsed('2024-01-01T00:00:00Z', '2024-01-01T00:00:02Z')).toBe('-0:02.000');
  });
  it('names the zone with its offset', () => {
    expect(zoneLabel(new Date(), 'Europe/Berlin')).toMatch(/^Europe\/Berlin \(UTC[+-]\d\d:\d\d\)$/);
  });
});
