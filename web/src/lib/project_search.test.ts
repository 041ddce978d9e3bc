import { describe, expect, it } from 'vitest';
import { LineSplitter, matchCountLabel, matchViewerUrl, parseSearchRecord } from './project_search';
import { parseViewState } from './view_state';

describe('LineSplitter', () => {
  it('joins records split across pieces and keeps the unfinished tail', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n{"c":3}')).toEqual(['{"b":2}']);
    expect(s.rest()).toBe('{"c":3}');
    expect(s.push('\n')).toEqual(['{"c":3}']);
    expect(s.rest()).toBe('');
  });
});

describe('parseSearchRecord', () => {
  it('reads run, progress and end records and rejects anything else', () => {
    const run = { type: 'run', run: { id: 'r', name: 'n' }, matches: 3, lines: [] };
    expect(parseSearchRecord(JSON.stringify(run))).toEqual(run);
    expect(parseSearchRecord('{"type":"end","runs_scanned":5,"runs_matched":2,"next_cursor":null}')).toEqual({
      type: 'end',
      runs_scanned: 5,
      runs_matched: 2,
      next_cursor: null,
    });
    expect(parseSearchRecord('{"type":"end","runs_scanned":5,"runs_matched":2,"next_cursor":"9.x"}')?.type).toBe('end');
    expect(parseSearchRecord('not json')).toBeNull();
    expect(parseSearchRecord('{"type":"run","matches":"3"}')).toBeNull();
    expect(parseSearchRecord('{"type":"something-new"}')).toBeNull();
    expect(parseSearchRecord('{"type":"progress","runs_scanned":32}')).toEqual({ type: 'progress', runs_scanned: 32 });
    expect(parseSearchRecord('{"type":"progress"}')).toBeNull();
    expect(parseSearchRecord('null')).toBeNull();
  });
});

describe('matchViewerUrl', () => {
  it('opens the run with the search applied at the line, as the viewer parses it', () => {
    const url = matchViewerUrl('abc', 'CUDA out of memory', false, 42);
    expect(url).toBe('/runs/abc?q=CUDA+out+of+memory#L42');
    const [path, rest] = url.split('?');
    const [query, hash] = rest!.split('#');
    expect(path).toBe('/runs/abc');
    const v = parseViewState('?' + query, '#' + hash);
    expect([v.search, v.regex, v.line]).toEqual(['CUDA out of memory', false, 42]);
    expect(matchViewerUrl('abc', 'a|b', true, null)).toBe('/runs/abc?q=a%7Cb&regex=1');
  });
  it('counts in words', () => {
    expect(matchCountLabel(1)).toBe('1 match');
    expect(matchCountLabel(12345)).toBe('12,345 matches');
  });
});
