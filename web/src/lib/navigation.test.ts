import { describe, expect, it } from 'vitest';
import type { LogLine, ServerFilters } from '../api/types';
import { errorFilters, findError, findMatch, type NavApi } from './navigation';

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
