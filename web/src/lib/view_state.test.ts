import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIEW,
  effectiveSearch,
  parseLineRange,
  filtersKey,
  isUnfiltered,
  lineHash,
  matchFilters,
  parseLineHash,
  parseViewState,
  toggle,
  viewFilters,
  viewStateQuery,
  type ViewState,
} from './view_state';

describe('view state <-> URL', () => {
  it('parses an empty URL to the defaults', () => {
    expect(parseViewState('', '')).toEqual(DEFAULT_VIEW);
  });

  it('round-trips a full state', () => {
    const s: ViewState = {
      levels: ['WARNING', 'ERROR'],
      sources: ['stderr'],
      writers: ['rank-1', 'rank-0'],
      fields: ['loss>1.5', 'data.gpu=0'],
      search: 'loss = 0.5 & more',
      regex: true,
      onlyMatches: true,
      wrap: true,
      fullDate: true,
      caseSensitive: true,
      wholeWord: true,
      context: 3,
      time: 'elapsed',
      fold: false,
      sort: 'time',
      since: '2024-11-16T10:00:00Z',
      until: '2024-11-16T11:00:00Z',
      line: 1234,
      lineEnd: 1240,
    };
    const q = viewStateQuery(s);
    const back = parseViewState(q, lineHash(s.line, s.lineEnd));
    expect(back).toEqual({ ...s, writers: ['rank-0', 'rank-1'] });
  });

  it('folds by default and keeps fold=0 and sort=time in the URL', () => {
    expect(DEFAULT_VIEW.fold).toBe(true);
    expect(parseViewState('?fold=0', '').fold).toBe(false);
    expect(parseViewState('?fold=1&sort=bogus', '')).toMatchObject({ fold: true, sort: 'line' });
    expect(viewStateQuery({ ...DEFAULT_VIEW, fold: false, sort: 'time' })).toBe('?fold=0&sort=time');
  });

  it('serialises canonically and omits defaults', () => {
    expect(viewStateQuery(DEFAULT_VIEW)).toBe('');
    const a = viewStateQuery({ ...DEFAULT_VIEW, levels: ['ERROR', 'DEBUG'] });
    const b = viewStateQuery({ ...DEFAULT_VIEW, levels: ['DEBUG', 'ERROR'] });
    expect(a).toBe(b);
    expect(a).toBe('?level=DEBUG%2CERROR');
  });

  it('drops unknown levels and sources, accepts any case', () => {
    const s = parseViewState('?level=error,bogus,Info&source=STDOUT,nope', '');
    expect(s.levels).toEqual(['INFO', 'ERROR']);
    expect(s.sources).toEqual(['stdout']);
  });

  it('parses line hashes strictly', () => {
    expect(parseLineHash('#L42')).toBe(42);
    expect(parseLineHash('L7')).toBe(7);
    expect(parseLineHash('#L0')).toBeNull();
    expect(parseLineHash('#Lx')).toBeNull();
    expect(parseLineHash('')).toBeNull();
    expect(lineHash(null)).toBe('');
  });
});

describe('filters', () => {
  it('search filters the view only in only-matches mode', () => {
    const s = { ...DEFAULT_VIEW, search: 'x', regex: true };
    expect(viewFilters(s).search).toBe('');
    expect(viewFilters(s).regex).toBe(false);
    expect(isUnfiltered(viewFilters(s))).toBe(true);
    expect(viewFilters({ ...s, onlyMatches: true })).toMatchObject({ search: '(?i)x', regex: true });
    expect(matchFilters(s)).toMatchObject({ search: '(?i)x', regex: true });
    expect(matchFilters({ ...s, caseSensitive: true })).toMatchObject({ search: 'x', regex: true });
  });

  it('turns the case and whole-word toggles into one RE2 pattern', () => {
    const s = { ...DEFAULT_VIEW, search: 'a.b' };
    expect(effectiveSearch(s)).toEqual({ search: 'a.b', regex: false });
    expect(effectiveSearch({ ...s, caseSensitive: true })).toEqual({ search: 'a\\.b', regex: true });
    expect(effectiveSearch({ ...s, wholeWord: true })).toEqual({ search: '(?i)\\b(?:a\\.b)\\b', regex: true });
    expect(effectiveSearch({ ...s, regex: true, wholeWord: true, caseSensitive: true })).toEqual({ search: '\\b(?:a.b)\\b', regex: true });
    expect(effectiveSearch({ ...s, search: '' , regex: true })).toEqual({ search: '', regex: false });
  });

  it('parses line ranges, in either order, and writes them back', () => {
    expect(parseLineRange('#L10-L20')).toEqual({ first: 10, last: 20 });
    expect(parseLineRange('#L20-10')).toEqual({ first: 10, last: 20 });
    expect(parseLineRange('#L5')).toEqual({ first: 5, last: 5 });
    expect(parseLineRange('#L5-')).toBeNull();
    expect(lineHash(10, 20)).toBe('#L10-L20');
    expect(lineHash(10, 10)).toBe('#L10');
    const v = parseViewState('', '#L10-L20');
    expect([v.line, v.lineEnd]).toEqual([10, 20]);
  });

  it('puts the time window and context into the filters, bounded', () => {
    const v = parseViewState('?q=x&only=1&context=99&since=2024-11-16T10:00:00Z&until=nonsense', '');
    expect(v.context).toBe(20);
    expect(v.until).toBeNull();
    const f = viewFilters(v);
    expect(f).toMatchObject({ since: '2024-11-16T10:00:00Z', context: 20 });
    expect(isUnfiltered(viewFilters({ ...DEFAULT_VIEW, since: 'x' }))).toBe(false);
    expect(viewFilters({ ...v, onlyMatches: false }).context).toBeUndefined();
  });

  it('keys filters by content', () => {
    const a = viewFilters({ ...DEFAULT_VIEW, levels: ['ERROR'] });
    const b = viewFilters({ ...DEFAULT_VIEW, levels: ['ERROR'] });
    expect(filtersKey(a)).toBe(filtersKey(b));
    expect(filtersKey(a)).not.toBe(filtersKey(viewFilters(DEFAULT_VIEW)));
    expect(isUnfiltered(a)).toBe(false);
  });

  it('toggles list members', () => {
    expect(toggle(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggle(['a', 'b'], 'a')).toEqual(['b']);
  });
});
