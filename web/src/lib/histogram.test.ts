import { describe, expect, it } from 'vitest';
import type { HistogramBucket, Level } from '../api/types';
import { barSegments, dragWindow, hasErrors, histogramDelay, HISTOGRAM_REFRESH_MS } from './histogram';

const counts = (c: Partial<Record<Level, number>>) => ({ DEBUG: 0, INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0, ...c });

describe('histogram', () => {
  it('fetches a new filter at once, live refreshes throttled', () => {
    expect(histogramDelay(true, 1000, 1500)).toBe(0);
    expect(histogramDelay(false, null, 1500)).toBe(0);
    expect(histogramDelay(false, 1000, 1500)).toBe(HISTOGRAM_REFRESH_MS - 500);
    expect(histogramDelay(false, 1000, 1000 + HISTOGRAM_REFRESH_MS + 1)).toBe(0);
  });

  it('keeps a few errors visible next to a million lines', () => {
    const big = barSegments(counts({ INFO: 1_000_000 }), 1_000_000);
    expect(big[0]!.height).toBeCloseTo(100);
    const few = barSegments(counts({ INFO: 20_000, ERROR: 3 }), 1_000_000);
    const err = few.find((s) => s.level === 'ERROR')!;
    expect(err.height).toBeGreaterThanOrEqual(8);
    expect(few.find((s) => s.level === 'INFO')!.height).toBeGreaterThan(50); // log scale
    expect(barSegments(counts({}), 10)).toEqual([]);
    expect(hasErrors(counts({ CRITICAL: 1 }))).toBe(true);
    expect(hasErrors(counts({ WARNING: 5 }))).toBe(false);
  });

  it('a drag selects the window of the bars it covers, in any direction', () => {
    const b = (i: number): HistogramBucket => ({ start: `t${i}`, end: `t${i + 1}`, first_line: i, counts: counts({}) });
    const buckets = [b(0), b(1), b(2), b(3)];
    expect(dragWindow(buckets, 1, 2)).toEqual({ since: 't1', until: 't3' });
    expect(dragWindow(buckets, 3, 0)).toEqual({ since: 't0', until: 't4' });
    expect(dragWindow([], 0, 1)).toBeNull();
  });
});
