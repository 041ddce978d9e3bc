import { describe, expect, it } from 'vitest';
import { anyRunning, mergeRefreshed, runDuration, runLabel } from './runs';

describe('run helpers', () => {
  const base = { created_at: '2024-01-01T00:00:00.000000Z', finished_at: null, state: 'running' as const };
  it('computes durations for running and finished runs', () => {
    expect(runDuration(base, Date.UTC(2024, 0, 1, 0, 1, 5))).toBe('1m 05s');
    expect(runDuration({ ...base, state: 'finished', finished_at: '2024-01-01T00:00:09.5Z' }, 0)).toBe('9s');
    expect(runDuration({ ...base, state: 'crashed' }, 0)).toBe('—');
  });
  it('labels and detects running', () => {
    expect(runLabel({ name: '', id: '0123456789' })).toBe('01234567');
    expect(runLabel({ name: 'x', id: '0' })).toBe('x');
    expect(anyRunning([{ state: 'finished' }, { state: 'running' }])).toBe(true);
    expect(anyRunning([])).toBe(false);
  });
});

describe('merging a refreshed first page', () => {
  const r = (id: string) => ({ id });
  it('replaces the head and keeps later pages', () => {
    const loaded = ['a', 'b', 'c', 'd', 'e'].map(r);
    expect(mergeRefreshed(['n', 'a', 'b'].map(r), loaded).map((x) => x.id)).toEqual(['n', 'a', 'b', 'c', 'd', 'e']);
    expect(mergeRefreshed(['a', 'c'].map(r), loaded).map((x) => x.id)).toEqual(['a', 'c', 'd', 'e']); // b deleted
    expect(mergeRefreshed(['x', 'y'].map(r), ['a', 'b', 'c'].map(r)).map((x) => x.id)).toEqual(['x', 'y', 'c']);
    expect(mergeRefreshed(['a'].map(r), ['a'].map(r)).map((x) => x.id)).toEqual(['a']);
  });
});
