import { describe, expect, it } from 'vitest';
import type { Problem } from '../api/types';
import {
  detailLines,
  kindLabel,
  occurrencesSuffix,
  problemsHeadline,
  problemsStale,
  problemTone,
  ranksSuffix,
  sortProblems,
  topProblemText,
} from './problems';

const base: Problem = {
  kind: 'cuda_oom',
  rule: 'cuda_oom',
  level: 'ERROR',
  title: 'torch.OutOfMemoryError: CUDA out of memory.',
  signature: 'cuda_oom',
  first_line: 12,
  last_line: 20,
  first_timestamp: '2024-11-16T10:00:00.000000Z',
  detected_at: '2024-11-16T10:00:01.000000Z',
  occurrences: 1,
  writer_count: 1,
};

describe('problems', () => {
  it('labels kinds, and project rules by their name', () => {
    expect(kindLabel(base)).toBe('CUDA OOM');
    expect(kindLabel({ kind: 'custom', rule: 'loader-died' })).toBe('loader-died');
    expect(kindLabel({ kind: 'something_new', rule: 'x' })).toBe('something_new');
  });
  it('says × N ranks only for several writers, and repeats beyond them', () => {
    expect(ranksSuffix(base)).toBe('');
    expect(ranksSuffix({ writer_count: 8 })).toBe('× 8 ranks');
    expect(occurrencesSuffix({ occurrences: 16, writer_count: 8 })).toBe('16×');
    expect(occurrencesSuffix({ occurrences: 8, writer_count: 8 })).toBe('');
  });
  it('orders by first line and heads with the count and the first line', () => {
    const list = [{ ...base, first_line: 40 }, { ...base, first_line: 3 }];
    expect(sortProblems(list).map((p) => p.first_line)).toEqual([3, 40]);
    expect(problemsHeadline(list)).toEqual({ count: 2, firstLine: 3 });
    expect(problemsHeadline([])).toEqual({ count: 0, firstLine: null });
  });
  it('folds the detail into its non-blank lines', () => {
    expect(detailLines({ detail: 'File "a.py", line 3, in f\n\nafter: KeyError: 1' })).toEqual([
      'File "a.py", line 3, in f',
      'after: KeyError: 1',
    ]);
    expect(detailLines({})).toEqual([]);
  });
  it('tones by level', () => {
    expect(problemTone({ level: 'CRITICAL' })).toBe('crit');
    expect(problemTone({ level: 'WARNING' })).toBe('warn');
    expect(problemTone({ level: 'INFO' })).toBe('info');
  });
  it('makes the runs list cell', () => {
    expect(topProblemText(null)).toBeNull();
    expect(topProblemText({ ...base, writer_count: 8 })).toEqual({ text: 'CUDA OOM × 8 ranks', title: base.title });
  });
  it('refreshes when the run stored more lines', () => {
    expect(problemsStale(null, 0)).toBe(true);
    expect(problemsStale(10, 10)).toBe(false);
    expect(problemsStale(10, 12)).toBe(true);
  });
});
