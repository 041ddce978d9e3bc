// The histogram's pure parts: when to refetch, how tall each level's segment is, and which time
// window a drag over bars selects.
import type { HistogramBucket, Level } from '../api/types';
import { LEVELS } from '../api/types';

/** Live lines refetch at most this often; a new filter fetches at once. */
export const HISTOGRAM_REFRESH_MS = 3000;

/** How long to wait before fetching: 0 for a new filter (its bars must not show the old one's),
 * otherwise what is left of the refresh interval since the last fetch started. */
export function histogramDelay(keyChanged: boolean, lastFetchAt: number | null, now: number): number {
  if (keyChanged || lastFetchAt === null) return 0;
  return Math.max(0, lastFetchAt + HISTOGRAM_REFRESH_MS - now);
}

export interface BarSegment {
  level: Level;
  /** Percent of the bar's full height. */
  height: number;
}

/** Segment heights on a log scale of the bucket totals (so 231 errors among 2M lines still show),
 * split by level in proportion; every non-empty level gets a visible minimum. */
export function barSegments(counts: Record<Level, number>, maxTotal: number): BarSegment[] {
  const total = LEVELS.reduce((n, l) => n + (counts[l] ?? 0), 0);
  if (!total || maxTotal <= 0) return [];
  const full = (Math.log10(1 + total) / Math.log10(1 + maxTotal)) * 100;
  return LEVELS.filter((l) => counts[l]).map((l) => ({ level: l, height: Math.max(8, (counts[l] / total) * full) }));
}

/** Whether a bucket holds errors (drawn with a marker at any scale). */
export function hasErrors(counts: Record<Level, number>): boolean {
  return (counts.ERROR ?? 0) + (counts.CRITICAL ?? 0) > 0;
}

/** The time window of bars a..b (either order), inclusive. */
export function dragWindow(buckets: readonly HistogramBucket[], a: number, b: number): { since: string; until: string } | null {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(buckets.length - 1, Math.max(a, b));
  if (!buckets.length || lo > hi) return null;
  return { since: buckets[lo]!.start, until: buckets[hi]!.end };
}
