import { describe, expect, it } from 'vitest';
import type { LogLine, ProgressLine } from '../api/types';
import { applyProgress, progressRows, settleProgress, type ProgressMap } from './progress';

const p = (writer: string, source: ProgressLine['source'], message: string): ProgressLine => ({
  type: 'progress',
  writer,
  source,
  level: 'INFO',
  timestamp: '2024-11-16T10:00:00.000000Z',
  message,
});
const line = (writer: string, source: LogLine['source'], n: number): LogLine => ({
  run_id: 'r',
  line_number: n,
  timestamp: '2024-11-16T10:00:00.000000Z',
  level: 'INFO',
  source,
  writer,
  message: 'done',
});

describe('progress lines', () => {
  it('keeps only the newest state per writer and stream', () => {
    let m: ProgressMap = new Map();
    m = applyProgress(m, p('main', 'stdout', '10%'));
    m = applyProgress(m, p('main', 'stdout', '20%'));
    m = applyProgress(m, p('main', 'stderr', 'x'));
    m = applyProgress(m, p('rank-1', 'stdout', '5%'));
    expect(progressRows(m).map((r) => `${r.writer}/${r.source}=${r.message}`)).toEqual([
      'main/stderr=x',
      'main/stdout=20%',
      'rank-1/stdout=5%',
    ]);
  });

  it('a finished line from the same writer and stream replaces its progress', () => {
    let m: ProgressMap = new Map();
    m = applyProgress(m, p('main', 'stdout', '99%'));
    m = applyProgress(m, p('rank-1', 'stdout', '5%'));
    const settled = settleProgress(m, [line('main', 'stdout', 7)]);
    expect(progressRows(settled).map((r) => r.writer)).toEqual(['rank-1']);
    // Lines from other streams leave it alone, and the same map comes back (no re-render).
    expect(settleProgress(settled, [line('main', 'stderr', 8)])).toBe(settled);
  });
});
