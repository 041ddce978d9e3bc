import { describe, expect, it } from 'vitest';
import type { Problem } from '../api/types';
import { hitsByRun, hitsHeadline, type ProjectProblemRow } from './project_problems';

const p = (first_line: number): Problem => ({
  kind: 'cuda_oom',
  rule: 'cuda_oom',
  level: 'ERROR',
  title: 'CUDA out of memory',
  signature: `s${first_line}`,
  first_line,
  last_line: first_line,
  first_timestamp: '2024-11-16T10:00:00Z',
  detected_at: '2024-11-16T10:00:00Z',
  occurrences: 1,
  writer_count: 1,
});
const run = (id: string) => ({ id, name: id, state: 'failed', created_at: '2024-11-16T10:00:00Z' });

describe('project problems', () => {
  it('groups events by run, keeping the server order of runs', () => {
    const rows: ProjectProblemRow[] = [
      { run: run('b'), problem: p(90) },
      { run: run('a'), problem: p(5) },
      { run: run('b'), problem: p(40) },
    ];
    const hits = hitsByRun(rows);
    expect(hits.map((h) => [h.run.id, h.firstLine, h.problems.map((x) => x.first_line)])).toEqual([
      ['b', 40, [40, 90]],
      ['a', 5, [5]],
    ]);
  });
  it('says how many runs', () => {
    expect(hitsHeadline(0, 'CUDA OOM', 'this week (7 days)')).toBe('No run hit CUDA OOM this week (7 days)');
    expect(hitsHeadline(1, 'NaN loss', 'today (24 h)')).toBe('1 run hit NaN loss today (24 h)');
    expect(hitsHeadline(3, 'CUDA OOM', 'this week (7 days)')).toBe('3 runs hit CUDA OOM this week (7 days)');
  });
});
