import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIEW,
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
      search: 'loss = 0.5 & more',
      regex: true,
      onlyMatches: true,
      wrap: true,
      fullDate: true,
      line: 1234,
    };
    const q = viewStateQuery(s);
    const back = parseViewState(q, lineHash(s.line));
    expect(back).toEqual({ ...s, writers: ['rank-0', 'rank-1'] });
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
    expect(viewFilters({ ...s, onlyMatches: true })).toMatchObject({ search: 'x', regex: true });
    expect(matchFilters(s)).toMatchObject({ search: 'x', regex: true });
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
