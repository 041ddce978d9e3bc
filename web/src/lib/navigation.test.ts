import { describe, expect, it } from 'vitest';
import type { LogLine, ServerFilters } from '../api/types';
import { errorFilters, findError, findMatch, findMatchInTime, type NavApi } from './navigation';

const NONE: ServerFilters = { levels: [], sources: [], writers: [], search: '', regex: false };

/** Lines 1..100; line n matches the search when n % 10 === 3; ERROR when n % 25 === 0. */
function fakeApi(): NavApi {
  const mk = (n: number) => ({ line_number: n, level: n % 25 === 0 ? 'ERROR' : 'INFO' }) as LogLine;
  const all = Array.from({ length: 100 }, (_, i) => mk(i + 1));
  const match = (f: ServerFilters | null, l: LogLine) =>
    (!f?.search || l.line_number % 10 === 3) && (!f?.levels.length || f.levels.includes(l.level));
  return {
    listLogs: async (_id, f, p) => {
      let ls = all.filter((l) => match(f, l));
      if (p.afterLine !== undefined) ls = ls.filter((l) => l.line_number > p.afterLine!);
      if (p.beforeLine !== undefined) ls = ls.filter((l) => l.line_number < p.beforeLine!);
      if (p.order === 'desc') ls.reverse();
      return { logs: ls.slice(0, p.limit ?? 500), has_more: false };
    },
    locate: async (_id, f, line) => {
      const ls = all.filter((l) => match(f, l));
      return { index: ls.filter((l) => l.line_number < line).length, total: ls.length };
    },
  };
}

describe('findMatch', () => {
  const f = { ...NONE, search: 'x' };
  it('finds the next and previous match with its ordinal', async () => {
    expect(await findMatch(fakeApi(), 'r', f, 0, 1)).toEqual({ line: 3, ordinal: 1, total: 10, wrapped: false });
    expect(await findMatch(fakeApi(), 'r', f, 3, 1)).toEqual({ line: 13, ordinal: 2, total: 10, wrapped: false });
    expect(await findMatch(fakeApi(), 'r', f, 13, -1)).toEqual({ line: 3, ordinal: 1, total: 10, wrapped: false });
  });
  it('wraps around both ends', async () => {
    expect(await findMatch(fakeApi(), 'r', f, 93, 1)).toEqual({ line: 3, ordinal: 1, total: 10, wrapped: true });
    expect(await findMatch(fakeApi(), 'r', f, 3, -1)).toEqual({ line: 93, ordinal: 10, total: 10, wrapped: true });
  });
  it('returns null without matches', async () => {
    const api = fakeApi();
    api.listLogs = async () => ({ logs: [], has_more: false });
    expect(await findMatch(api, 'r', f, 0, 1)).toBeNull();
  });
});

/** Two writers' batches: lines 1..50 stamped 0, 2, 4, ... and lines 51..100 stamped 1, 3, 5, ...,
 * so in time order line 51 comes right after line 1. Matches: n % 10 === 3. */
function timeApi(): NavApi {
  const ts = (n: number) => `2024-01-01T00:00:${String(n <= 50 ? 2 * (n - 1) : 2 * (n - 51) + 1).padStart(3, '0')}.000000Z`;
  const all = Array.from({ length: 100 }, (_, i) => ({ line_number: i + 1, timestamp: ts(i + 1), level: 'INFO' }) as LogLine);
  const byTime = [...all].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.line_number - b.line_number));
  const view = (f: ServerFilters | null, upTo: number) =>
    byTime.filter((l) => l.line_number <= upTo && (!f?.search || l.line_number % 10 === 3));
  return {
    listLogs: async (_id, f, p) => {
      expect(p.sort).toBe('time');
      return { logs: view(f, p.upToLine!).slice(p.offset!, p.offset! + (p.limit ?? 500)), has_more: false };
    },
    locate: async (_id, f, line, _s, v) => {
      expect(v?.sort).toBe('time');
      const ls = view(f, v!.upToLine!);
      const held = ls.filter((l) => l.line_number >= line).sort((a, b) => a.line_number - b.line_number)[0];
      return { index: held ? ls.indexOf(held) : ls.length, total: ls.length };
    },
  };
}

describe('findMatchInTime', () => {
  const f = { ...NONE, search: 'x' };
  const tv = { base: NONE, upToLine: 100 };
  // display order of the matches: 3, 53, 13, 63, 23, 73, 33, 83, 43, 93
  it('steps in display order, not line order', async () => {
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 0, 1)).toEqual({ line: 3, ordinal: 1, total: 10, wrapped: false });
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 3, 1)).toEqual({ line: 53, ordinal: 2, total: 10, wrapped: false });
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 53, 1)).toEqual({ line: 13, ordinal: 3, total: 10, wrapped: false });
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 13, -1)).toEqual({ line: 53, ordinal: 2, total: 10, wrapped: false });
  });
  it('from a line that is not a match, finds the neighbours in display order', async () => {
    // line 55 is shown between 5 and 6: the next match is 13, the previous 53
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 55, 1)).toMatchObject({ line: 13, ordinal: 3 });
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 55, -1)).toMatchObject({ line: 53, ordinal: 2 });
  });
  it('wraps around both ends', async () => {
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 93, 1)).toEqual({ line: 3, ordinal: 1, total: 10, wrapped: true });
    expect(await findMatchInTime(timeApi(), 'r', f, tv, 3, -1)).toEqual({ line: 93, ordinal: 10, total: 10, wrapped: true });
  });
});

describe('errors', () => {
  it('limits to ERROR/CRITICAL within the view', () => {
    expect(errorFilters(NONE)!.levels).toEqual(['ERROR', 'CRITICAL']);
    expect(errorFilters({ ...NONE, levels: ['INFO', 'CRITICAL'] })!.levels).toEqual(['CRITICAL']);
    expect(errorFilters({ ...NONE, levels: ['INFO'] })).toBeNull();
  });
  it('finds the first and next error', async () => {
    const f = errorFilters(NONE)!;
    expect(await findError(fakeApi(), 'r', f, 0)).toBe(25);
    expect(await findError(fakeApi(), 'r', f, 25)).toBe(50);
    expect(await findError(fakeApi(), 'r', f, 100)).toBeNull();
  });
});
